"""The analysis and rendering of ``bench/report.py``: the exponent of "time ∝ n^a" per stage
and the Markdown report (headline, one table per stage, exponents, notes).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

TITLES = {
    "mail": "Email parse and land",
    "prelead": "Prelead load",
    "tally": "Tally parse",
    "events": "Event appends",
    "focus_pull": "Focus RT pull",
    "score_emails": "Classify, extract and embed (one process)",
    "score_emails_workers": "Classify, extract and embed (worker processes, the default for"
    " 2,000+ emails)",
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
