"""Mail: the landing of drop folders and IMAP into ``raw.emails``, its sensor and IMAP
poll, and its Great Expectations suite."""

import dagster as dg

from orchestration.checks import suite_checks
from orchestration.defs.mail.assets import raw_emails
from orchestration.defs.mail.automation import imap_poll_schedule, mail_drop_sensor, mail_job
from orchestration.defs.mail.checks import SUITES

defs = dg.Definitions(
    assets=[raw_emails],
    asset_checks=suite_checks(SUITES),
    jobs=[mail_job],
    sensors=[mail_drop_sensor],
    schedules=[imap_poll_schedule],
)
