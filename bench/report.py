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
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.measure import (  # noqa: E402 - the project root is on sys.path now
    Measured,
    machine_facts,
    run_measured,
    server_version,
)

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
LOCAL_STAGES = ("mail", "prelead", "tally", "events")
SCRIPT_STAGES = ("kanban", "dbt", "dashboards", "focus", "ml", "tender", "graph")
ALL_STAGES = LOCAL_STAGES + SCRIPT_STAGES
#: The largest scale each stage runs at (the expensive ones stop at 10).
MAX_SCALE = {"mail": 100, "prelead": 100, "tally": 100, "events": 100}
TITLES = {
    "mail": "Email parse and land",
    "prelead": "Prelead load",
    "tally": "Tally parse",
    "events": "Event appends",
    "focus_pull": "Focus RT pull",
    "score_emails": "Classify, extract and embed",
    "dbt_full_build": "dbt full build",
    "dbt_incremental": "dbt incremental after new emails (naive: --full-refresh)",
    "kanban_query": "Kanban board query (naive: every card)",
    "kanban_page": "Kanban page server time (naive: every card drawn)",
    "graph": "Whole graph: one `pebble materialize` of every asset in a fresh home",
    "tender_read": "Tender notices read (NIT PDFs, text and scanned)",
}
NAIVE_DESCRIPTION = {
    "mail": "`email.message_from_bytes` per file, headers decoded with `email.header`, first"
    " text/plain part as body, one autocommit `INSERT` per message (ours: `land_paths` as"
    " `pebble mail load`, parser pool, COPY in batches)",
    "prelead": "the same reader and row validator in one process, one autocommit `INSERT` per"
    " row, no duplicate detection (ours: `load_file`, validation workers, one COPY). For"
    " scale: the seed's own loader did 50–70 leads/s",
    "tally": "whole file decoded, invalid character references removed, `xmltodict.parse`"
    " of the document, every voucher walked (ours: streaming `read_file_records`)",
    "focus_pull": "the same client and landing, document screens fetched one after another"
    " (ours: `FOCUS_SCREEN_WORKERS`, 8 at once); the simulator answers every request 20 ms late",
    "events": "`SELECT max(version)` then `INSERT`, two unprepared autocommit statements, into"
    " a table without unique key or triggers (ours: `pebble.events.append`, version check in"
    " the insert); one writer, empty `ops.events`",
}


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


class StageError(RuntimeError):
    pass


# --- stages run by their own scripts --------------------------------------------------------


def _script_supports(script: str, *needles: str) -> str | None:
    """None if ``bench/<script>`` mentions every needle, else what is missing."""
    path = BENCH / script
    if not path.is_file():
        return f"bench/{script} does not exist"
    text = path.read_text()
    missing = [n for n in needles if n not in text]
    return f"bench/{script} has no {', '.join(missing)} yet" if missing else None


def run_script(
    script: str, args: list[str], env: dict[str, str], timeout: float, work: Path
) -> tuple[dict[str, Any], Measured]:
    out = work / f"{script}.{len(list(work.glob(script + '*')))}.json"
    log = out.with_suffix(".log")
    measured = run_measured(
        [sys.executable, str(BENCH / script), *args, "--json", str(out)], env, timeout, log
    )
    if not out.exists():
        reason = "timed out" if measured.wall_s >= timeout else f"exit {measured.code}"
        raise StageError(f"{script} {' '.join(args)}: {reason}, no JSON: {measured.output}")
    return json.loads(out.read_text()), measured


def _merged(data: dict[str, Any], measured: Measured, script: str) -> list[dict[str, Any]]:
    """Rows of a script that writes the report's own format ({"stages": [...]})."""
    if not isinstance(data.get("stages"), list):
        raise StageError(f"{script} --json wrote no 'stages' list (keys: {sorted(data)[:8]})")
    rows = []
    for one in data["stages"]:
        row = dict(one)
        row.setdefault("note", "")
        row["script_tree_peak_mb"] = round(measured.peak_mb, 1)
        rows.append(row)
    return rows


