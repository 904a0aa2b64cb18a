"""Tally every 15 minutes (one Tally run at a time: the run coordinator limits the
``pebble/source: tally`` tag, as Tally answers one request at a time)."""

import dagster as dg

from orchestration.defs.tally.assets import raw_tally
from orchestration.drops import busy

tally_job = dg.define_asset_job(
    "tally_ingest",
    selection=dg.AssetSelection.assets(raw_tally).downstream(),
    tags={"pebble/source": "tally"},
)


@dg.schedule(
    name="tally_every_15_minutes",
    job=tally_job,
    cron_schedule="*/15 * * * *",
    execution_timezone="Asia/Kolkata",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def tally_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    """Incremental Tally pull, unless a materialisation is pulling Tally right now."""
    return busy() or dg.RunRequest(run_key=f"tally:{context.scheduled_execution_time.isoformat()}")
