"""The stages of ``bench/report.py`` whose own script runs as a whole (Focus RT pull, ML
scoring, tender notices, dbt, Kanban, dashboards, the whole graph): each is run with
``--json`` in a child measured by ``bench.measure.run_measured``, and its figures become the
report's rows. A script that cannot write the report's JSON yet is a :class:`StageError`
with the reason, never a crash of the report.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.measure import Measured, run_measured  # noqa: E402 - the project root is on sys.path now

BENCH = Path(__file__).resolve().parent


class StageError(RuntimeError):
    pass


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
        raise StageError(missing)
    scale_arg = ",".join(f"{s:g}" for s in scales)
    data, measured = run_script("bench_focus.py", ["--scales", scale_arg], env, timeout, work)
    return _merged(data, measured, "bench_focus.py")


def stage_ml(scales: list[float], env, timeout, work) -> list[dict[str, Any]]:
    missing = _script_supports("bench_ml.py", "--json", '"stages"', "--speed-only")
    if missing:
        raise StageError(missing)
    args = ["--speed-only", "--quick"]
    model = os.environ.get("PEBBLE_BENCH_ML_MODEL")
    if model:  # a trained artifact: the stage measures scoring without training first
        args += ["--model", model]
    data, measured = run_script("bench_ml.py", args, env, timeout, work)
    rows = _merged(data, measured, "bench_ml.py")
    for row in rows:  # the demo world at scale 1, the naive path on its first naive_n emails
        loads = row.get("load_1min") or []
        row.setdefault("scale", 1.0)
        row.setdefault("unit", "emails")
        row.setdefault("load_1m", sum(loads) / len(loads) if loads else None)
        if row.get("ours_per_s") and row.get("n"):
            row.setdefault("ours_s", round(row["n"] / row["ours_per_s"], 2))
        if row.get("naive_per_s") and row.get("naive_n"):
            row.setdefault("naive_s", round(row["naive_n"] / row["naive_per_s"], 2))
            row["note"] = f"naive on a sample of {row['naive_n']:,}; " + row.get("note", "")
    return rows + [worker_row(row) for row in rows if row.get("workers_per_s")]


def worker_row(row: dict[str, Any]) -> dict[str, Any]:
    """The worker processes' run of a ``score_emails`` row as a row of its own against the
    same naive baseline: what the asset runs once 2,000 or more emails are pending."""
    n, per_s = row.get("n"), row["workers_per_s"]
    naive = row.get("naive_per_s")
    return {
        "stage": "score_emails_workers",
        "scale": row.get("scale"),
        "n": n,
        "unit": row.get("unit", "emails"),
        "ours_per_s": per_s,
        "ours_s": round(n / per_s, 2) if n and per_s else None,
        "naive_per_s": naive,
        "ratio": round(per_s / naive, 2) if naive else None,
        "ours_peak_mb": row.get("workers_peak_mb"),
        "naive_peak_mb": row.get("naive_peak_mb"),
        "load_1m": row.get("load_1m"),
        "note": (
            f"{row.get('workers')} one-thread worker processes (ml.parallel), their start "
            f"({row.get('workers_startup_s')} s) included; "
            f"{row.get('workers_per_s_after_start')} emails/s after it; CPU per email "
            f"{row.get('workers_cpu_ms_per_email')} ms (in process "
            f"{row.get('ours_cpu_ms_per_email')} ms)"
        ),
    }


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
