"""Landing in the warehouse: idempotent upserts, incremental cursors, failures keep data."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from demo.sim.focus import FocusSimulator
from ingest.common.report import LandReport
from ingest.focus.client import FocusClient
from ingest.focus.errors import FocusConnectionError, FocusError, FocusResponseError
from ingest.focus.land import land_documents
from ingest.focus.settings import FocusSettings
from ingest.focus.sync import pull_documents, read_cursor, sync, sync_kind

MakeClient = Callable[..., FocusClient]
TABLES = (
    "focus_sales_orders",
    "focus_sales_order_lines",
    "focus_invoices",
    "focus_invoice_lines",
    "focus_qc_inspections",
    "focus_qc_results",
)


def inserted(report: LandReport) -> int:
    """Documents new to the warehouse (landed, less those that replaced a stored one)."""
    return report.landed - report.updated


def counts(conn: psycopg.Connection) -> dict[str, int]:
    return {t: conn.execute(f"SELECT count(*) FROM raw.{t}").fetchone()[0] for t in TABLES}


def test_sync_twice_lands_once(warehouse: psycopg.Connection, make_client: MakeClient) -> None:
    client = make_client()
    first = sync(warehouse, client)
    assert [inserted(r) for r in first.parts.values()] == [5, 2, 2]
    assert list(first.parts) == ["sales_orders", "invoices", "qc_inspections"]
    assert first.parts["sales_orders"].tables[:2] == (
        "focus_sales_orders",
        "focus_sales_order_lines",
    )
    assert first.accounted and first.seen == 9 and first.extra == {}
    landed = counts(warehouse)
    assert landed == {
        "focus_sales_orders": 5,
        "focus_sales_order_lines": 6,
        "focus_invoices": 2,
        "focus_invoice_lines": 2,
        "focus_qc_inspections": 2,
        "focus_qc_results": 4,
    }
    stamps = warehouse.execute("SELECT doc_no, loaded_at FROM raw.focus_sales_orders").fetchall()

    again = sync(warehouse, client)
    assert counts(warehouse) == landed
    assert again.landed == 0 and again.updated == 0
    assert again.duplicates > 0 and again.accounted  # the lookback window was re-read
    assert warehouse.execute("SELECT doc_no, loaded_at FROM raw.focus_sales_orders").fetchall() == (
        stamps
    )

    full = sync(warehouse, client, full=True)
    assert counts(warehouse) == landed and full.duplicates == 9


def test_landed_values_and_raw_document(
    warehouse: psycopg.Connection, make_client: MakeClient
) -> None:
    sync(warehouse, make_client())
    row = warehouse.execute(
        "SELECT doc_date::text, customer_name, status, total, document->'Header'->>'DocNo' "
        "FROM raw.focus_sales_orders WHERE doc_no = %s",
        ("SO/25-26/00002",),
    ).fetchone()
    assert row == (
        "2025-10-03",
        "Shree Ganesh Paints & Coatings",
        "dispatched",
        329000,
        "SO/25-26/00002",
    )
    qc = warehouse.execute(
        "SELECT param_name, min_value, max_value, result_value, result_text, passed "
        "FROM raw.focus_qc_results WHERE doc_no = %s ORDER BY line_no",
        ("QC/25-26/00078",),
    ).fetchall()
    assert qc[0] == ("Appearance", None, None, None, "White powder", True)
    assert qc[1][1:] == (15, 22, Decimal("24.1"), "24.1", False)
    invoice = warehouse.execute(
        "SELECT order_no, vehicle_no, taxable_value, gst_amount, total FROM raw.focus_invoices "
        "WHERE doc_no = 'INV/25-26/00011'"
    ).fetchone()
    assert invoice == ("SO/25-26/00002", "MH04AB1234", 310000, 55800, 365800)


def _pairs(client: FocusClient, kind: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return list(pull_documents(client, kind))


def test_changed_document_replaces_its_lines(
    warehouse: psycopg.Connection, make_client: MakeClient
) -> None:
    pairs = _pairs(make_client(), "sales_orders")
    assert inserted(land_documents(warehouse, "sales_orders", pairs)) == 5
    record, document = pairs[1]
    changed = {**record, "status": "invoiced", "lines": record["lines"][:1]}
    result = land_documents(warehouse, "sales_orders", [(changed, document), pairs[0]])
    assert (inserted(result), result.updated, result.duplicates) == (0, 1, 1)
    lines = warehouse.execute(
        "SELECT item_code FROM raw.focus_sales_order_lines WHERE doc_no = 'SO/25-26/00002'"
    ).fetchall()
    assert lines == [("TIO2-R",)]
    assert counts(warehouse)["focus_sales_order_lines"] == 5
    status = warehouse.execute(
        "SELECT status, loaded_at > first_loaded_at FROM raw.focus_sales_orders "
        "WHERE doc_no = 'SO/25-26/00002'"
    ).fetchone()
    assert status == ("invoiced", True)


def test_incremental_pull_starts_at_cursor_minus_lookback(
    warehouse: psycopg.Connection,
    tmp_path: Path,
    fast: dict,
    world_records: dict[str, list[dict[str, Any]]],
    world_writer: Callable[..., Path],
) -> None:
    orders = world_records["sales_orders"]
    first_world = world_writer(tmp_path / "w1", orders)
    with FocusSimulator(first_world, port=0) as sim:
        with FocusClient(FocusSettings(url=sim.url, lookback_days=7, **fast)) as client:
            sync_kind(warehouse, client, "sales_orders")
    assert read_cursor(warehouse, "sales_orders") == {
        "date": "2025-11-02",
        "doc_no": "SO/25-26/00005",
    }

    orders[0]["status"] = "dispatched"  # too old for the lookback window: not re-read
    orders[4]["status"] = "dispatched"  # inside the window: picked up
    orders.append({**orders[4], "doc_no": "SO/25-26/00006", "date": "2025-11-20"})
    second_world = world_writer(tmp_path / "w2", orders)
    with FocusSimulator(second_world, port=0) as sim:
        with FocusClient(FocusSettings(url=sim.url, lookback_days=7, **fast)) as client:
            result = sync_kind(warehouse, client, "sales_orders")
    assert result.extra["from_date"] == "2025-10-26"
    assert result.seen == 2
    assert (inserted(result), result.updated) == (1, 1)
    assert json.loads(result.cursor_before) == {"date": "2025-11-02", "doc_no": "SO/25-26/00005"}
    statuses = dict(warehouse.execute("SELECT doc_no, status FROM raw.focus_sales_orders"))
    assert statuses["SO/25-26/00001"] == "open"
    assert statuses["SO/25-26/00005"] == "dispatched"
    assert read_cursor(warehouse, "sales_orders") == {
        "date": "2025-11-20",
        "doc_no": "SO/25-26/00006",
    }


@pytest.mark.parametrize(
    ("mode", "error", "overrides"),
    [
        ("down", FocusConnectionError, {}),
        ("slow", FocusConnectionError, {"read_timeout_s": 0.2, "retries": 0}),
        ("malformed", FocusResponseError, {}),
        ("truncated", FocusResponseError, {}),
    ],
)
def test_fault_leaves_landed_data_and_cursor_intact(
    warehouse: psycopg.Connection,
    simulator: FocusSimulator,
    make_client: MakeClient,
    mode: str,
    error: type[FocusError],
    overrides: dict[str, Any],
) -> None:
    sync(warehouse, make_client())
    before = counts(warehouse)
    cursors = [read_cursor(warehouse, k) for k in ("sales_orders", "invoices", "qc_inspections")]
    simulator.faults.set(mode, delay_s=0.5)
    with pytest.raises(error):
        sync(warehouse, make_client(**overrides), full=True)
    assert counts(warehouse) == before
    assert [read_cursor(warehouse, k) for k in ("sales_orders", "invoices", "qc_inspections")] == (
        cursors
    )


def test_expired_session_mid_sync_is_invisible(
    warehouse: psycopg.Connection, simulator: FocusSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    sync_kind(warehouse, client, "invoices")
    simulator.faults.set("expired_session")
    result = sync_kind(warehouse, client, "sales_orders")
    assert inserted(result) == 5 and client.logins == 2


class _DiesMidway(FocusSimulator):
    """Goes down right after serving one particular document."""

    def screen(self, voucher_type: str, doc_no: str) -> dict[str, Any]:
        reply = super().screen(voucher_type, doc_no)
        if doc_no == "SO/25-26/00003":
            self.faults.set("down")
        return reply


def test_failure_midway_keeps_completed_batches(
    warehouse: psycopg.Connection, world: Path, fast: dict
) -> None:
    # One screen at a time: the fault is timed by the order requests are served in (with
    # several workers the later screens may be served before it; test_focus_parallel.py
    # has the concurrent case, with a fault that does not depend on timing).
    with _DiesMidway(world, port=0) as sim:
        with FocusClient(FocusSettings(url=sim.url, screen_workers=1, **fast)) as client:
            with pytest.raises(FocusConnectionError):
                sync_kind(warehouse, client, "sales_orders", batch_size=2)
    landed = [
        r[0] for r in warehouse.execute("SELECT doc_no FROM raw.focus_sales_orders ORDER BY 1")
    ]
    assert landed == ["SO/25-26/00001", "SO/25-26/00002"]  # the third's batch never completed
    assert read_cursor(warehouse, "sales_orders") == {
        "date": "2025-10-03",
        "doc_no": "SO/25-26/00002",
    }


def test_unreadable_cursor_means_full_pull(
    warehouse: psycopg.Connection, make_client: MakeClient
) -> None:
    from ingest.common.cursors import set_cursor

    set_cursor(warehouse, "focus", "qc_inspections", "not json")
    result = sync_kind(warehouse, make_client(), "qc_inspections")
    assert result.extra["from_date"] is None and inserted(result) == 2
    stored = json.loads(
        warehouse.execute(
            "SELECT value FROM raw.ingest_cursors WHERE source = 'focus' AND cursor_key = %s",
            ("qc_inspections",),
        ).fetchone()[0]
    )
    assert stored == {"date": "2025-10-04", "doc_no": "QC/25-26/00078"}


class _OneBadQuantity(FocusSimulator):
    """Serves one document with a quantity nobody can read."""

    broken = True

    def screen(self, voucher_type: str, doc_no: str) -> dict[str, Any]:
        reply = super().screen(voucher_type, doc_no)
        if self.broken and doc_no == "SO/25-26/00003":
            reply["data"][0]["Body"][0]["Quantity"] = "5 MT approx"
        return reply


def test_unreadable_document_is_kept_aside_and_does_not_block(
    warehouse: psycopg.Connection, world: Path, fast: dict
) -> None:
    with _OneBadQuantity(world, port=0) as sim:
        with FocusClient(FocusSettings(url=sim.url, **fast)) as client:
            first = sync_kind(warehouse, client, "sales_orders", batch_size=2)
            assert (first.seen, inserted(first), first.rejected) == (5, 4, 1)
            reject = warehouse.execute(
                "SELECT source, source_kind, locator, reason, "
                "convert_from(payload, 'UTF8')::jsonb->'Body'->0->>'Quantity' FROM raw.rejects"
            ).fetchall()
            assert reject == [
                (
                    "focus",
                    "sales_orders",
                    "SO/25-26/00003",
                    "SO/25-26/00003: cannot read 'Quantity' = '5 MT approx'",
                    "5 MT approx",
                )
            ]
            assert read_cursor(warehouse, "sales_orders") == {
                "date": "2025-11-02",
                "doc_no": "SO/25-26/00005",
            }
            sync_kind(warehouse, client, "sales_orders", full=True)  # still broken: no change
            assert warehouse.execute("SELECT count(*) FROM raw.rejects").fetchone() == (1,)

            sim.broken = False  # fixed at the source
            fixed = sync_kind(warehouse, client, "sales_orders", full=True)
    assert inserted(fixed) == 1 and fixed.rejected == 0
    # The reject stays as the record of what happened, marked resolved by the landing.
    assert warehouse.execute(
        "SELECT count(*), count(resolved_at) FROM raw.rejects WHERE locator = 'SO/25-26/00003'"
    ).fetchone() == (1, 1)
    assert warehouse.execute("SELECT count(*) FROM raw.focus_sales_orders").fetchone() == (5,)


class _Vanishing(FocusSimulator):
    """Lists a document that is deleted before it can be fetched."""

    def screen(self, voucher_type: str, doc_no: str) -> dict[str, Any]:
        if doc_no == "SO/25-26/00004":
            return {"data": [], "result": -1, "message": f"Document '{doc_no}' not found"}
        return super().screen(voucher_type, doc_no)


def test_document_deleted_between_list_and_fetch_is_skipped(
    warehouse: psycopg.Connection, world: Path, fast: dict
) -> None:
    with _Vanishing(world, port=0) as sim:
        with FocusClient(FocusSettings(url=sim.url, **fast)) as client:
            result = sync_kind(warehouse, client, "sales_orders")
    assert (result.seen, inserted(result)) == (4, 4)


def test_unreachable_focus_fails_the_sync_fast_with_bounded_attempts(
    warehouse: psycopg.Connection,
) -> None:
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    settings = FocusSettings(url=url, retries=3, backoff_s=0.01, breaker_failures=5)
    with FocusClient(settings) as client:
        with pytest.raises(FocusConnectionError) as caught:
            sync(warehouse, client)
    assert caught.value.code == "FOCUS_CONNECTION_FAILED" and caught.value.url == url
    assert client.attempts == 4  # the login's first try and 3 retries, then the sync gives up
    assert counts(warehouse) == dict.fromkeys(TABLES, 0)

    # With the breaker's threshold below the retries, the open circuit stops them early.
    settings = FocusSettings(url=url, retries=10, backoff_s=0.01, breaker_failures=3)
    with FocusClient(settings) as client:
        with pytest.raises(FocusConnectionError, match="circuit open"):
            sync(warehouse, client)
    assert client.attempts == 3 and client.breaker.state == "open"


def test_retry_settings_share_one_set_of_names(monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest.tally.settings import TallySettings

    for name in ("RETRIES", "BACKOFF_S", "BREAKER_FAILURES", "BREAKER_COOLDOWN_S"):
        monkeypatch.setenv(f"FOCUS_{name}", "7")
        monkeypatch.setenv(f"TALLY_{name}", "7")
    for settings in (FocusSettings(), TallySettings()):
        assert (settings.retries, settings.backoff_s) == (7, 7.0)
        assert (settings.breaker_failures, settings.breaker_cooldown_s) == (7, 7.0)
    # The names of earlier releases still work for Focus.
    for name in ("FOCUS_RETRIES", "FOCUS_BACKOFF_S", "FOCUS_BREAKER_FAILURES"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("FOCUS_MAX_RETRIES", "2")
    monkeypatch.setenv("FOCUS_BACKOFF_BASE_S", "0.25")
    monkeypatch.setenv("FOCUS_BREAKER_THRESHOLD", "4")
    old = FocusSettings()
    assert (old.retries, old.backoff_s, old.breaker_failures) == (2, 0.25, 4)
