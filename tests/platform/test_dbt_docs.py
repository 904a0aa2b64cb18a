"""`dbt docs generate` over a migrated warehouse: it succeeds, and the lineage it documents
reaches a mart from every raw table the business lands (the issue's "dbt docs shows the
lineage from every raw table to the marts").

The docs go to a temporary target path: the project's own ``dbt/target`` holds the
manifest the Dagster definitions load, which a test must not rewrite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg

from pebble import db
from pebble.settings import PROJECT_ROOT

DBT_DIR = PROJECT_ROOT / "dbt"
#: Bookkeeping every landing shares, read by staging models for the operators (what was
#: rejected and why, where each pull resumes): no business entity, no mart.
BOOKKEEPING = {"rejects", "ingest_cursors"}


def _generate(target: Path) -> subprocess.CompletedProcess[str]:
    dbt = Path(sys.executable).parent / "dbt"
    return subprocess.run(
        [
            str(dbt),
            "--no-send-anonymous-usage-stats",
            "--no-version-check",
            "docs",
            "generate",
            "--target-path",
            str(target),
            "--log-path",
            str(target / "logs"),
        ],
        cwd=DBT_DIR,
        env=os.environ | db.dbt_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )


def _reaches_a_mart(manifest: dict, source_id: str) -> set[str]:
    """The marts downstream of a source, following the manifest's child map."""
    children, seen, marts = manifest["child_map"], set(), set()
    stack = [source_id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child in seen:
                continue
            seen.add(child)
            stack.append(child)
            node = manifest["nodes"].get(child, {})
            if node.get("resource_type") == "model" and node["config"].get("schema") == "marts":
                marts.add(node["name"])
    return marts


def test_docs_generate_shows_lineage_from_every_raw_table_to_a_mart(
    warehouse: psycopg.Connection, tmp_path: Path
) -> None:
    target = tmp_path / "target"
    out = _generate(target)
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    assert (target / "index.html").is_file()
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())

    raw = {sid: s for sid, s in manifest["sources"].items() if s["schema"] == "raw"}
    landed = {
        row[0]
        for row in warehouse.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
        )
    }
    # every raw table the landings write is a documented dbt source ...
    assert landed - BOOKKEEPING - {"alembic_version"} <= {s["name"] for s in raw.values()}
    # ... present in the catalog with its columns (the docs read the warehouse) ...
    for sid, source in raw.items():
        assert catalog["sources"].get(sid, {}).get("columns"), source["name"]
    # ... and the lineage from each business table reaches at least one mart
    unreached = sorted(
        source["name"]
        for sid, source in raw.items()
        if source["name"] not in BOOKKEEPING and not _reaches_a_mart(manifest, sid)
    )
    assert not unreached, f"raw tables with no mart downstream: {unreached}"
