"""The Tally checks judge only what each materialisation landed, through Dagster.

A Tally landing built with the real factory (``orchestration.landing.landing_asset``) and
the real Tally landing functions lands the vouchers and stock items given in its run
config; the real suites run as its asset checks, against a real PostgreSQL, with one
Dagster instance kept across runs (the checks find their previous window in its event
log). A small downstream asset shows what a blocking failure stops and a warning does not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import psycopg
import pytest

from ingest.common.report import LandReport
from ingest.tally.land import land_stock_items, land_vouchers
from orchestration.checks import suite_checks
from orchestration.defs.tally.assets import TABLES
from orchestration.defs.tally.checks import SUITES, TALLY_NEGATIVE_STOCK
from orchestration.landing import landing_asset
from orchestration.resources import WarehouseResource

FAR_FUTURE = "2099-01-01"


class TallyRows(dg.Config):
    """Vouchers (GUID -> ISO date) and stock items (name -> closing quantity) to land."""

    vouchers: dict[str, str] = {}
    stock: dict[str, float] = {}


def _sync(conn: psycopg.Connection, config: TallyRows, *, run_id: str) -> LandReport:
    """The Tally connector's landing without its HTTP client: the real land functions."""
    report = LandReport("tally", tables=tuple(TABLES))
    vouchers = [
        {
            "guid": guid,
            "voucher_type": "Sales",
            "is_cancelled": False,
            "is_optional": False,
            "number": guid,
            "date": dt.date.fromisoformat(day),
            "alter_id": 1,
            "lines": [{"line_no": 1, "item": "Zinc Oxide", "qty": 100, "amount": 26200}],
        }
        for guid, day in config.vouchers.items()
    ]
    items = [
        {"guid": name, "name": name, "closing_qty": qty, "gst_rate": 18, "alter_id": 1}
        for name, qty in config.stock.items()
    ]
    report.landed += land_vouchers(conn, vouchers)
    report.landed += land_stock_items(conn, items, dt.datetime.now(dt.UTC))
    report.seen = len(vouchers) + len(items)
    return report


RAW_TALLY = landing_asset(
    source="tally",
    name="raw_tally",
    tables=TABLES,
    sync=_sync,
    config=TallyRows,
    description="Tally rows given in the run config.",
    retry_policy=None,
)


@dg.asset(deps=[dg.AssetKey(["raw", "tally_vouchers"]), dg.AssetKey(["raw", "tally_stock_items"])])
def downstream() -> None:
    """Stands for the dbt models that read the Tally tables."""


CHECKS = suite_checks(SUITES)


@pytest.fixture
def land(warehouse: psycopg.Connection, pebble_env: str) -> Iterator:
    """Materialise the landing, its checks and the downstream asset; one instance for all
    runs of a test."""
    with dg.instance_for_test() as instance:

        def run(selection: dg.AssetSelection | None = None, **config) -> dg.ExecuteInProcessResult:
            return dg.materialize(
                [RAW_TALLY, downstream, *CHECKS],
                selection=selection,
                resources={"warehouse": WarehouseResource(database_url=pebble_env)},
                run_config={"ops": {"raw_tally": {"config": config}}} if config else None,
                instance=instance,
                raise_on_error=False,
            )

        yield run


def _check(result: dg.ExecuteInProcessResult, name: str) -> dg.AssetCheckEvaluation:
    (evaluation,) = [e for e in result.get_asset_check_evaluations() if e.check_name == name]
    return evaluation


def _rows(evaluation: dg.AssetCheckEvaluation) -> int:
    return evaluation.metadata["rows"].value


def _downstream_ran(result: dg.ExecuteInProcessResult) -> bool:
    return any(
        e.asset_key == dg.AssetKey("downstream") for e in result.get_asset_materialization_events()
    )


def _vouchers(prefix: str, days: list[str]) -> dict[str, str]:
    return {f"{prefix}{i}": day for i, day in enumerate(days)}


def test_history_that_breaks_a_rule_does_not_fail_later_runs(land) -> None:
    first = land(vouchers=_vouchers("old", ["2025-06-01", FAR_FUTURE, "2025-06-02"]))
    assert not _check(first, "gx_tally_vouchers").passed
    assert not _downstream_ran(first)  # the blocking check stopped it

    second = land(vouchers=_vouchers("new", ["2025-07-01", "2025-07-02"]))
    vouchers = _check(second, "gx_tally_vouchers")
    assert vouchers.passed, vouchers.metadata
    assert _rows(vouchers) == 2  # the two new vouchers, not the five in the table
    assert _rows(_check(second, "gx_tally_voucher_lines")) == 2  # their lines only
    assert _downstream_ran(second)
    assert second.success


def test_new_bad_rows_fail_and_a_rerun_of_the_check_judges_them_again(land) -> None:
    assert land(vouchers=_vouchers("a", ["2025-06-01"])).success

    bad = land(vouchers=_vouchers("b", ["2025-06-05", FAR_FUTURE]))
    evaluation = _check(bad, "gx_tally_vouchers")
    assert not evaluation.passed
    assert _rows(evaluation) == 2
    assert "FAILED" in evaluation.metadata["voucher_date from 2000 to a year ahead"].value
    assert not bad.success and not _downstream_ran(bad)

    # running the check again (as from the UI) re-judges the same landing: still failing
    vouchers_check = next(c for c in CHECKS if c.check_key.name == "gx_tally_vouchers")
    again = land(selection=dg.AssetSelection.checks(vouchers_check))
    assert not _check(again, "gx_tally_vouchers").passed
    assert _rows(_check(again, "gx_tally_vouchers")) == 2

    # the next landing of good rows is judged on its own
    fixed = land(vouchers=_vouchers("c", ["2025-06-06"]))
    assert _check(fixed, "gx_tally_vouchers").passed
    assert _rows(_check(fixed, "gx_tally_vouchers")) == 1


def test_post_dated_vouchers_pass_when_few_and_fail_when_many(land) -> None:
    soon = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    few = land(vouchers=_vouchers("few", ["2025-06-01"] * 19 + [soon]))
    evaluation = _check(few, "gx_tally_vouchers")
    assert evaluation.passed, evaluation.metadata
    assert _rows(evaluation) == 20
    assert "1 unexpected of 20" in evaluation.metadata["voucher_date not post-dated (mostly)"].value

    many = land(vouchers=_vouchers("many", ["2025-06-01"] * 15 + [soon] * 5))
    evaluation = _check(many, "gx_tally_vouchers")
    assert not evaluation.passed
    assert "5 unexpected of 20" in evaluation.metadata["voucher_date not post-dated (mostly)"].value


def test_negative_stock_is_a_warning_that_blocks_nothing(land) -> None:
    result = land(stock={"Zinc Oxide": 120.0, "Caustic Soda Flakes": -40.0})
    warning = _check(result, TALLY_NEGATIVE_STOCK.check_name)
    assert not warning.passed
    assert warning.severity == dg.AssetCheckSeverity.WARN
    outcome = warning.metadata["expect_column_values_to_be_between(closing_qty)"].value
    assert outcome == "FAILED (1 unexpected of 2: Caustic Soda Flakes)"
    assert _check(result, "gx_tally_stock_items").passed
    assert _downstream_ran(result) and result.success

    # the negative item stays in the table; the next landing's warning is about its own rows
    later = land(stock={"Sodium Bicarbonate": 10.0})
    assert _check(later, TALLY_NEGATIVE_STOCK.check_name).passed
    assert _rows(_check(later, TALLY_NEGATIVE_STOCK.check_name)) == 1