def stage_focus(scales: list[float], env, timeout, work) -> list[dict[str, Any]]:
    missing = _script_supports("bench_focus.py", "--json", '"stages"')
    if missing:
        raise StageError(missing + " (another helper is adding it)")
    scale_arg = ",".join(f"{s:g}" for s in scales)
    data, measured = run_script("bench_focus.py", ["--scales", scale_arg], env, timeout, work)
    return _merged(data, measured, "bench_focus.py")


def stage_ml(scales: list[float], env, timeout, work) -> list[dict[str, Any]]:
    missing = _script_supports("bench_ml.py", "--json", '"stages"', "--speed-only")
    if missing:
        raise StageError(missing + " (another helper is adding it)")
    args = ["--speed-only", "--quick"]
    model = os.environ.get("PEBBLE_BENCH_ML_MODEL")
    if model:  # a trained artifact: the stage measures scoring without training first
        args += ["--model", model]
    data, measured = run_script("bench_ml.py", args, env, timeout, work)
    return _merged(data, measured, "bench_ml.py")


def stage_tender(scales: list[float], env, timeout, work) -> list[dict[str, Any]]:
    """Tender notices read (the fixture NITs, text and scanned): ours against OCR of every
    page at 300 dpi; the F1 of each kind and the 10-page scanned NIT go into the note."""
    data, measured = run_script("bench_tender.py", [], env, timeout, work)
    rows = _merged(data, measured, "bench_tender.py")
    f1 = data.get("f1") or {}
    extra = [f"F1 {kind} {value:.3f}" for kind, value in f1.items() if isinstance(value, float)]
    if data.get("ocr_10_page_s") is not None:
        extra.append(f"10-page scanned NIT OCR {data['ocr_10_page_s']:.1f} s")
    for row in rows:
        row["note"] = "; ".join(x for x in [row.get("note", ""), *extra] if x)
    return rows


def stage_dbt(scales: list[float], env, timeout, work) -> list[dict[str, Any]]:
    rows = []
    for scale in scales:
        # the incremental build refreshes what new mail reaches (as the Dagster automation
        # does after a mail landing); the naive baseline fully refreshes the same selection
        args = ["--scale", f"{scale:g}", "--scratch-name", "report_dbt",
                "--incremental-select", "source:raw.emails+"]  # fmt: skip
        data, measured = run_script("bench_dbt.py", args, env, timeout, work)
        builds = data["builds"]
        det = data["determinism"]
        checks = (
            "marts identical between rebuilds and incremental vs full refresh"
            if det["rebuild_identical"] and det["incremental_equals_full_refresh"]
            else "MARTS DIFFER between builds"
        )
        common = {
            "scale": scale,
            "script_tree_peak_mb": round(measured.peak_mb, 1),
            "ours_peak_mb": round(measured.peak_mb, 1),
            "load_1m": data.get("load_average_1m_before"),
        }
        full = builds["full"]
        skipped = sum(1 for f in full["failures"] if f[1] == "skipped")
        failed = len(full["failures"]) - skipped
        rows.append(
            {
                "stage": "dbt_full_build",
                "n": data["raw_emails"],
                "unit": "emails in the world",
                "ours_s": full["wall_s"],
                "ours_per_s": round(data["raw_emails"] / full["wall_s"], 1),
                "note": f"{full['nodes']} nodes, {failed} failed, {skipped} skipped; {checks};"
                " peak: the whole script's process tree (world, loaders, dbt)",
                **common,
            }
        )
        inc, naive = builds["incremental"], builds["naive_full_refresh"]
        landed = data["new_emails"]["landed"]
        rows.append(
            {
                "stage": "dbt_incremental",
                "n": landed,
                "unit": "new emails",
                "ours_s": inc["wall_s"],
                "naive_s": naive["wall_s"],
                "ours_per_s": round(landed / inc["wall_s"], 2),
                "naive_per_s": round(landed / naive["wall_s"], 2),
                "ratio": data["naive_over_incremental"],
                "note": "dbt build --select source:raw.emails+; activity_stream stayed"
                " incremental: "
                + ("yes" if data["activity_stream"]["stayed_incremental"] else "NO"),
                **common,
            }
        )
    return rows


