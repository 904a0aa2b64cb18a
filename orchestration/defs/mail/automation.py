"""Unattended mail landing: a drop-folder sensor and an IMAP poll every minute, both
starting ``mail_to_cards`` (landing, scoring, the models of the cards; see
orchestration/defs/pipelines/jobs.py). The warehouse models that also read mail (the CRM
master, the activity stream) follow through the declarative automation.

The sensor goes by the drop ledger (``ops.drop_files``, see orchestration/drops.py), not
by an mtime cursor: it offers the settled files no run has handled yet, waits while its
last run is unfinished, and offers again whatever a failed run left. Landings are
idempotent, so a file offered twice never duplicates rows.
"""

import dagster as dg

from orchestration.defs.mail.assets import imap_configured
from orchestration.drops import busy, drop_tick
from orchestration.resources import WarehouseResource
from pebble.settings import get_settings


def _mail_config(*, paths: list[str], drop: bool, imap: bool) -> dg.RunConfig:
    return dg.RunConfig(
        ops={"raw_emails": {"config": {"paths": paths, "drop": drop, "imap": imap}}}
    )


@dg.sensor(
    # the job is defined with the other named jobs (orchestration/defs/pipelines/jobs.py)
    job_name="mail_to_cards",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def mail_drop_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource
) -> dg.SensorResult | dg.SkipReason:
    """Settled files in the mail drop folder (.eml, mbox, Maildir) that no run has handled
    start a landing run."""
    return drop_tick(
        context,
        source="mail",
        folder=get_settings().mail_drops,
        warehouse=warehouse,
        run_config=lambda paths: _mail_config(paths=paths, drop=True, imap=False),
    )


@dg.schedule(job_name="mail_to_cards", cron_schedule="* * * * *", execution_timezone="Asia/Kolkata")
def imap_poll_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    """Poll the configured IMAP mailboxes every minute (skipped when IMAP is not set up)."""
    if not imap_configured():
        return dg.SkipReason("IMAP is not configured (MAIL_IMAP_HOST/USER/PASSWORD)")
    if skip := busy():
        return skip
    return dg.RunRequest(
        run_key=f"imap:{context.scheduled_execution_time.isoformat()}",
        run_config=_mail_config(paths=[], drop=False, imap=True),
    )
