"""The whole asset graph at one demo scale, as `make up` runs it: one `pebble materialize` of
every asset (mail from a Maildir drop, Tally and Focus RT over HTTP from their simulators,
the prelead lists, training, scoring, Qdrant, dbt) in a fresh home with its own embedded
PostgreSQL. Records the wall time, the peak memory (the materialize process tree plus the
embedded PostgreSQL's), the time of each step, the rows landed and the size of the
warehouse and the home afterwards.

    .venv/bin/python bench/bench_graph.py --scale 100 --json /tmp/graph-100.json

The classifier is trained on a world of its own at ``--training-scale`` (default 1: training
does not grow with the mailbox, see docs/scaling.md); the scored mailbox is the ``--scale``
world (seed 7). ``--home`` keeps the home (and its world) for a look afterwards; by default
it is a temporary folder, removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.measure import machine_facts, run_measured  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PEBBLE = Path(sys.executable).parent / "pebble"

GENERATE = """
import json, sys, time
from pathlib import Path
from demo.world import generate_world
t = time.perf_counter()
manifest = generate_world(Path(sys.argv[1]), seed=int(sys.argv[2]), scale=float(sys.argv[3]))
print(json.dumps({"seconds": time.perf_counter() - t, "counts": manifest["counts"]}))
"""

#: After the run: sizes, row counts and the run's step times, from the home's own database.
INSPECT = """
import json, sys
import psycopg
from pebble import db
db.apply_runtime_env()
url = db.warehouse_url()
out = {}
with psycopg.connect(url) as conn:
    out["database_bytes"] = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    out["schemas"] = dict(conn.execute(
        "SELECT n.nspname, sum(pg_total_relation_size(c.oid))::bigint FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'm') "
        "GROUP BY 1 ORDER BY 2 DESC").fetchall())
    out["largest"] = [list(r) for r in conn.execute(
        "SELECT n.nspname || '.' || c.relname, pg_total_relation_size(c.oid), c.reltuples::bigint "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'm') ORDER BY 2 DESC LIMIT 12").fetchall()]
    rows = {}
    for table in sys.argv[1:]:
        try:
            rows[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        except psycopg.Error:
            conn.rollback()
            rows[table] = None
    out["rows"] = rows
from dagster import DagsterInstance
instance = DagsterInstance.get()
runs = instance.get_runs(limit=5)
out["runs"] = []
for run in reversed(runs):
    steps = instance.get_run_step_stats(run.run_id)
    out["runs"].append({
        "run_id": run.run_id, "status": run.status.value,
        "steps": sorted(([s.step_key, round(s.end_time - s.start_time, 1),
                          s.status.value if s.status else None]
                         for s in steps if s.end_time and s.start_time),
                        key=lambda s: -s[1]),
    })
db.stop_embedded()
print(json.dumps(out, default=str))
"""

COUNTED = (
    "raw.emails",
    "raw.email_attachments",
    "raw.rejects",
    "raw.tally_vouchers",
    "raw.focus_sales_orders",
    "raw.focus_qc_results",
    "raw.prelead_rows",
    "ml.email_predictions",
    "marts.email_cards",
    "marts.activity_stream",
    "marts.crm_companies",
    "marts.crm_contacts",
)


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _postmaster_pid(home: Path) -> int | None:
    pidfile = home / "pg" / "postmaster.pid"
    try:
        return int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _child(code: str, args: list[str], env: dict[str, str], timeout: float) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(
    scale: float, training_scale: float, home: Path, timeout: float, world: Path | None = None
) -> dict[str, Any]:
    from demo.sim.focus import FocusSimulator
    from demo.sim.tally import TallySimulator

    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result: dict[str, Any] = {"scale": scale, "training_scale": training_scale}
    training = home / "training"
    if world is None:
        world = home / "world"
        result["generate"] = _child(GENERATE, [str(world), "7", f"{scale:g}"], env, timeout)
    else:  # generated earlier at this scale (the run only reads it)
        result["generate"] = {"seconds": 0.0, "reused": str(world)}
    result["generate_training"] = _child(
        GENERATE, [str(training), "8", f"{training_scale:g}"], env, timeout
    )
    result["world_bytes"] = _du(world)
    leads = home / "drops" / "prelead"
    leads.mkdir(parents=True)
    for path in (world / "prelead").glob("batch_*"):
        shutil.copy2(path, leads / path.name)
    tally, focus = TallySimulator(world, port=0), FocusSimulator(world, port=0)
    env.update(
        PEBBLE_HOME=str(home),
        PEBBLE_TRAINING_DIR=str(training),
        PEBBLE_MAIL_DROP_DIR=str(world / "mail" / "maildir"),
        TALLY_URL=tally.start(),
        FOCUS_URL=focus.start(),
    )
    try:
        load_before = os.getloadavg()
        # the embedded PostgreSQL is not a child of the run: its tree is added to each sample
        measured = run_measured(
            [str(PEBBLE), "materialize"],
            env,
            timeout,
            home / "materialize.log",
            also=lambda: [pid for pid in [_postmaster_pid(home)] if pid],
        )
    finally:
        tally.stop()
        focus.stop()
    result["materialize"] = {
        "exit_code": measured.code,
        "wall_s": round(measured.wall_s, 1),
        "peak_mb": round(measured.peak_mb, 1),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "output_tail": measured.output[-1500:],
    }
    result["inspect"] = _child(INSPECT, list(COUNTED), env, 600)
    result["home_bytes"] = {
        part.name: _du(part) for part in sorted(home.iterdir()) if part.is_dir()
    }
    return result


def render(result: dict[str, Any]) -> str:
    mat, ins = result["materialize"], result["inspect"]
    gen = result["generate"]
    lines = [
        f"whole graph at scale {result['scale']:g} "
        f"(world generated in {gen['seconds']:.0f} s, {result['world_bytes'] / 1e6:,.0f} MB)",
        f"  pebble materialize: exit {mat['exit_code']}, wall {mat['wall_s'] / 60:.1f} min, "
        f"peak {mat['peak_mb']:.0f} MB (run tree + embedded PostgreSQL)",
        f"  warehouse: {ins['database_bytes'] / 1e6:,.0f} MB; home: "
        + ", ".join(f"{k} {v / 1e6:,.0f} MB" for k, v in result["home_bytes"].items()),
        "  rows: " + ", ".join(f"{k} {v:,}" for k, v in ins["rows"].items() if v is not None),
    ]
    for one in ins["runs"]:
        top = ", ".join(f"{key} {secs:.0f}s" for key, secs, _ in one["steps"][:10])
        lines.append(f"  run {one['run_id'][:8]} {one['status']}: slowest steps {top}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--training-scale", type=float, default=1.0)
    parser.add_argument("--home", type=Path, help="keep the run's home here (must not exist)")
    parser.add_argument("--world", type=Path, help="a world generated earlier at --scale")
    parser.add_argument("--timeout", type=float, default=6 * 3600, help="seconds per step")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    started = time.perf_counter()
    temporary = args.home is None
    home = Path(tempfile.mkdtemp(prefix="pebble-graph-")) if temporary else args.home
    if not temporary:
        home.mkdir(parents=True, exist_ok=False)
    try:
        result = run(args.scale, args.training_scale, home, args.timeout, args.world)
    finally:
        if temporary:
            shutil.rmtree(home, ignore_errors=True)
    result["machine"] = machine_facts()
    result["total_s"] = round(time.perf_counter() - started, 1)
    print(render(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    if result["materialize"]["exit_code"] != 0:
        sys.exit(1)


if __name__ == "__main__":
    main()
