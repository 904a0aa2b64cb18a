"""Headless materialisation of Dagster assets with a progress display and a summary.

Runs in-process against the configured Dagster instance, so the run shows up in the
Dagster UI's history like any other. The console shows progress and the summary only:
dbt's per-node lines and the run's logs go to ``$PEBBLE_HOME/logs/materialize.log`` (and
the Dagster UI). As it goes, the run's state is written to the status file
(:mod:`pebble.status`) that the app shows as a banner.

A failed source does not stop the others: with Tally down, mail is still landed, scored
and carded, and the summary names the failed assets and their errors.

Every asset (``*``) is materialised in runs one after the other (:func:`stages`): the ERP
landings, the lead lists and the warehouse models first, so that scoring, which links mail
to companies, orders and stock items through ``marts.crm_companies``,
``marts.stock_levels`` and ``marts.sales_orders``, finds them on the very first run; then
the mail, the scoring and the cards, and what reads them.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from pebble import db
from pebble.settings import get_settings
from pebble.status import FAILED, INTERRUPTED, RUNNING, SUCCEEDED, RunStatus, write_status


@dataclass
class MaterializeSummary:
    """What a materialisation did: per asset rows and per check outcome, and what failed."""

    run_id: str
    success: bool
    seconds: float
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed_steps: list[str] = field(default_factory=list)
    #: failed step -> its error, one line ("TALLY_CONNECTION_FAILED: ...")
    failures: dict[str, str] = field(default_factory=dict)
    #: selected assets that were not materialised (their step failed, or an upstream did)
    not_materialised: list[str] = field(default_factory=list)

    @property
    def checks_passed(self) -> int:
        return sum(1 for c in self.checks.values() if c["passed"])

    @property
    def checks_failed(self) -> int:
        return len(self.checks) - self.checks_passed

    def failure_lines(self) -> list[str]:
        return [f"{step}: {message}" for step, message in self.failures.items()]


#: Dagster's exceptions around the one a step raised (retries exhausted, user-code errors).
WRAPPERS = {
    "DagsterExecutionStepExecutionError",
    "DagsterUserCodeExecutionError",
    "RetryRequestedFromPolicy",
}


def _metadata_value(value: Any) -> Any:
    return getattr(value, "value", value)


def _failure_message(event: Any) -> str:
    """One line saying why a step failed: a typed failure's description, else the error."""
    data = event.step_failure_data
    user = getattr(data, "user_failure_data", None)
    if user is not None and user.description:
        text = user.description
    elif data.error is not None:
        error = data.error
        # the error the step's code raised, not Dagster's wrappers around it
        while error.cause is not None and error.cls_name in WRAPPERS:
            error = error.cause
        text = error.message.strip()
        if error.cls_name and not text.startswith(error.cls_name):
            text = f"{error.cls_name}: {text}"
    else:
        text = "failed"
    return " ".join(text.split())[:500]


def collect_summary(
    instance: Any,
    run_id: str,
    success: bool,
    seconds: float,
    selected: set[str] | None = None,
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
                "rejected": meta.get("rejected"),
            }
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            key = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
            summary.checks[key] = {
                "passed": bool(evaluation.passed),
                "severity": evaluation.severity.value if evaluation.severity else None,
            }
        elif event.event_type == DagsterEventType.STEP_FAILURE:
            step = event.step_key or "?"
            summary.failed_steps.append(step)
            summary.failures[step] = _failure_message(event)
    if selected is not None:
        summary.not_materialised = sorted(selected - set(summary.assets))
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


@contextlib.contextmanager
def _no_dagster_notices() -> Iterator[None]:
    """Dagster's beta/preview notices (about its own APIs, e.g. selection parsing) are not
    for the person running `pebble materialize`."""
    from dagster import BetaWarning, PreviewWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BetaWarning)
        warnings.simplefilter("ignore", PreviewWarning)
        yield