def _request_times(ours_ms: float, naive_ms: float | None, measured: Measured) -> dict[str, Any]:
    """A server-time row's figures: seconds and requests/s of ours and naive, their ratio,
    and the script's peak memory."""
    naive = naive_ms is not None
    return {
        "ours_s": round(ours_ms / 1000, 4),
        "naive_s": round(naive_ms / 1000, 4) if naive else None,
        "ours_per_s": round(1000 / ours_ms, 2),
        "naive_per_s": round(1000 / naive_ms, 2) if naive else None,
        "ratio": round(naive_ms / ours_ms, 2) if naive else None,
        "ours_peak_mb": round(measured.peak_mb, 1),
        "script_tree_peak_mb": round(measured.peak_mb, 1),
    }


def stage_kanban(scales: list[float], env, timeout, work) -> list[dict[str, Any]]:
    sizes = {scale: max(100, round(1000 * scale)) for scale in scales}
    data, measured = run_script(
        "bench_kanban.py",
        ["--runs", "3", "--scratch-name", "report_kanban"]
        + ["--sizes", *(str(s) for s in sizes.values())],
        env,
        timeout,
        work,
    )
    by_cards = {row["cards"]: row for row in data["rows"]}
    rows = []
    for scale, cards in sizes.items():
        one = by_cards[cards]
        for kind in ("query", "page"):
            ours_ms, naive_ms = one[f"ours_{kind}_ms"], one[f"naive_{kind}_ms"]
            rows.append(
                {
                    "stage": f"kanban_{kind}",
                    "scale": scale,
                    "n": cards,
                    "unit": "open cards (requests/s)",
                    **_request_times(ours_ms, naive_ms, measured),
                    "note": f"median of {data['runs']} runs; peak: the whole script, every size"
                    + ("" if kind == "query" else "; AppTest's fixed cost included"),
                }
            )
    return rows


def stage_dashboards(
    scales: list[float], env, timeout, work, naive_max_scale: float = 1.0
) -> list[dict[str, Any]]:
    rows = []
    for scale in scales:
        args = ["--scale", f"{scale:g}", "--runs", "3", "--scratch-name", "report_dashboards"]
        if scale > naive_max_scale:
            args.append("--no-naive")
        data, measured = run_script("bench_dashboards.py", args, env, timeout, work)
        naive = data.get("naive") or {}
        for tab, ours_ms in data["ours"].items():
            naive_ms = naive.get(tab)
            rows.append(
                {
                    "stage": f"dashboard_{tab.lower().replace(' ', '_')}",
                    "title": "Dashboard page floor: AppTest's fixed cost of a run"
                    if tab == "apptest floor"
                    else f"Dashboard server time: {tab} (naive: aggregated per request)",
                    "scale": scale,
                    "n": data["emails"],
                    "unit": "emails in the world (requests/s)",
                    **_request_times(ours_ms, naive_ms, measured),
                    "load_1m": data.get("load_average_1m"),
                    "note": f"naive not run above scale {naive_max_scale:g} (minutes per request)"
                    if naive_ms is None
                    else "peak: the whole script (world, dbt run, AppTest)",
                }
            )
    return rows


def graph_row(data: dict[str, Any], peak_mb: float | None = None) -> dict[str, Any]:
    """The report's row of one ``bench_graph.py`` result: wall time, peak memory, size."""
    mat, ins = data["materialize"], data["inspect"]
    emails = ins["rows"].get("raw.emails") or 0
    steps = [step for one in ins.get("runs", []) for step in one["steps"]]
    slowest = sorted(steps, key=lambda s: -s[1])[:4]
    home = data.get("home_bytes", {})
    return {
        "stage": "graph",
        "scale": data["scale"],
        "n": emails,
        "unit": "emails in the world",
        "ours_s": mat["wall_s"],
        "ours_per_s": round(emails / mat["wall_s"], 1) if mat["wall_s"] else None,
        "ours_peak_mb": mat["peak_mb"],
        "script_tree_peak_mb": peak_mb if peak_mb is not None else mat["peak_mb"],
        "load_1m": mat["load_before"][0],
        "warehouse_mb": round(ins["database_bytes"] / 1e6),
        "home_mb": {k: round(v / 1e6) for k, v in home.items()},
        "exit_code": mat["exit_code"],
        "note": f"exit {mat['exit_code']}; warehouse {ins['database_bytes'] / 1e6:,.0f} MB,"
        f" Qdrant {home.get('qdrant', 0) / 1e6:,.0f} MB, attachments"
        f" {home.get('attachments', 0) / 1e6:,.0f} MB; peak: the run's tree and the embedded"
        " PostgreSQL; slowest steps "
        + ", ".join(f"{key} {secs / 60:.1f} min" for key, secs, _ in slowest),
    }


