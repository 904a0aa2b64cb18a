"""One benchmark report: every stage's path against a naive baseline in the same run, at demo
scales 1, 10 and (for the cheap stages) 100, with the ratio, peak memory and how cost grows.

    .venv/bin/python bench/report.py                           # what `make bench` runs
    .venv/bin/python bench/report.py --scales 1,10 --stages mail,prelead,tally,events
    .venv/bin/python bench/report.py --quick                   # smoke run: scale 0.1, cheap stages

Writes ``bench/report.md`` and ``bench/report.json`` (``--out`` changes the directory).

Every measured path runs in a child process of its own (``bench/stages.py`` for mail,
prelead, tally and events; the stage's own script for the others), and its peak memory is
that child's whole process tree (worker pools included), sampled from /proc every 0.1 s, or
the child's own high-water mark (VmHWM) if that is higher. The input is written beforehand
and every stage gets a scratch database beside the warehouse (``bench/scratch.py``), dropped
afterwards. Ours and the naive baseline run back to back, so they see the same machine load;
the ratio is ours/s over naive/s. A naive path that would take too long at a large scale runs
on the first records only (``stages.NAIVE_CAP``); the table says so.

Stages whose script runs as a whole (dbt, Kanban, dashboards, Focus RT pull, ML scoring) are
run with ``--json`` and merged; a script that cannot produce the report's JSON yet is listed
as "not run" with the reason, and the rest of the report goes on. The exponent ``a`` of
"time ∝ n^a" is the slope of a least-squares line through (log n, log seconds).
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
from bench.measure import (  # noqa: E402 - the project root is on sys.path now
    machine_facts,
    run_measured,
    server_version,
)
from bench.render import exponents, render  # noqa: E402
from bench.script_stages import SCRIPT_RUNNERS, StageError, graph_row  # noqa: E402

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
LOCAL_STAGES = ("mail", "prelead", "tally", "events")
SCRIPT_STAGES = ("kanban", "dbt", "dashboards", "focus", "ml", "tender", "graph")
ALL_STAGES = LOCAL_STAGES + SCRIPT_STAGES
#: The largest scale each stage runs at (the expensive ones stop at 10).
MAX_SCALE = {"mail": 100, "prelead": 100, "tally": 100, "events": 100}

# --- stages run here: ours and naive in children of their own -----------------------------------


def _migrate(url: str, statements: list[str]) -> None:
    """The migrations and the stage's setup, in a process of their own (not measured)."""
    code = (
        "import sys, psycopg; from pebble import db; db.upgrade(sys.argv[1])\n"
        "with psycopg.connect(sys.argv[1], autocommit=True) as c:\n"
        "    for s in sys.argv[2:]: c.execute(s)\n"
    )
    subprocess.run([sys.executable, "-c", code, url, *statements], check=True, cwd=ROOT)


def run_local_stage(
    stage: str, scale: float, work: Path, env: dict[str, str], timeout: float
) -> dict[str, Any]:
    """Prepare the input, then measure ours and the naive path back to back."""
    sys.path.insert(0, str(BENCH))
    import stages
    from scratch import drop_database, scratch_database

    data = work / f"{stage}-{scale:g}"
    started = time.perf_counter()
    facts = stages.prepare(stage, scale, data)
    prepare_s = time.perf_counter() - started
    n = int(facts["n"])
    url = scratch_database(f"report_{stage}")
    row: dict[str, Any] = {
        "stage": stage,
        "scale": scale,
        "unit": stages.UNIT[stage][1] if stage != "tally" else "vouchers",
        "prepare_s": round(prepare_s, 1),
        **{k: v for k, v in facts.items() if k not in ("naive_limit", "naive_n")},
    }
    notes = []
    try:
        _migrate(url, stages.setup_sql(stage))
        child_env = dict(env, **{stages.URL_ENV: url})
        row["load_1m"] = round(os.getloadavg()[0], 2)
        for path in ("ours", "naive"):
            out = data / f"{path}.json"
            command = [sys.executable, str(BENCH / "stages.py"), stage, path]
            command += ["--data", str(data), "--out", str(out)]
            limit = None
            if stage in ("mail", "prelead", "events"):
                limit = n if path == "ours" else int(facts["naive_limit"])
                command += ["--limit", str(limit)]
            measured = run_measured(command, child_env, timeout, data / f"{path}.log")
            if measured.code != 0:
                raise StageError(f"{stage} {path} exited {measured.code}: {measured.output}")
            result = json.loads(out.read_text())
            done = int(result["n"])
            row[f"{path}_n"] = done
            row[f"{path}_s"] = round(result["seconds"], 3)
            row[f"{path}_cpu_s"] = round(result["cpu_s"], 2)
            row[f"{path}_per_s"] = round(done / result["seconds"], 1)
            row[f"{path}_peak_mb"] = round(measured.peak_mb, 1)
        if row["naive_n"] < row["ours_n"]:
            notes.append(f"naive on a sample of {row['naive_n']:,} of {row['ours_n']:,}")
        row["ratio"] = round(row["ours_per_s"] / row["naive_per_s"], 2)
        row["n"] = row["ours_n"]
    finally:
        drop_database(url)
        shutil.rmtree(data, ignore_errors=True)
    row["note"] = "; ".join(notes)
    return row


