"""Unattended ingestion: a drop-folder sensor, an IMAP poll every minute, and Tally and
Focus RT pulls every 15 minutes. Each job also refreshes the dbt models downstream.

Sensors keep a cursor and give every run a ``run_key``, so a re-tick never starts a
duplicate run; landings are idempotent, so a retried run never duplicates rows.
"""

import json
import os
from pathlib import Path

import dagster as dg

from orchestration.defs.ingest.erp import raw_focus, raw_tally
from orchestration.defs.ingest.mail import raw_emails
from pebble.settings import get_settings

#: At most this many new files are handed to one run; the next tick takes the rest.
MAX_FILES_PER_RUN = 5000

mail_job = dg.define_asset_job(
    "mail_ingest",
    selection=dg.AssetSelection.assets(raw_emails).downstream(),
    tags={"pebble/source": "mail"},
)
tally_job = dg.define_asset_job(
    "tally_ingest",
    selection=dg.AssetSelection.assets(raw_tally).downstream(),
    tags={"pebble/source": "tally"},
)
focus_job = dg.define_asset_job(
    "focus_ingest",
    selection=dg.AssetSelection.assets(raw_focus).downstream(),
    tags={"pebble/source": "focus"},
)


def _mail_config(*, paths: list[str], drop: bool, imap: bool) -> dg.RunConfig:
    return dg.RunConfig(
        ops={"raw_emails": {"config": {"paths": paths, "drop": drop, "imap": imap}}}
    )


def new_drop_files(folder: Path, after_ns: int) -> list[tuple[int, str]]:
    """Message files under ``folder`` modified after ``after_ns`` as (mtime_ns, path),
    oldest first. Maildir ``tmp/`` folders (messages still being written) are skipped."""
    found: list[tuple[int, str]] = []
    if not folder.is_dir():
        return found
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d != "tmp" and not d.startswith(".")]
        for name in files:
            if name.startswith("."):
                continue
            path = Path(root) / name
            try:
                mtime = path.stat().st_mtime_ns
            except FileNotFoundError:
                continue  # moved away between listing and stat
            if mtime > after_ns:
                found.append((mtime, str(path)))
    found.sort()
    return found


@dg.sensor(job=mail_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def mail_drop_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    """New files in the mail drop folder (.eml, mbox, Maildir) start a landing run."""
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
    from ingest.mail.settings import MailSettings

    if not MailSettings().imap_configured:
        return dg.SkipReason("IMAP is not configured (MAIL_IMAP_HOST/USER/PASSWORD)")
    return dg.RunRequest(
        run_key=f"imap:{context.scheduled_execution_time.isoformat()}",
        run_config=_mail_config(paths=[], drop=False, imap=True),
    )


tally_schedule = dg.ScheduleDefinition(
    name="tally_every_15_minutes",
    job=tally_job,
    cron_schedule="*/15 * * * *",
    execution_timezone="Asia/Kolkata",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
focus_schedule = dg.ScheduleDefinition(
    name="focus_every_15_minutes",
    job=focus_job,
    cron_schedule="*/15 * * * *",
    execution_timezone="Asia/Kolkata",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

defs = dg.Definitions(
    jobs=[mail_job, tally_job, focus_job],
    sensors=[mail_drop_sensor],
    schedules=[imap_poll_schedule, tally_schedule, focus_schedule],
)
