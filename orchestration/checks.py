"""Great Expectations suites run as Dagster asset checks on raw landings.

A :class:`TableSuite` names a raw table, the columns to read, optional derived columns
(e.g. a GSTIN check-character flag computed with python-stdnum) and the expectations.
Each suite becomes one blocking asset check on the table's asset, with every
expectation's outcome in the check's metadata. The suites themselves live beside the
source they check (``orchestration/defs/<source>/checks.py``); this module is the runner
and the helpers they share.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg
import pandas as pd
from psycopg import sql

from orchestration.resources import WarehouseResource

Derive = Callable[[pd.DataFrame], pd.DataFrame]


@dataclass(frozen=True)
class TableSuite:
    """Expectations on one raw table."""

    asset: tuple[str, ...]
    columns: tuple[str, ...]
    expectations: Callable[[], list[Any]]
    description: str
    derive: Derive | None = None
    name: str = field(default="")

    @property
    def table(self) -> tuple[str, str]:
        return self.asset[0], self.asset[1]

    @property
    def check_name(self) -> str:
        return self.name or f"gx_{self.asset[-1]}"


def read_table(conn: Any, suite: TableSuite) -> pd.DataFrame:
    """The suite's columns of its table (an empty frame with those columns if none)."""
    schema, table = suite.table
    query = sql.SQL("SELECT {} FROM {}.{}").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in suite.columns),
        sql.Identifier(schema),
        sql.Identifier(table),
    )
    with conn.cursor() as cur:
        cur.execute(query)
        frame = pd.DataFrame(cur.fetchall(), columns=list(suite.columns))
    return suite.derive(frame) if suite.derive else frame


def validate(frame: pd.DataFrame, suite: TableSuite) -> tuple[bool, dict[str, Any]]:
    """Run the suite's expectations on ``frame``; returns (success, per-expectation metadata)."""
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = gx.data_context.types.base.ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas(name="pebble")
    asset = source.add_dataframe_asset(name=suite.check_name)
    batch = asset.add_batch_definition_whole_dataframe("all").get_batch(
        batch_parameters={"dataframe": frame}
    )
    expectation_suite = gx.ExpectationSuite(name=suite.check_name)
    for expectation in suite.expectations():
        expectation_suite.add_expectation(expectation)
    result = batch.validate(expectation_suite)
    outcomes: dict[str, Any] = {"rows": len(frame)}
    for item in result.results:
        config = item.expectation_config
        column = config.kwargs.get("column") or ",".join(config.kwargs.get("column_list", []))
        label = f"{config.type}({column})" if column else config.type
        observed = item.result.get("observed_value", item.result.get("unexpected_percent"))
        outcomes[label] = f"{'ok' if item.success else 'FAILED'} (observed: {observed})"
    return bool(result.success), outcomes


def suite_checks(suites: Sequence[TableSuite]) -> list[dg.AssetChecksDefinition]:
    """One blocking asset check per suite."""
    return [_suite_check(suite) for suite in suites]


def _suite_check(suite: TableSuite) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(list(suite.asset)),
        name=suite.check_name,
        description=suite.description,
        blocking=True,
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connection() as conn:
            frame = read_table(conn, suite)
        passed, metadata = validate(frame, suite)
        return dg.AssetCheckResult(passed=passed, metadata=metadata)

    return _check


# --------------------------------------------------------------- helpers the suites share


def gx_expectations():
    """``great_expectations.expectations``, imported when a suite runs (it is slow to load)."""
    import great_expectations as gx

    return gx.expectations


EPOCH = date(1970, 1, 1)


def date_window() -> dict[str, int]:
    """Business dates must be real: not before 2000, not after tomorrow (days since 1970)."""
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
    return {"min_value": (date(2000, 1, 1) - EPOCH).days, "max_value": (tomorrow - EPOCH).days}


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
    table: str, keys: tuple[str, ...], amounts: tuple[str, ...], what: str
) -> TableSuite:
    """A suite for line and detail tables: keys present and unique, amounts not negative."""

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
        description=f"Great Expectations: {what}.",
    )