# --- main ------------------------------------------------------------------------------------


def harness_stage(row_stage: str) -> str:
    """The --stages name that produced a row (``dbt_incremental`` comes from ``dbt``)."""
    prefixes = {"focus_": "focus", "score_": "ml", "dbt_": "dbt", "kanban_": "kanban"}
    prefixes["graph"] = "graph"
    prefixes["tender_"] = "tender"
    prefixes["dashboard_"] = "dashboards"
    for prefix, stage in prefixes.items():
        if row_stage.startswith(prefix):
            return stage
    return row_stage.split(" ", 1)[0]


def merge_earlier(
    path: Path, chosen: list[str]
) -> tuple[list[dict[str, Any]], list[dict[str, str]], dict[str, list[float]]]:
    """The rows, reasons and scales of an earlier report for the stages not in ``chosen``,
    each row marked with the run it comes from."""
    try:
        earlier = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SystemExit(f"--merge {path}: cannot read it as a report ({exc})") from None
    when = earlier.get("machine", {}).get("date_utc", "an earlier run")
    # a row the earlier report had itself merged keeps the run it was measured in
    rows = [
        dict(r, merged_from=r.get("merged_from") or when)
        for r in earlier.get("stages", [])
        if harness_stage(r["stage"]) not in chosen
    ]
    not_run = [n for n in earlier.get("not_run", []) if harness_stage(n["stage"]) not in chosen]
    ran = {s: v for s, v in earlier.get("scales_by_stage", {}).items() if s not in chosen}
    return rows, not_run, ran


