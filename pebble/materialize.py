"""Headless materialisation of Dagster assets with a progress display and a summary.

Runs in-process against the configured Dagster instance, so the run shows up in the
Dagster UI's history like any other.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from pebble import db


@dataclass
class MaterializeSummary:
    """What a materialisation did: per asset rows and per check outcome."""

    run_id: str
    success: bool
    seconds: float
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed_steps: list[str] = field(default_factory=list)

    @property
    def checks_passed(self) -> int:
        return sum(1 for c in self.checks.values() if c["passed"])

    @property
    def checks_failed(self) -> int:
        return len(self.checks) - self.checks_passed


def _metadata_value(value: Any) -> Any:
    return getattr(value, "value", value)


def collect_summary(
    instance: Any, run_id: str, success: bool, seconds: float
) -> MaterializeSummary:
    """Read a finished run's events into a :class:`MaterializeSummary`."""
    from dagster import DagsterEventType

    summary = MaterializeSummary(run_id=run_id, success=success, seconds=seconds)
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None:
            continue
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            mat = event.step_materialization_data.materialization
            meta = {k: _metadata_value(v) for k, v in mat.metadata.items()}
            summary.assets[mat.asset_key.to_user_string()] = {
                "rows": meta.get("dagster/row_count"),
                "rows_added": meta.get("rows_added"),
            }
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            key = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
            summary.checks[key] = {
                "passed": bool(evaluation.passed),
                "severity": evaluation.severity.value if evaluation.severity else None,
            }
        elif event.event_type == DagsterEventType.STEP_FAILURE:
            summary.failed_steps.append(event.step_key or "?")
    _fill_row_counts(summary)
    return summary


def _fill_row_counts(summary: MaterializeSummary) -> None:
    """Asset keys are warehouse paths: count rows of tables whose asset did not report them."""
    import psycopg
    from psycopg import sql

    missing = [key for key, info in summary.assets.items() if info["rows"] is None]
    if not missing:
        return
    with psycopg.connect(db.warehouse_url(), autocommit=True) as conn:
        for key in missing:
            parts = key.split("/")
            if len(parts) != 2:
                continue
            exists = conn.execute("SELECT to_regclass(%s)", (f'"{parts[0]}"."{parts[1]}"',))
            if exists.fetchone()[0] is None:
                continue
            query = sql.SQL("SELECT count(*) FROM {}.{}").format(
                sql.Identifier(parts[0]), sql.Identifier(parts[1])
            )
            summary.assets[key]["rows"] = conn.execute(query).fetchone()[0]


def materialize(select: str = "*", console: Console | None = None) -> MaterializeSummary:
    """Materialise the selected assets (and their checks) with a live progress display."""
    console = console or Console(stderr=True)
    db.apply_runtime_env()
    from dagster import AssetSelection, DagsterEventType, DagsterInstance

    from orchestration.definitions import defs

    instance = DagsterInstance.get()
    job = defs.resolve_implicit_global_asset_job_def()
    graph = defs.resolve_asset_graph()
    keys = AssetSelection.from_string(select).resolve(graph)
    run_id = str(uuid.uuid4())
    outcome: dict[str, Any] = {}

    def execute() -> None:
        try:
            result = job.execute_in_process(
                instance=instance,
                run_id=run_id,
                asset_selection=sorted(keys),
                raise_on_error=False,
                # the progress bar and summary speak for the run; full logs stay in the UI
                run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
                tags={"pebble/trigger": "pebble materialize"},
            )
            outcome["success"] = result.success
        except Exception as exc:  # surfaced in the summary, never swallowed
            outcome["success"] = False
            outcome["error"] = exc

    started = time.monotonic()
    worker = threading.Thread(target=execute, name="pebble-materialize", daemon=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} assets"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("materialising", total=len(keys))
        worker.start()
        seen = 0
        done: set[str] = set()
        while worker.is_alive() or seen == 0:
            records = instance.all_logs(run_id) if instance.has_run(run_id) else []
            for record in records[seen:]:
                event = record.dagster_event
                if event is None:
                    continue
                if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
                    key = event.asset_key.to_user_string()
                    if key not in done:
                        done.add(key)
                        progress.update(task, completed=len(done), description=key)
                elif event.event_type == DagsterEventType.STEP_START:
                    progress.update(task, description=f"running {event.step_key}")
            seen = len(records)
            if not worker.is_alive():
                break
            worker.join(timeout=0.5)
        worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return collect_summary(
        instance, run_id, bool(outcome.get("success")), time.monotonic() - started
    )


def print_summary(summary: MaterializeSummary, console: Console) -> None:
    table = Table(title=f"Materialised {len(summary.assets)} assets in {summary.seconds:.1f}s")
    table.add_column("asset")
    table.add_column("rows", justify="right")
    table.add_column("added", justify="right")
    for key, info in sorted(summary.assets.items()):
        rows = "" if info["rows"] is None else str(info["rows"])
        added = "" if info["rows_added"] is None else str(info["rows_added"])
        table.add_row(key, rows, added)
    console.print(table)
    console.print(
        f"checks: {summary.checks_passed} passed, {summary.checks_failed} failed"
        + (f"; failed steps: {', '.join(summary.failed_steps)}" if summary.failed_steps else "")
    )
    for key, check in sorted(summary.checks.items()):
        if not check["passed"]:
            console.print(f"  [red]failed[/red] {key} ({check['severity']})")
    console.print(f"run {summary.run_id}: {'[green]success' if summary.success else '[red]FAILED'}")


def run_materialize(select: str = "*") -> int:
    """CLI entry: materialise, print the summary, return the exit code."""
    console = Console()
    summary = materialize(select, console=Console(stderr=True))
    print_summary(summary, console)
    return 0 if summary.success else 1
