"""Unattended mail landing: a drop-folder sensor and an IMAP poll every minute. The job
also refreshes what is downstream (scoring, dbt models, the cards).

The sensor keeps a cursor and gives every run a ``run_key``, so a re-tick never starts a
duplicate run; landings are idempotent, so a retried run never duplicates rows.
"""

import json

import dagster as dg

from orchestration.defs.mail.assets import imap_configured, raw_emails
from orchestration.drops import MAX_FILES_PER_RUN, busy, new_drop_files
from pebble.settings import get_settings

mail_job = dg.define_asset_job(
    "mail_ingest",
    selection=dg.AssetSelection.assets(raw_emails).downstream(),
    tags={"pebble/source": "mail"},
)


def _mail_config(*, paths: list[str], drop: bool, imap: bool) -> dg.RunConfig:
    return dg.RunConfig(
        ops={"raw_emails": {"config": {"paths": paths, "drop": drop, "imap": imap}}}
    )


@dg.sensor(job=mail_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def mail_drop_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    """New files in the mail drop folder (.eml, mbox, Maildir) start a landing run."""
    if skip := busy():
        return skip
    folder = get_settings().mail_drops
    cursor = json.loads(context.cursor) if context.cursor else {"mtime_ns": 0}
    files = new_drop_files(folder, int(cursor["mtime_ns"]))[:MAX_FILES_PER_RUN]
    if not files:
        return dg.SkipReason(f"no new files in {folder}")
    newest = files[-1][0]
    request = dg.RunRequest(
        run_key=f"mail-drop:{newest}:{len(files)}",
        run_config=_mail_config(paths=[p for _, p in files], drop=True, imap=False),
        tags={"pebble/trigger": "mail_drop_sensor"},
    )
    return dg.SensorResult(run_requests=[request], cursor=json.dumps({"mtime_ns": newest}))


@dg.schedule(job=mail_job, cron_schedule="* * * * *", execution_timezone="Asia/Kolkata")
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