@contextlib.contextmanager
def _quiet_console(log_path: Path) -> Iterator[None]:
    """While a run goes, the console shows progress only. What the run's code logs (a
    connector's retries, say) and what its tools print (dbt's per-node lines) go to
    ``log_path``; Dagster keeps its own event log for the UI."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a", encoding="utf-8") as log, _no_dagster_notices():
        handler = logging.StreamHandler(log)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        console_handlers = root.handlers[:]
        for existing in console_handlers:
            root.removeHandler(existing)
        root.addHandler(handler)
        log.write(f"\n=== materialisation started {datetime.now(UTC).isoformat()}\n")
        try:
            with contextlib.redirect_stdout(log):
                yield
        finally:
            root.removeHandler(handler)
            for existing in console_handlers:
                root.addHandler(existing)


def stages(select: str = "*", cards_first: bool = False) -> tuple[Any, ...]:
    """The runs that materialise ``select``, in order (Dagster selections).

    A selection other than every asset (``*``) is one run. Every asset is two runs:

    1. the ERP landings, the lead lists and the warehouse dbt step (the CRM master, stock,
       orders, the activity stream) with the staging models it reads: no mail, no ML;
    2. everything else (mail, the classifier, scoring, the cards), and again every model
       downstream of mail or ML, now that the mail is there.

    ``cards_first`` (`pebble up`) splits the second run in two, so the cards show within
    minutes, before the model is trained: mail and the cards step (unclassified cards);
    then the classifier, scoring and everything downstream of mail or ML."""
    if select != "*":
        return (select,)
    from dagster import AssetSelection

    from orchestration.defs.dbt.assets import pebble_dbt_cards, pebble_dbt_warehouse
    from orchestration.defs.mail.assets import raw_emails

    mail = AssetSelection.assets(raw_emails)
    ml = AssetSelection.groups("ml")
    erp_first = AssetSelection.assets(pebble_dbt_warehouse).upstream() - mail - ml
    after_mail = (mail | ml).downstream()
    if not cards_first:
        return (erp_first, (AssetSelection.all() - erp_first) | after_mail)
    cards = mail | AssetSelection.assets(pebble_dbt_cards)
    return (
        erp_first,
        cards,
        (AssetSelection.all() - erp_first - cards) | (after_mail - mail),
    )


def selected_keys(select: Any) -> set[Any]:
    """The executable asset keys a Dagster selection (or selection string) names."""
    from dagster import AssetSelection

    from orchestration.definitions import defs

    with _no_dagster_notices():
        graph = defs.resolve_asset_graph()
        selection = AssetSelection.from_string(select) if isinstance(select, str) else select
        return {key for key in selection.resolve(graph) if graph.get(key).is_executable}


def materialize(
    select: Any = "*",
    console: Console | None = None,
    *,
    log_path: Path | None = None,
    cards_first: bool = False,
) -> MaterializeSummary:
    """Materialise the selected assets (and their checks) in the runs :func:`stages` plans,
    one after the other, with a live progress display; one summary for them all.

    A run that fails does not stop the next: with the ERPs down, the first run fails its
    landings and the mail is still landed, scored and carded by the next."""
    planned = stages(select, cards_first) if isinstance(select, str) else (select,)
    status = RunStatus(state=RUNNING, total=sum(len(selected_keys(s)) for s in planned))
    summaries = [
        materialize_run(
            stage, console=console, log_path=log_path, status=status, last=i == len(planned) - 1
        )
        for i, stage in enumerate(planned)
    ]
    return merge_summaries(summaries)


def merge_summaries(summaries: list[MaterializeSummary]) -> MaterializeSummary:
    """One summary for runs made one after the other: the latest outcome of each asset and
    check, every failure, and what no run materialised."""
    if len(summaries) == 1:
        return summaries[0]
    merged = MaterializeSummary(
        run_id=" ".join(s.run_id for s in summaries),
        success=all(s.success for s in summaries),
        seconds=sum(s.seconds for s in summaries),
    )
    selected: set[str] = set()
    for summary in summaries:
        merged.assets.update(summary.assets)
        merged.checks.update(summary.checks)
        merged.failed_steps.extend(s for s in summary.failed_steps if s not in merged.failed_steps)
        merged.failures.update(summary.failures)
        selected |= set(summary.not_materialised) | set(summary.assets)
    merged.not_materialised = sorted(selected - set(merged.assets))
    return merged


def materialize_run(
    select: Any = "*",
    console: Console | None = None,
    *,
    log_path: Path | None = None,
    status: RunStatus | None = None,
    last: bool = True,
) -> MaterializeSummary:
    """Materialise the selected assets (and their checks) in one run, with a live progress
    display.

    ``status``: the status of a materialisation in several runs, which this run adds to;
    unless ``last``, it still reads "running" when this run ends.
    """
    console = console or Console(stderr=True)
    db.apply_runtime_env()
    db.upgrade()
    from dagster import DagsterEventType, DagsterInstance

    from orchestration.definitions import defs
    from orchestration.defs.dbt.assets import UNIT_TESTS_TAG

    instance = DagsterInstance.get()
    with _no_dagster_notices():
        job = defs.resolve_implicit_global_asset_job_def()
    keys = selected_keys(select)
    run_id = str(uuid.uuid4())
    outcome: dict[str, Any] = {}
    if status is None:
        status = RunStatus(state=RUNNING, total=len(keys))
    status.state, status.run_id = RUNNING, run_id
    done_before, failed_before = status.done, list(status.failures)
    write_status(status)

    def execute() -> None:
        try:
            result = job.execute_in_process(
                instance=instance,
                run_id=run_id,
                asset_selection=sorted(keys),
                raise_on_error=False,
                # the progress bar and summary speak for the run (failures included);
                # the full logs are in the Dagster UI
                run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
                # a first run or a deploy: dbt's unit tests run too
                tags={"pebble/trigger": "pebble materialize", UNIT_TESTS_TAG: "true"},
            )
            outcome["success"] = result.success
        except Exception as exc:  # surfaced in the summary, never swallowed
            outcome["success"] = False
            outcome["error"] = exc

    started = time.monotonic()
    worker = threading.Thread(target=execute, name="pebble-materialize", daemon=True)
    log_path = log_path or get_settings().home / "logs" / "materialize.log"
    try:
        with (
            _quiet_console(log_path),
            Progress(
                SpinnerColumn(),
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total} assets"),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            ) as progress,
        ):
            task = progress.add_task("materialising", total=len(keys))
            worker.start()
            seen = 0
            done: set[str] = set()
            while worker.is_alive() or seen == 0:
                records = instance.all_logs(run_id) if instance.has_run(run_id) else []
                changed = False
                for record in records[seen:]:
                    event = record.dagster_event
                    if event is None:
                        continue
                    if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
                        key = event.asset_key.to_user_string()
                        if key not in done:
                            done.add(key)
                            progress.update(task, completed=len(done), description=key)
                            status.done, changed = done_before + len(done), True
                    elif event.event_type == DagsterEventType.STEP_START:
                        progress.update(task, description=f"running {event.step_key}")
                        # "ml__classifier_model" -> "ml/classifier_model", as the UI names it
                        status.current = (event.step_key or "").replace("__", "/")
                        changed = True
                    elif event.event_type == DagsterEventType.STEP_FAILURE:
                        status.failures.append(f"{event.step_key}: {_failure_message(event)}")
                        changed = True
                if changed:
                    write_status(status)
                seen = len(records)
                if not worker.is_alive():
                    break
                worker.join(timeout=0.5)
            worker.join()
    except KeyboardInterrupt:
        status.state, status.current = INTERRUPTED, None
        status.finished_at = datetime.now(UTC).isoformat()
        write_status(status)
        run = instance.get_run_by_id(run_id)
        if run is not None and not run.is_finished:
            instance.report_run_canceled(run, "interrupted (Ctrl-C)")
        raise
    if "error" in outcome:
        status.state = FAILED
        status.failures.append(f"run: {outcome['error']}")
        status.finished_at = datetime.now(UTC).isoformat()
        write_status(status)
        raise outcome["error"]
    summary = collect_summary(
        instance,
        run_id,
        bool(outcome.get("success")),
        time.monotonic() - started,
        selected={k.to_user_string() for k in keys},
    )
    status.current = None
    status.done = done_before + len(summary.assets)
    status.failures = failed_before + summary.failure_lines()
    if not summary.success and not summary.failures:
        status.failures.append(f"run {run_id} failed")
    if last:
        status.state = FAILED if status.failures else SUCCEEDED
        status.finished_at = datetime.now(UTC).isoformat()
    write_status(status)
    return summary


def print_summary(summary: MaterializeSummary, console: Console) -> None:
    table = Table(title=f"Materialised {len(summary.assets)} assets in {summary.seconds:.1f}s")
    table.add_column("asset")
    table.add_column("rows", justify="right")
    table.add_column("added", justify="right")
    table.add_column("rejected", justify="right")
    for key, info in sorted(summary.assets.items()):
        rows = "" if info["rows"] is None else str(info["rows"])
        added = "" if info["rows_added"] is None else str(info["rows_added"])
        rejected = "" if info.get("rejected") is None else str(info["rejected"])
        table.add_row(key, rows, added, rejected)
    console.print(table)
    console.print(f"checks: {summary.checks_passed} passed, {summary.checks_failed} failed")
    for key, check in sorted(summary.checks.items()):
        if not check["passed"]:
            console.print(f"  [red]failed[/red] {key} ({check['severity']})")
    for step, message in summary.failures.items():
        console.print(f"[red]failed[/red] {step}: {message}")
    if summary.not_materialised:
        console.print(f"not materialised: {', '.join(summary.not_materialised)}")
    console.print(f"run {summary.run_id}: {'[green]success' if summary.success else '[red]FAILED'}")


def run_materialize(select: str = "*", demo: bool = True, cards_first: bool = False) -> int:
    """CLI entry: start the demo stand-ins when this is a demo home (and ``demo``),
    materialise, stop them, print the summary; returns the exit code.

    ``cards_first`` (every asset only): the cards before the model, see :func:`stages`."""
    import os

    from pebble import procs

    procs.interruptible()  # a stop marks the run interrupted and stops the stand-ins
    console = Console()
    progress_console = Console(stderr=True)
    stand_ins: list[Any] = []
    embedded = db.is_embedded()  # decided before the resolved URL is exported
    try:
        if demo:
            from pebble.demo_stack import demo_decision, start_demo_stack

            wanted, reason = demo_decision()
            if wanted:
                env = db.apply_runtime_env()
                progress_console.print(reason)
                logs = get_settings().home / "logs"
                stack = start_demo_stack(
                    progress_console,
                    lambda cmd, log: procs.spawn(cmd, os.environ | env, log),
                    logs,
                    live=False,
                )
                stand_ins.extend(stack.procs)
                os.environ.update(stack.env)
        summary = materialize(select, console=progress_console, cards_first=cards_first)
    finally:
        procs.stop_all(stand_ins)
        if embedded:
            db.stop_embedded()
    print_summary(summary, console)
    return 0 if summary.success else 1