def stage_graph(scales: list[float], env, timeout, work) -> list[dict[str, Any]]:
    rows = []
    for scale in scales:
        data, measured = run_script("bench_graph.py", ["--scale", f"{scale:g}"], env, timeout, work)
        rows.append(graph_row(data, round(measured.peak_mb, 1)))
    return rows


SCRIPT_RUNNERS = {
    "focus": stage_focus,
    "ml": stage_ml,
    "dbt": stage_dbt,
    "kanban": stage_kanban,
    "dashboards": stage_dashboards,
    "tender": stage_tender,
    "graph": stage_graph,
}


# --- analysis and rendering -------------------------------------------------------------------


def fit_exponent(points: Iterable[tuple[float, float]]) -> float | None:
    """Slope of the least-squares line through (log x, log y); None under two distinct x."""
    pts = [(math.log(x), math.log(y)) for x, y in points if x and y and x > 0 and y > 0]
    if len({x for x, _ in pts}) < 2:
        return None
    mean_x = sum(x for x, _ in pts) / len(pts)
    mean_y = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mean_x) ** 2 for x, _ in pts)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in pts)
    return sxy / sxx


def exponents(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per stage with two sizes or more: time and peak memory against n, ours and naive."""
    out = []
    for stage in dict.fromkeys(r["stage"] for r in rows):
        mine = [r for r in rows if r["stage"] == stage and r.get("n")]
        entry: dict[str, Any] = {"stage": stage, "n": [r["n"] for r in mine]}
        for path in ("ours", "naive"):
            n_key = f"{path}_n" if any(f"{path}_n" in r for r in mine) else "n"
            entry[f"{path}_time"] = _round(
                fit_exponent((r.get(n_key), r.get(f"{path}_s")) for r in mine)
            )
            peaks = {r.get(f"{path}_peak_mb") for r in mine}
            # one script run measured every size: its peak is one figure, not one per size
            shared = len(mine) > 1 and len(peaks) == 1 and "script_tree_peak_mb" in mine[0]
            entry[f"{path}_memory"] = (
                None
                if shared
                else _round(fit_exponent((r.get(n_key), r.get(f"{path}_peak_mb")) for r in mine))
            )
        if entry["ours_time"] is not None:
            out.append(entry)
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _num(value: Any, digits: int = 0) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, float) and digits == 0 and abs(value) < 10:
        return f"{value:,.2f}"
    return f"{value:,.{digits}f}" if isinstance(value, (int, float)) else str(value)


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        "# Benchmark report",
        "",
        f"`{report['command']}` on {m['date_utc']}, commit {m['git_commit']}.",
        "",
        f"Machine: {m['cores']} cores, {m['ram_gb']} GB RAM, Python {m['python']},"
        f" PostgreSQL {m.get('postgres', '?')}. Load average (1, 5, 15 min) at the start"
        f" {m['load_average_start']}, at the end {m.get('load_average_end', '?')}. The machine"
        " is shared: absolute rates move with the load, the ratio (ours and naive back to back)"
        " much less.",
        "",
        *(
            [
                f"Stages not run in this invocation ({', '.join(report['merged_stages'])}) are"
                " merged from earlier runs: "
                + "; ".join(
                    f"{one.get('date_utc', '?')} (commit {one.get('git_commit', '?')}, load"
                    f" {one.get('load_average_start', '?')} at its start)"
                    for one in m["merged_from"]
                )
                + "; each merged row says which.",
                "",
            ]
            if m.get("merged_from") and report.get("merged_stages")
            else []
        ),
        "Ratio = ours/s ÷ naive/s (higher is better for ours). Peak MB is the measured path's"
        " whole process tree (worker pools included). Rows marked so are measured on a sample.",
        "",
        "## Headline",
        "",
        "The largest scale run of each stage; the ratio at every scale run, smallest first.",
        "",
        "| stage | scale | n | ours/s | naive/s | ratio | ratio by scale | peak MB ours / naive |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    rows = report["stages"]
    for stage in dict.fromkeys(r["stage"] for r in rows):
        mine = sorted((r for r in rows if r["stage"] == stage), key=lambda r: r.get("scale") or 0)
        top = mine[-1]
        by_scale = ", ".join(
            f"{_scale(r.get('scale'))}: {_ratio(r.get('ratio'), bold=False)}" for r in mine
        )
        lines.append(
            f"| {_title(top)} | {_scale(top.get('scale'))} | {_num(top.get('n'))}"
            f" | {_num(top.get('ours_per_s'))} | {_num(top.get('naive_per_s'))}"
            f" | {_ratio(top.get('ratio'))} | {by_scale}"
            f" | {_num(top.get('ours_peak_mb'))} / {_num(top.get('naive_peak_mb'))} |"
        )
    for stage in dict.fromkeys(r["stage"] for r in rows):
        mine = [r for r in rows if r["stage"] == stage]
        lines += ["", f"## {_title(mine[0])}", ""]
        if stage in NAIVE_DESCRIPTION:
            lines += [f"Naive: {NAIVE_DESCRIPTION[stage]}.", ""]
        unit = mine[0].get("unit", "")
        lines += [
            f"| scale | n ({unit}) | ours s | naive s | ours/s | naive/s | ratio"
            " | peak MB ours | peak MB naive | load | note |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for r in sorted(mine, key=lambda r: r.get("scale") or 0):
            lines.append(
                f"| {_scale(r.get('scale'))} | {_num(r.get('n'))} | {_num(r.get('ours_s'), 2)}"
                f" | {_num(r.get('naive_s'), 2)} | {_num(r.get('ours_per_s'))}"
                f" | {_num(r.get('naive_per_s'))} | {_ratio(r.get('ratio'))}"
                f" | {_num(r.get('ours_peak_mb'))} | {_num(r.get('naive_peak_mb'))}"
                f" | {_num(r.get('load_1m'), 1)} | {_note(r)} |"
            )
    fits = report["exponents"]
    lines += ["", "## How cost grows", ""]
    if fits:
        lines += [
            "Least-squares slope through (log n, log y) over the scales run: time ∝ n^a,"
            " peak memory ∝ n^b (a ≈ 1 is linear; b ≈ 0 is flat memory).",
            "",
            "| stage | n | ours time | ours memory | naive time | naive memory |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for f in fits:
            lines.append(
                f"| {_title({'stage': f['stage']})} | {', '.join(f'{n:,}' for n in f['n'])}"
                f" | {_power(f['ours_time'])} | {_power(f['ours_memory'])}"
                f" | {_power(f['naive_time'])} | {_power(f['naive_memory'])} |"
            )
    else:
        lines.append("Fewer than two scales per stage were run: no exponent.")
    scales = report.get("scales_by_stage", {})
    limited = [f"{s}: {', '.join(f'{x:g}' for x in v)}" for s, v in scales.items()]
    if limited:
        lines += ["", "Scales run per stage: " + "; ".join(limited) + "."]
    if report.get("notes"):
        lines += ["", "## Notes", ""]
        lines += [f"- {note}" for note in report["notes"]]
    if report["not_run"]:
        lines += ["", "## Not run", ""]
        lines += [f"- **{n['stage']}**: {n['reason']}" for n in report["not_run"]]
    if report["wall_s"] >= 1:
        lines += ["", f"Total wall time of this invocation {report['wall_s'] / 60:.1f} min."]
    lines.append("")
    return "\n".join(lines)


def _note(row: dict[str, Any]) -> str:
    note = row.get("note") or ""
    if row.get("merged_from"):
        note = f"{note}; run of {row['merged_from']}" if note else f"run of {row['merged_from']}"
    return note


def _title(row: dict[str, Any]) -> str:
    return row.get("title") or TITLES.get(row["stage"], row["stage"])


def _ratio(value: Any, bold: bool = True) -> str:
    if value in (None, ""):
        return "—"
    return f"**{value:,.1f}x**" if bold else f"{value:,.1f}x"


def _scale(value: Any) -> str:
    return "—" if value is None else f"{value:g}"


def _power(value: float | None) -> str:
    return "—" if value is None else f"∝ n^{value:.2f}"


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
    rows = [
        dict(r, merged_from=when)
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
            merged_from.append(json.loads(earlier.read_text())["machine"])
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
