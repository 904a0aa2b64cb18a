"""Great Expectations suites run as Dagster asset checks on raw landings.

A :class:`TableSuite` names a raw table, the columns to read, optional derived columns
(e.g. a GSTIN check-character flag computed with python-stdnum) and the expectations.
Each suite becomes one asset check on the table's asset (blocking unless the suite says
otherwise), with every expectation's outcome in the check's metadata. The suites live
beside the source they check (``orchestration/defs/<source>/checks.py``); this module is
the runner and the helpers they share.

**Only new rows are checked.** A check reads the rows landed since the previous check of
this table, found by the table's landing marker (``loaded_at``, or its parent's for line
tables), never the whole table: history that Tally legitimately allows (a negative
closing stock, a post-dated voucher) or a batch already judged cannot fail every later run.
The window's bounds are the warehouse's own ``loaded_at`` values, kept in the check's
metadata (``landed_window``); the next check starts where the previous one ended. A check
run again on the same materialisation (a re-execution from the UI) re-checks the same
window, so it cannot pass just because it was run twice. Rows are read with one
parameterised query through a server-side cursor, :data:`CHUNK_ROWS` at a time.

**Ratios.** An expectation with ``mostly`` states that exceptions are legal. Over a small
window a ratio means little (one post-dated voucher among three is 67%), so such an
expectation always tolerates :data:`RATIO_EXCEPTIONS_TOLERATED` exception per chunk, and
otherwise holds to its ratio.

Written without ``from __future__ import annotations``: Dagster reads the check's
``context`` annotation at definition time.
"""

import itertools
import numbers
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg
import pandas as pd
import psycopg
from dagster import AssetCheckExecutionContext
from psycopg import sql

from orchestration.resources import WarehouseResource

Derive = Callable[[pd.DataFrame], pd.DataFrame]

#: Rows read into one DataFrame and validated at once; a window holding more is
#: validated chunk by chunk (uniqueness and ratios then hold within each chunk).
CHUNK_ROWS = 50_000
#: An expectation with ``mostly`` passes with this many exceptions whatever its ratio.
RATIO_EXCEPTIONS_TOLERATED = 1
#: Rows named (by the suite's first column, its key) in a failed expectation's metadata.
EXAMPLES_SHOWN = 5
#: Check evaluations looked at to find where the previous window ended.
HISTORY_LOOKBACK = 20
#: Metadata key of the window a check read: {"from": iso | None, "to": iso | None}.
WINDOW_KEY = "landed_window"


@dataclass(frozen=True)
class Landed:
    """Where a table records when its rows landed: its own ``column``, or (line tables,
    whose rows are replaced with their document) the ``column`` of ``parent``, joined on
    ``on`` pairs of (this table's column, the parent's column)."""

    column: str = "loaded_at"
    parent: str | None = None
    on: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TableSuite:
    """Expectations on the newly landed rows of one raw table."""

    asset: tuple[str, ...]
    columns: tuple[str, ...]
    expectations: Callable[[], list[Any]]
    description: str
    derive: Derive | None = None
    name: str = field(default="")
    landed: Landed = field(default_factory=Landed)
    #: False: a failure is a warning (severity WARN) and blocks nothing downstream
    blocking: bool = True

    @property
    def table(self) -> tuple[str, str]:
        return self.asset[0], self.asset[1]

    @property
    def check_name(self) -> str:
        return self.name or f"gx_{self.asset[-1]}"

    @property
    def check_key(self) -> dg.AssetCheckKey:
        return dg.AssetCheckKey(dg.AssetKey(list(self.asset)), self.check_name)


# ------------------------------------------------------------------------ the window


