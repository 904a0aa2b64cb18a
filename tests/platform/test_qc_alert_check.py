"""The QC alerts are a Dagster asset check on marts.qc_alerts, run through Dagster.

A stand-in for the dbt step materialises ``marts/qc_alerts`` from the mart's own SQL over a
small landed lab (tests.app.qc_marts: one result out of spec, one COA pending 30 days after
dispatch); the real check (orchestration.defs.qc) runs after it against a real PostgreSQL.
It fails as a warning listing the open alerts, blocks nothing downstream, and passes once
QC has acknowledged every alert on the dashboard.
"""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg
import psycopg
import pytest

from app.qc.alerts import acknowledge
from orchestration.defs.qc.checks import QC_ALERTS, qc_alerts_acknowledged
from orchestration.resources import WarehouseResource
from pebble.auth import User
from tests.app import qc_marts

OUT_OF_SPEC = f"out_of_spec:{qc_marts.doc(qc_marts.OUT_OF_SPEC_INDEX)}:1"
COA_PENDING = f"coa_pending:{qc_marts.batch(20)}"
QC = User("qasim", "qc")


@dg.asset(key=QC_ALERTS)
def qc_alerts_mart(warehouse: WarehouseResource) -> None:
    """Stands for the dbt step: the QC marts from their own SQL, once per database."""
    with warehouse.connection() as conn:
        if conn.execute("SELECT to_regclass('marts.qc_alerts')").fetchone()[0] is None:
            qc_marts.build_qc_marts(conn)


@dg.asset(deps=[QC_ALERTS])
def downstream() -> None:
    """Stands for whatever reads the alerts."""


@pytest.fixture
def run(warehouse: psycopg.Connection, pebble_env: str) -> Callable[[], dg.ExecuteInProcessResult]:
    with dg.instance_for_test() as instance:

        def materialise() -> dg.ExecuteInProcessResult:
            return dg.materialize(
                [qc_alerts_mart, downstream, qc_alerts_acknowledged],
                resources={"warehouse": WarehouseResource(database_url=pebble_env)},
                instance=instance,
                raise_on_error=False,
            )

        yield materialise


def _evaluation(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    (evaluation,) = [
        e for e in result.get_asset_check_evaluations() if e.check_name == "qc_alerts_acknowledged"
    ]
    return evaluation


def test_open_alerts_fail_the_check_as_a_warning_until_acknowledged(
    run, warehouse: psycopg.Connection
) -> None:
    result = run()
    assert result.success  # a warning: the run and the downstream asset go on
    assert any(e.asset_key == dg.AssetKey("downstream")
               for e in result.get_asset_materialization_events())  # fmt: skip
    evaluation = _evaluation(result)
    assert evaluation.passed is False
    assert evaluation.severity == dg.AssetCheckSeverity.WARN
    assert evaluation.metadata["open_alerts"].value == 2
    assert evaluation.metadata["open_by_type"].value == {"out_of_spec": 1, "coa_pending": 1}
    listed = {a["alert_id"]: a for a in evaluation.metadata["open_listed"].value}
    assert set(listed) == {OUT_OF_SPEC, COA_PENDING}
    assert listed[OUT_OF_SPEC]["batch"] == qc_marts.batch(qc_marts.OUT_OF_SPEC_INDEX)
    assert "below_min" in listed[OUT_OF_SPEC]["detail"]

    acknowledge(warehouse, QC, OUT_OF_SPEC, "batch quarantined, re-test booked", 0)
    evaluation = _evaluation(run())
    assert evaluation.passed is False
    assert evaluation.metadata["open_alerts"].value == 1
    assert evaluation.metadata["acknowledged_alerts"].value == 1
    assert [a["alert_id"] for a in evaluation.metadata["open_listed"].value] == [COA_PENDING]

    acknowledge(warehouse, QC, COA_PENDING, "COA sent to the customer today", 0)
    evaluation = _evaluation(run())
    assert evaluation.passed is True
    assert evaluation.metadata["open_alerts"].value == 0


def test_the_check_is_part_of_the_code_location_and_the_erp_refresh() -> None:
    from orchestration.definitions import defs
    from orchestration.defs.pipelines.jobs import ERP_REFRESH

    key = dg.AssetCheckKey(QC_ALERTS, "qc_alerts_acknowledged")
    graph = defs.resolve_asset_graph()
    assert key in graph.asset_check_keys
    assert key in ERP_REFRESH.resolve_checks(graph)
    (check,) = [c for c in defs.asset_checks if key in c.check_keys]
    assert not check.check_specs_by_output_name[
        next(iter(check.check_specs_by_output_name))
    ].blocking
