"""Focus RT every 15 minutes."""

import dagster as dg

from orchestration.defs.focus.assets import raw_focus
from orchestration.drops import busy

focus_job = dg.define_asset_job(
    "focus_ingest",
    selection=dg.AssetSelection.assets(raw_focus).downstream(),
    tags={"pebble/source": "focus"},
)


@dg.schedule(
    name="focus_every_15_minutes",
    job=focus_job,
    cron_schedule="*/15 * * * *",
    execution_timezone="Asia/Kolkata",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def focus_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    """Incremental Focus pull, unless a materialisation is pulling Focus right now."""
    return busy() or dg.RunRequest(run_key=f"focus:{context.scheduled_execution_time.isoformat()}")
