"""Prelead batches: CSV/XLSX lead lists from the prelead drop folder into
``raw.prelead_batches`` and ``raw.prelead_rows``.

Every row is kept (valid, or invalid with its reasons); a file that cannot be read as a
lead list goes to ``raw.quarantine`` with the reason and its bytes. A file is one batch,
named after the file, so a re-run adds nothing.
"""

import hashlib
import json
from pathlib import Path

import dagster as dg

from orchestration.resources import WarehouseResource
from pebble.settings import get_settings

OWNERS = ["team:data-platform"]
BATCHES = dg.AssetKey(["raw", "prelead_batches"])
ROWS = dg.AssetKey(["raw", "prelead_rows"])
SUFFIXES = (".csv", ".xlsx")


class PreleadLoadConfig(dg.Config):
    """Files to load; empty means every lead list in the prelead drop folder."""

    paths: list[str] = []


def _quarantine_file(conn, path: Path, reason: str) -> None:
    from ingest.mail.land import ensure_tables as ensure_quarantine

    raw = path.read_bytes() if path.is_file() else b""
    ensure_quarantine(conn)
    conn.execute(
        """
        INSERT INTO raw.quarantine (source_kind, source, reason, sha256, raw, size_bytes)
        VALUES ('prelead', %s, %s, %s, %s, %s)
        ON CONFLICT (sha256, source) DO NOTHING
        """,
        (str(path), reason, hashlib.sha256(raw).hexdigest(), raw, len(raw)),
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            BATCHES,
            description="One row per loaded lead list: file hash, encoding, row counts.",
            kinds={"python", "postgres"},
            owners=OWNERS,
        ),
        dg.AssetSpec(
            ROWS,
            description="Every lead-list row with its normalised fields, validity and reasons "
            "(GSTIN check character, PAN/CIN format, email, E.164 phone, duplicates in batch).",
            kinds={"postgres"},
            owners=OWNERS,
        ),
    ],
    group_name="ingest_prelead",
    op_tags={"pebble/source": "prelead"},
)
def raw_prelead(
    context: dg.AssetExecutionContext, config: PreleadLoadConfig, warehouse: WarehouseResource
):
    """Validate and land prelead lead lists with PostgreSQL COPY."""
    from ingest.prelead.loader import BatchConflictError, BatchNameError, load_file
    from ingest.prelead.reader import PreleadFileError

    if config.paths:
        files = [Path(p) for p in config.paths]
    else:
        drop = get_settings().prelead_drops
        drop.mkdir(parents=True, exist_ok=True)
        files = sorted(p for p in drop.iterdir() if p.suffix.lower() in SUFFIXES)
    loaded, already, rejected = [], 0, []
    with warehouse.connection() as conn:
        for path in files:
            try:
                result = load_file(path, path.stem, conn)
            except (PreleadFileError, BatchConflictError, BatchNameError) as exc:
                with conn.transaction():
                    _quarantine_file(conn, path, str(exc))
                rejected.append({"file": path.name, "reason": str(exc)})
                context.log.warning(f"prelead {path.name}: {exc}")
                continue
            if result.already_loaded:
                already += 1
            else:
                loaded.append(result.summary())
        batches = conn.execute("SELECT count(*) FROM raw.prelead_batches").fetchone()[0]
        rows, invalid = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE NOT is_valid) FROM raw.prelead_rows"
        ).fetchone()
    yield dg.MaterializeResult(
        asset_key=BATCHES,
        metadata={
            "rows_added": len(loaded),
            "already_loaded": already,
            "quarantined_files": len(rejected),
            "dagster/row_count": batches,
            "loaded": json.dumps(loaded),
            "rejected": json.dumps(rejected),
        },
    )
    yield dg.MaterializeResult(
        asset_key=ROWS,
        metadata={
            "rows_added": sum(int(b["rows"]) for b in loaded),
            "dagster/row_count": rows,
            "invalid_rows": invalid,
        },
    )


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
    from orchestration.defs.ingest.automation import new_drop_files

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


defs = dg.Definitions(assets=[raw_prelead], jobs=[prelead_job], sensors=[prelead_drop_sensor])
