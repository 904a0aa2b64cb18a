"""A new lead list in the prelead drop folder starts a landing run."""

import json
from pathlib import Path

import dagster as dg

from orchestration.defs.prelead.assets import SUFFIXES, raw_prelead
from orchestration.drops import busy, new_drop_files
from pebble.settings import get_settings

prelead_job = dg.define_asset_job(
    "prelead_ingest",
    selection=dg.AssetSelection.assets(raw_prelead).downstream(),
    tags={"pebble/source": "prelead"},
)


@dg.sensor(
    job=prelead_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING
)
def prelead_drop_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    """A new lead list in the prelead drop folder starts a landing run."""
    if skip := busy():
        return skip
    folder = get_settings().prelead_drops
    cursor = json.loads(context.cursor) if context.cursor else {"mtime_ns": 0}
    files = [
        (m, p)
        for m, p in new_drop_files(folder, int(cursor["mtime_ns"]))
        if Path(p).suffix.lower() in SUFFIXES
    ]
    if not files:
        return dg.SkipReason(f"no new lead lists in {folder}")
    newest = files[-1][0]
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"prelead-drop:{newest}:{len(files)}",
                run_config=dg.RunConfig(
                    ops={"raw_prelead": {"config": {"paths": [p for _, p in files]}}}
                ),
            )
        ],
        cursor=json.dumps({"mtime_ns": newest}),
    )
