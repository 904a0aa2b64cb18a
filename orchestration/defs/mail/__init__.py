"""Mail: the landing of drop folders and IMAP into ``raw.emails``, its sensor and IMAP
poll (both start the ``mail_to_cards`` job, see orchestration/defs/pipelines), and its
Great Expectations suite."""

import dagster as dg

from orchestration.checks import suite_checks
from orchestration.defs.mail.assets import raw_emails
from orchestration.defs.mail.automation import imap_poll_schedule, mail_drop_sensor
from orchestration.defs.mail.checks import SUITES

defs = dg.Definitions(
    assets=[raw_emails],
    asset_checks=suite_checks(SUITES),
    sensors=[mail_drop_sensor],
    schedules=[imap_poll_schedule],
)
