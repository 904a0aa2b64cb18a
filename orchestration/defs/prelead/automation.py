"""A new lead list in the prelead drop folder starts a ``prelead_ingest`` run: the landing
and every model downstream of it (the drop ledger decides what is new: see
orchestration/drops.py)."""

import dagster as dg

from orchestration.concurrency import SOURCE, WAREHOUSE
from orchestration.defs.prelead.assets import SUFFIXES, raw_prelead
from orchestration.drops import drop_tick
from orchestration.resources import WarehouseResource
from pebble.settings import get_settings

prelead_job = dg.define_asset_job(
    "prelead_ingest",
    selection=dg.AssetSelection.assets(raw_prelead).downstream(),
    # its queue and the CRM master are warehouse models: one warehouse build at a time
    tags={SOURCE: "prelead", WAREHOUSE: "build"},
)


@dg.sensor(
    job=prelead_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING
)
def prelead_drop_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource
) -> dg.SensorResult | dg.SkipReason:
    """A settled lead list (CSV/XLSX) that no run has handled starts a landing run."""
    return drop_tick(
        context,
        source="prelead",
        folder=get_settings().prelead_drops,
        warehouse=warehouse,
        run_config=lambda paths: dg.RunConfig(ops={"raw_prelead": {"config": {"paths": paths}}}),
        suffixes=SUFFIXES,
    )