def _scales(text: str) -> list[float]:
    try:
        values = [float(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"scales must be numbers, got {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"scales must be positive, got {text!r}")
    return sorted(set(values))


def _stages(text: str) -> list[str]:
    if text.strip() == "none":  # nothing run: render what --merge brings
        return []
    names = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [n for n in names if n not in ALL_STAGES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown stage(s) {', '.join(unknown) or repr(text)};"
            f" choose from {', '.join(ALL_STAGES)}"
        )
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=_scales, default=None, help="default 1,10,100")
    parser.add_argument(
        "--stages",
        type=_stages,
        default=None,
        help=", ".join(ALL_STAGES) + " (none: only render what --merge brings)",
    )
    parser.add_argument(
        "--max-scale", type=float, default=10.0, help="cap for the expensive stages (default 10)"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: scale 0.1, cheap stages")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per child process")
    parser.add_argument("--out", type=Path, default=BENCH, help="directory for report.md/.json")
    parser.add_argument(
        "--note", action="append", default=[], help="a sentence for the report's notes"
    )
    parser.add_argument(
        "--not-run",
        action="append",
        default=[],
        metavar="STAGE=REASON",
        help="record a stage as not run, with the reason (repeatable)",
    )
    parser.add_argument(
        "--merge",
        type=Path,
        action="append",
        default=[],
        help="an earlier report.json: its figures for the stages not run now are kept"
        " (repeatable; the first file that has a stage gives it)",
    )
    parser.add_argument(
        "--graph-from",
        type=Path,
        action="append",
        default=[],
        help="a `bench/bench_graph.py --json` result (a larger run made on its own): its row"
        " joins the graph stage's (repeatable)",
    )
    args = parser.parse_args(argv)
    scales = args.scales or ([0.1] if args.quick else [1.0, 10.0, 100.0])
    chosen = args.stages
    if chosen is None:
        chosen = list(LOCAL_STAGES) if args.quick else list(ALL_STAGES)
    shown, skip = [], False  # the command line without the long --note/--not-run texts
    for arg in argv if argv is not None else sys.argv[1:]:
        if not skip and arg not in ("--note", "--not-run"):
            shown.append(arg)
        skip = arg in ("--note", "--not-run")
    command = " ".join(["bench/report.py", *shown])

    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.path.insert(0, str(ROOT))
    work = Path(tempfile.mkdtemp(prefix="bench-report-"))
    os.environ["PEBBLE_HOME"] = str(work / "home")
    from pebble import db
    from pebble.settings import get_settings

    get_settings.cache_clear()
    started = time.perf_counter()
    machine = machine_facts()
    url = db.warehouse_url()  # starts the embedded server when there is no DATABASE_URL
    machine["postgres"] = server_version(url)
    env = dict(os.environ, **{db.RESOLVED_URL_ENV: url}, HF_HUB_OFFLINE="1")
    rows: list[dict[str, Any]] = []
    not_run: list[dict[str, str]] = []
    ran: dict[str, list[float]] = {}
    merged_from = []
    for earlier in args.merge:
        taken = list(chosen) + list(ran)
        more_rows, more_not_run, more_ran = merge_earlier(earlier, taken)
        rows += more_rows
        not_run += more_not_run
        ran.update(more_ran)
        if more_ran or more_rows:
            machine_then = json.loads(earlier.read_text())["machine"]
            # the runs the earlier report had merged, then the earlier run itself
            merged_from += [m for m in machine_then.pop("merged_from", []) if m not in merged_from]
            merged_from.append(machine_then)
    if merged_from:
        machine["merged_from"] = merged_from
    for result in args.graph_from:
        try:
            data = json.loads(result.read_text())
            row = graph_row(data)
            when = data.get("machine", {}).get("date_utc", "?")
            row["note"] += f"; run on its own ({result.name}, {when})"
            rows.append(row)
        except (OSError, ValueError, KeyError) as exc:
            parser.error(f"--graph-from {result}: not a bench_graph.py result ({exc})")
        ran.setdefault("graph", []).append(rows[-1]["scale"])
    for entry in args.not_run:
        stage, sep, reason = entry.partition("=")
        if not sep or not stage.strip() or not reason.strip():
            parser.error(f"--not-run wants STAGE=REASON, got {entry!r}")
        not_run.append({"stage": stage.strip(), "reason": reason.strip()})
    try:
        for stage in chosen:
            cap = MAX_SCALE.get(stage, args.max_scale)
            mine = [s for s in scales if s <= cap]
            skipped = [s for s in scales if s > cap]
            if skipped:
                not_run.append(
                    {
                        "stage": f"{stage} at scale {', '.join(f'{s:g}' for s in skipped)}",
                        "reason": f"above this stage's cap ({cap:g}): too slow for the run",
                    }
                )
            if not mine:
                continue
            print(f"== {stage} at scales {mine}", file=sys.stderr, flush=True)
            try:
                if stage in LOCAL_STAGES:
                    for scale in mine:
                        row = run_local_stage(stage, scale, work, env, args.timeout)
                        rows.append(row)
                        print(json.dumps(row), file=sys.stderr, flush=True)
                else:
                    new = SCRIPT_RUNNERS[stage](mine, env, args.timeout, work)
                    rows.extend(new)
                    for row in new:
                        print(json.dumps(row), file=sys.stderr, flush=True)
                ran[stage] = sorted(set(ran.get(stage, [])) | set(mine))
            except Exception as exc:  # one stage failing must not lose the others' figures
                reason = " ".join(str(exc).split())
                if len(reason) > 700:  # the head says what ran, the tail what went wrong
                    reason = reason[:200] + " … " + reason[-500:]
                not_run.append({"stage": stage, "reason": reason})
                print(f"   not run: {reason}", file=sys.stderr, flush=True)
            _write(args.out, machine, command, rows, not_run, ran, started, args.note, final=False)
    finally:
        db.stop_embedded()
        shutil.rmtree(work, ignore_errors=True)
    _write(args.out, machine, command, rows, not_run, ran, started, args.note, final=True)
    print(f"wrote {args.out / 'report.md'} and {args.out / 'report.json'}", file=sys.stderr)
    return 0


def _write(out, machine, command, rows, not_run, ran, started, notes, *, final: bool) -> None:
    """Written after every stage, so a long run interrupted keeps what it measured."""
    machine = dict(machine, load_average_end=[round(x, 2) for x in os.getloadavg()])
    report = {
        "command": command,
        "machine": machine,
        "complete": final,
        "wall_s": round(time.perf_counter() - started, 1),
        "stages": rows,
        "exponents": exponents(rows),
        "scales_by_stage": ran,
        "not_run": not_run,
        "notes": notes,
        "merged_stages": sorted({harness_stage(r["stage"]) for r in rows if "merged_from" in r}),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    (out / "report.md").write_text(render(report))


if __name__ == "__main__":
    raise SystemExit(main())