@dataclass(frozen=True)
class Window:
    """Rows whose landing marker is in ``(since, until]``; ``since`` None: from the start."""

    since: datetime | None
    until: datetime | None

    def as_metadata(self) -> dict[str, str | None]:
        return {
            "from": self.since.isoformat() if self.since else None,
            "to": self.until.isoformat() if self.until else None,
        }

    @staticmethod
    def from_metadata(metadata: Any) -> "Window | None":
        """The window a previous evaluation recorded (None if it recorded none)."""
        value = getattr(metadata.get(WINDOW_KEY), "value", None) if metadata else None
        if not isinstance(value, dict):
            return None
        return Window(_parse(value.get("from")), _parse(value.get("to")))


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _source(suite: TableSuite) -> tuple[sql.Composable, sql.Composable]:
    """(FROM clause, marker column) of a suite: the table as ``t``, its parent as ``p``."""
    schema, table = suite.table
    landed = suite.landed
    source: sql.Composable = sql.SQL("{}.{} AS t").format(
        sql.Identifier(schema), sql.Identifier(table)
    )
    if landed.parent is None:
        return source, sql.Identifier("t", landed.column)
    join = sql.SQL(" AND ").join(
        sql.SQL("p.{} = t.{}").format(sql.Identifier(parent), sql.Identifier(child))
        for child, parent in landed.on
    )
    source = sql.SQL("{} JOIN {}.{} AS p ON {}").format(
        source, sql.Identifier(schema), sql.Identifier(landed.parent), join
    )
    return source, sql.Identifier("p", landed.column)


def window_end(conn: psycopg.Connection, suite: TableSuite) -> datetime | None:
    """The newest landing marker of the suite's table (its parent's for line tables)."""
    schema, table = suite.table
    owner = suite.landed.parent or table
    query = sql.SQL("SELECT max({}) FROM {}.{}").format(
        sql.Identifier(suite.landed.column), sql.Identifier(schema), sql.Identifier(owner)
    )
    return conn.execute(query).fetchone()[0]


