"""When the named jobs run, and the declarative automation that refreshes models after
their landings.

- ``erp_every_15_minutes``: the ERP refresh (Tally and Focus RT in one run, so two builds
  of the marts both read never race).
- ``nightly_full_build``: every asset at 02:00 IST.
- ``dbt_automation_sensor`` (running by default): evaluates the ``AutomationCondition``
  of every dbt model (orchestration/defs/dbt/assets.py) and requests the models whose
  tables were updated by a run that did not rebuild them: the warehouse models reading
  mail after ``mail_to_cards``, the marts of the ERP that answered after a run in which
  the other failed, a lead list's queue, a landing materialised alone from the UI.

The mail drop sensor and IMAP poll start ``mail_to_cards`` (orchestration/defs/mail); the
prelead drop sensor starts ``prelead_ingest`` (orchestration/defs/prelead).
"""

import dagster as dg

from orchestration.concurrency import WAREHOUSE
from orchestration.defs.dbt.assets import pebble_dbt_cards, pebble_dbt_warehouse
from orchestration.defs.pipelines.jobs import erp_refresh, nightly_full
from orchestration.drops import TRIGGER_TAG, busy

#: 02:00 in India: after the day's mail and vouchers, before anyone opens the app.
NIGHTLY_CRON = "0 2 * * *"
TIMEZONE = "Asia/Kolkata"


@dg.schedule(
    name="erp_every_15_minutes",
    job=erp_refresh,
    cron_schedule="*/15 * * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def erp_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    """Incremental Tally and Focus RT pulls and the warehouse build on them, unless a
    materialisation is pulling them right now."""
    return busy() or dg.RunRequest(run_key=f"erp:{context.scheduled_execution_time.isoformat()}")


@dg.schedule(
    name="nightly_full_build",
    job=nightly_full,
    cron_schedule=NIGHTLY_CRON,
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def nightly_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    """Every asset, once a night (a plain ``dbt build``: incremental models keep their rows)."""
    return busy() or dg.RunRequest(
        run_key=f"nightly:{context.scheduled_execution_time.isoformat()}"
    )


dbt_automation_sensor = dg.AutomationConditionSensorDefinition(
    "dbt_automation_sensor",
    target=dg.AssetSelection.assets(pebble_dbt_cards, pebble_dbt_warehouse),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    # one warehouse build at a time (dagster.yaml), whoever started it
    run_tags={TRIGGER_TAG: "automation", WAREHOUSE: "build"},
    description="Refreshes dbt models after the tables they read were updated "
    "(AutomationCondition.eager, see orchestration/defs/dbt/assets.py).",
)