def read_window(
    conn: psycopg.Connection, suite: TableSuite, window: Window, chunk_rows: int = CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """The suite's columns of the rows landed in ``window``, ``chunk_rows`` at a time (each
    chunk derived). Needs a connection inside a transaction (a server-side cursor)."""
    if window.until is None:
        return
    source, marker = _source(suite)
    query = sql.SQL("SELECT {} FROM {} WHERE {} <= %s").format(
        sql.SQL(", ").join(sql.Identifier("t", c) for c in suite.columns), source, marker
    )
    params: list[Any] = [window.until]
    if window.since is not None:
        query += sql.SQL(" AND {} > %s").format(marker)
        params.append(window.since)
    with conn.cursor(name=f"gx_{suite.check_name}") as cur:
        cur.itersize = chunk_rows
        cur.execute(query, params)
        while rows := cur.fetchmany(chunk_rows):
            frame = pd.DataFrame(rows, columns=list(suite.columns))
            yield suite.derive(frame) if suite.derive else frame


def window_start(instance: dg.DagsterInstance, suite: TableSuite) -> datetime | None:
    """Where this check's window starts: the end of the previous check's window, or the
    start of it when that check judged the same materialisation (a re-execution). None:
    no earlier check, every row is new."""
    from dagster._core.storage.asset_check_execution_record import (
        COMPLETED_ASSET_CHECK_EXECUTION_RECORD_STATUSES,
    )

    latest = instance.fetch_materializations(dg.AssetKey(list(suite.asset)), limit=1).records
    current = latest[0].storage_id if latest else None
    history = instance.event_log_storage.get_asset_check_execution_history(
        suite.check_key,
        limit=HISTORY_LOOKBACK,
        status=COMPLETED_ASSET_CHECK_EXECUTION_RECORD_STATUSES,
    )
    for record in history:
        if record.event is None or record.event.dagster_event is None:
            continue
        evaluation = record.event.dagster_event.event_specific_data
        window = Window.from_metadata(evaluation.metadata)
        target = evaluation.target_materialization_data
        if current is not None and target is not None and target.storage_id == current:
            if window is not None:
                return window.since
            continue  # judged by an earlier release: look further back
        if window is not None:
            return window.until
        # an earlier release checked the whole table then: rows landed after it are new
        return datetime.fromtimestamp(record.event.timestamp, UTC)
    return None


# ------------------------------------------------------------------------ validation


@dataclass
class _Outcome:
    """One expectation's result summed over the chunks of a window."""

    passed: bool = True
    unexpected: int = 0
    elements: int = 0
    tolerated: int = 0
    observed: Any = None
    #: keys of some unexpected rows, so a reader can find them
    examples: list[str] = field(default_factory=list)


def validate(frame: pd.DataFrame, suite: TableSuite) -> tuple[bool, dict[str, Any]]:
    """Run the suite's expectations on one (derived) frame; (success, metadata)."""
    return validate_chunks([frame], suite)


def validate_chunks(
    frames: Iterable[pd.DataFrame], suite: TableSuite
) -> tuple[bool, dict[str, Any]]:
    """Run the suite's expectations on each frame; a failure in any chunk fails the suite.
    No frames (an empty window) passes without loading Great Expectations at all."""
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        return True, {"rows": 0}
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = gx.data_context.types.base.ProgressBarsConfig(globally=False)
    batches = (
        context.data_sources.add_pandas(name="pebble")
        .add_dataframe_asset(name=suite.check_name)
        .add_batch_definition_whole_dataframe("all")
    )
    expectation_suite = gx.ExpectationSuite(name=suite.check_name)
    for expectation in suite.expectations():
        expectation_suite.add_expectation(expectation)

    outcomes: dict[str, _Outcome] = {}
    rows = chunks = 0
    for frame in itertools.chain((first,), frames):
        rows += len(frame)
        chunks += 1
        result = batches.get_batch(batch_parameters={"dataframe": frame}).validate(
            expectation_suite
        )
        for item in result.results:
            outcome = outcomes.setdefault(_label(item.expectation_config), _Outcome())
            _add(outcome, item)
            _name_examples(outcome, item, frame[suite.columns[0]])
    metadata: dict[str, Any] = {"rows": rows}
    if chunks > 1:
        metadata["chunks"] = chunks
    metadata.update({label: _render(o) for label, o in outcomes.items()})
    return all(o.passed for o in outcomes.values()), metadata


def _label(config: Any) -> str:
    if config.description:
        return config.description
    column = config.kwargs.get("column") or ",".join(config.kwargs.get("column_list", []))
    return f"{config.type}({column})" if column else config.type


def _add(outcome: _Outcome, item: Any) -> None:
    """Fold one chunk's result into ``outcome``, tolerating a ratio rule's lone exception."""
    result = item.result or {}
    unexpected = int(result.get("unexpected_count") or 0)
    passed = bool(item.success)
    mostly = item.expectation_config.kwargs.get("mostly")
    if not passed and mostly is not None and 0 < unexpected <= RATIO_EXCEPTIONS_TOLERATED:
        passed = True
        outcome.tolerated += unexpected
    outcome.passed = outcome.passed and passed
    outcome.unexpected += unexpected
    outcome.elements += int(result.get("element_count") or 0)
    if outcome.observed is None or not passed:
        outcome.observed = result.get("observed_value", result.get("unexpected_percent"))


def _name_examples(outcome: _Outcome, item: Any, keys: pd.Series) -> None:
    """Add the keys of a few rows an expectation found unexpected."""
    indexes = (item.result or {}).get("partial_unexpected_index_list") or []
    for index in indexes[: EXAMPLES_SHOWN - len(outcome.examples)]:
        if isinstance(index, numbers.Integral) and index in keys.index:
            outcome.examples.append(str(keys.loc[index]))


def _render(outcome: _Outcome) -> str:
    state = "ok" if outcome.passed else "FAILED"
    if outcome.elements or outcome.unexpected:
        text = f"{state} ({outcome.unexpected} unexpected of {outcome.elements}"
        if outcome.tolerated:
            text += f"; {outcome.tolerated} tolerated"
        if outcome.examples:
            text += f": {', '.join(outcome.examples)}"
        return text + ")"
    return f"{state} (observed: {outcome.observed})"


# ------------------------------------------------------------------------ the checks


def suite_checks(suites: Sequence[TableSuite]) -> list[dg.AssetChecksDefinition]:
    """One asset check per suite (blocking unless the suite is a warning)."""
    return [_suite_check(suite) for suite in suites]


def run_suite(
    instance: dg.DagsterInstance, warehouse: WarehouseResource, suite: TableSuite
) -> tuple[bool, dict[str, Any]]:
    """Validate the rows landed since the previous check; (success, metadata with window)."""
    since = window_start(instance, suite)
    # one transaction: the server-side cursor needs it, and the window is one snapshot
    with warehouse.connection(autocommit=False) as conn:
        until = window_end(conn, suite)
        if until is None or (since is not None and until < since):
            until = since  # nothing landed since: an empty window, the same end
        window = Window(since, until)
        passed, metadata = validate_chunks(read_window(conn, suite, window), suite)
    metadata[WINDOW_KEY] = dg.MetadataValue.json(window.as_metadata())
    return passed, metadata


def _suite_check(suite: TableSuite) -> dg.AssetChecksDefinition:
    severity = dg.AssetCheckSeverity.ERROR if suite.blocking else dg.AssetCheckSeverity.WARN

    @dg.asset_check(
        asset=dg.AssetKey(list(suite.asset)),
        name=suite.check_name,
        description=suite.description,
        blocking=suite.blocking,
    )
    def _check(
        context: AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> dg.AssetCheckResult:
        passed, metadata = run_suite(context.instance, warehouse, suite)
        return dg.AssetCheckResult(passed=passed, metadata=metadata, severity=severity)

    return _check


# --------------------------------------------------------------- helpers the suites share


def gx_expectations():
    """``great_expectations.expectations``, imported when a suite runs (it is slow to load)."""
    import great_expectations as gx

    return gx.expectations


EPOCH = date(1970, 1, 1)


def _days(day: date) -> int:
    return (day - EPOCH).days


def date_window(ahead: timedelta = timedelta(days=1)) -> dict[str, int]:
    """Business dates must be real: not before 2000, not more than ``ahead`` after today
    (days since 1970, for a range expectation on an :func:`epoch_days` column)."""
    latest = (datetime.now(UTC) + ahead).date()
    return {"min_value": _days(date(2000, 1, 1)), "max_value": _days(latest)}


def not_after_tomorrow() -> dict[str, int]:
    """Range bound for "dated no later than tomorrow" (days since 1970)."""
    return {"max_value": _days((datetime.now(UTC) + timedelta(days=1)).date())}


def epoch_days(column: str) -> Derive:
    """A derive step adding ``<column>_days`` (days since 1970, float) for range checks."""

    def derive(frame: pd.DataFrame) -> pd.DataFrame:
        frame[f"{column}_days"] = pd.to_numeric(
            frame[column].map(lambda d: None if pd.isna(d) else (d - EPOCH).days),
            errors="coerce",
        ).astype("float64")
        return frame

    return derive


def keys_and_amounts(
    table: str,
    keys: tuple[str, ...],
    amounts: tuple[str, ...],
    what: str,
    landed: Landed | None = None,
) -> TableSuite:
    """A suite for line and detail tables: keys present and unique, amounts not negative.
    ``landed``: where the rows' landing marker is (default: the table's ``loaded_at``)."""

    def expectations() -> list:
        gx = gx_expectations()
        checks = [gx.ExpectColumnValuesToNotBeNull(column=k) for k in keys]
        checks.append(
            gx.ExpectCompoundColumnsToBeUnique(column_list=list(keys))
            if len(keys) > 1
            else gx.ExpectColumnValuesToBeUnique(column=keys[0])
        )
        checks += [gx.ExpectColumnValuesToBeBetween(column=a, min_value=0) for a in amounts]
        return checks

    return TableSuite(
        asset=("raw", table),
        columns=(*keys, *amounts),
        expectations=expectations,
        description=f"Great Expectations on newly landed rows: {what}.",
        landed=landed or Landed(),
    )


def lines_of(parent: str, key: str = "doc_no", parent_key: str | None = None) -> Landed:
    """Line rows land with their document: the document's ``loaded_at`` marks them."""
    return Landed(parent=parent, on=((key, parent_key or key),))
