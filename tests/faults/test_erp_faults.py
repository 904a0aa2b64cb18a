"""Faults in the ERP sources mid-pull: Tally slow, down, truncated or malformed part-way
through the vouchers; Focus RT's session expiring between pages.

Each case lands the simulator's data once cleanly (the reference), empties the raw tables,
runs again with the fault striking after the first requests succeeded, checks the typed
error and its advice, clears the fault and runs again: the rows must equal the clean run's,
key for key and content for content, each once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from demo.sim.focus import FocusSimulator
from demo.sim.tally import TallySimulator
from ingest.common.cursors import get_cursor
from tests.faults.support import FaultAfter

# --- Tally --------------------------------------------------------------------------------

#: What identifies a row of each raw Tally table, and what its content is.
TALLY_ROWS = {
    "tally_stock_groups": "guid, row_hash",
    "tally_stock_items": "guid, row_hash",
    "tally_ledgers": "guid, row_hash",
    "tally_vouchers": "guid, row_hash",
    "tally_voucher_lines": "voucher_guid, line_no, item, qty, amount",
}
TALLY_KEYS = {
    "tally_stock_groups": "guid",
    "tally_stock_items": "guid",
    "tally_ledgers": "guid",
    "tally_vouchers": "guid",
    "tally_voucher_lines": "voucher_guid, line_no",
}


def tally_rows(conn: psycopg.Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        table: conn.execute(f"SELECT {columns} FROM raw.{table} ORDER BY 1, 2").fetchall()  # noqa: S608 - constants
        for table, columns in TALLY_ROWS.items()
    }


def assert_each_key_once(conn: psycopg.Connection, keys: dict[str, str]) -> None:
    for table, key in keys.items():
        total, distinct = conn.execute(
            f"SELECT count(*), count(DISTINCT ({key})) FROM raw.{table}"  # noqa: S608 - constants
        ).fetchone()
        assert total == distinct, f"raw.{table} holds a key twice"


def wipe(conn: psycopg.Connection, source: str, tables: list[str]) -> None:
    conn.execute("TRUNCATE " + ", ".join(f"raw.{t}" for t in tables))
    conn.execute("DELETE FROM raw.ingest_cursors WHERE source = %s", (source,))
    conn.execute("DELETE FROM raw.rejects WHERE source = %s", (source,))


@pytest.fixture
def tally(fault_world: Path) -> Iterator[TallySimulator]:
    simulator = TallySimulator(fault_world, port=0)
    simulator.start()
    yield simulator
    simulator.stop()


def tally_client(sim: TallySimulator, session: Any = None):
    from ingest.tally.client import TallyClient

    return TallyClient(
        url=sim.url,
        session=session,
        retries=1,
        backoff_s=0.05,
        backoff_max_s=0.1,
        read_timeout_s=0.6,
        batch_days=20,
    )


#: Requests before the fault: stock groups (2), stock items (1), ledgers (2), the company
#: before the vouchers (1) and two voucher windows; the third window meets the fault.
TALLY_CLEAN_REQUESTS = 8


@pytest.mark.parametrize(
    ("mode", "code", "advice"),
    [
        ("down", "TALLY_CONNECTION_FAILED", "run the sync again"),
        ("slow", "TALLY_CONNECTION_FAILED", "TALLY_READ_TIMEOUT_S"),
        ("truncated", "TALLY_BAD_RESPONSE", "run the sync again"),
        ("malformed", "TALLY_BAD_RESPONSE", "run the sync again"),
    ],
)
def test_tally_fault_mid_vouchers_keeps_nothing_of_them_and_rerun_lands_each_once(
    warehouse: psycopg.Connection, tally: TallySimulator, mode: str, code: str, advice: str
) -> None:
    from ingest.tally.errors import TallyError
    from ingest.tally.sync import COLLECTIONS, sync

    tables = [t for names in COLLECTIONS.values() for t in names]
    clean = sync(warehouse, tally_client(tally))
    reference = tally_rows(warehouse)
    assert len(reference["tally_vouchers"]) > 20 and clean.parts["vouchers"].landed > 20
    wipe(warehouse, "tally", tables)

    session = FaultAfter(TALLY_CLEAN_REQUESTS, lambda: tally.faults.set(mode, 1.5))
    with pytest.raises(TallyError) as failure:
        sync(warehouse, tally_client(tally, session))
    assert session.fired and session.sent > TALLY_CLEAN_REQUESTS  # it struck mid-vouchers
    error = failure.value
    assert error.code == code
    assert advice in str(error), str(error)

    # the masters landed before the fault stay; nothing of the vouchers, cursor unmoved
    after_fault = tally_rows(warehouse)
    for table in ("tally_stock_groups", "tally_stock_items", "tally_ledgers"):
        assert after_fault[table] == reference[table]
    assert after_fault["tally_vouchers"] == [] and after_fault["tally_voucher_lines"] == []
    assert get_cursor(warehouse, "tally", "vouchers.alter_id") is None

    tally.faults.set("none")
    rerun = sync(warehouse, tally_client(tally))
    assert rerun.parts["vouchers"].landed == len(reference["tally_vouchers"])
    assert rerun.parts["ledgers"].landed == 0  # already there: nothing landed twice
    assert tally_rows(warehouse) == reference
    assert_each_key_once(warehouse, TALLY_KEYS)


def test_tally_fault_reported_by_the_cli_with_its_code_and_advice(
    warehouse: psycopg.Connection, tally: TallySimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pebble tally sync` against a Tally that went down: one line, the code, what to do."""
    from typer.testing import CliRunner

    from pebble.cli import app

    monkeypatch.setenv("TALLY_RETRIES", "0")
    tally.faults.set("down")
    result = CliRunner().invoke(app, ["tally", "sync", "--url", tally.url])
    assert result.exit_code == 5, result.output
    assert "error [TALLY_CONNECTION_FAILED]" in result.output
    assert "run the sync again" in result.output
    assert "Traceback" not in result.output
    tally.faults.set("none")
    result = CliRunner().invoke(app, ["tally", "sync", "--url", tally.url])
    assert result.exit_code == 0, result.output
    assert_each_key_once(warehouse, TALLY_KEYS)


# --- Focus RT -----------------------------------------------------------------------------

FOCUS_ROWS = {
    "focus_sales_orders": "doc_no, content_hash",
    "focus_sales_order_lines": "doc_no, line_no",
    "focus_invoices": "doc_no, content_hash",
    "focus_invoice_lines": "doc_no, line_no",
    "focus_qc_inspections": "doc_no, content_hash",
    "focus_qc_results": "doc_no, line_no",
}
FOCUS_KEYS = {
    table: ("doc_no" if "content_hash" in columns else "doc_no, line_no")
    for table, columns in FOCUS_ROWS.items()
}


def focus_rows(conn: psycopg.Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        table: conn.execute(f"SELECT {columns} FROM raw.{table} ORDER BY 1, 2").fetchall()  # noqa: S608 - constants
        for table, columns in FOCUS_ROWS.items()
    }


@pytest.fixture
def focus(fault_world: Path) -> Iterator[FocusSimulator]:
    simulator = FocusSimulator(fault_world, "127.0.0.1", port=0)
    simulator.start()
    yield simulator
    simulator.stop()


def focus_client(sim: FocusSimulator, session: Any = None):
    from ingest.focus.client import FocusClient
    from ingest.focus.settings import FocusSettings

    settings = FocusSettings(
        url=sim.url,
        page_size=5,
        retries=1,
        backoff_s=0.01,
        backoff_max_s=0.02,
        read_timeout_s=5.0,
        password=sim.password,
    )
    return FocusClient(settings, http=session)


#: The login, then pages of five sales orders with a screen per document: request 20 is
#: in the fourth page.
FOCUS_CLEAN_REQUESTS = 20


def test_focus_session_expiring_mid_page_logs_in_again_and_lands_each_once(
    warehouse: psycopg.Connection, focus: FocusSimulator
) -> None:
    from ingest.focus.sync import sync

    with focus_client(focus) as client:
        sync(warehouse, client)
    reference = focus_rows(warehouse)
    assert len(reference["focus_sales_orders"]) > 3 * 5  # several pages
    wipe(warehouse, "focus", list(FOCUS_ROWS))

    session = FaultAfter(FOCUS_CLEAN_REQUESTS, lambda: focus.faults.set("expired_session"))
    with focus_client(focus, session) as client:
        report = sync(warehouse, client)
        assert session.fired and client.logins == 2  # it noticed, logged in again, went on
    assert report.parts["sales_orders"].landed == len(reference["focus_sales_orders"])
    assert focus_rows(warehouse) == reference
    assert_each_key_once(warehouse, FOCUS_KEYS)


def test_focus_session_expiring_with_login_refused_fails_typed_then_rerun_completes(
    warehouse: psycopg.Connection, focus: FocusSimulator
) -> None:
    """The session expires mid-page and the fresh login is refused (the password changed
    meanwhile): FOCUS_AUTH_FAILED saying what to check; the next run, with the right
    password, lands the rest and nothing twice."""
    from ingest.focus.errors import FocusAuthError
    from ingest.focus.sync import sync

    with focus_client(focus) as client:
        sync(warehouse, client)
    reference = focus_rows(warehouse)
    wipe(warehouse, "focus", list(FOCUS_ROWS))
    password = focus.password

    def expire_and_change_password() -> None:
        focus.password = "changed-by-the-admin"
        focus.faults.set("expired_session")

    session = FaultAfter(FOCUS_CLEAN_REQUESTS, expire_and_change_password)
    with focus_client(focus, session) as client, pytest.raises(FocusAuthError) as failure:
        sync(warehouse, client)
    assert failure.value.code == "FOCUS_AUTH_FAILED"
    assert "FOCUS_PASSWORD" in str(failure.value), str(failure.value)
    assert focus_rows(warehouse)["focus_sales_orders"] == []  # its batch never committed

    focus.password = password
    focus.faults.set("none")
    with focus_client(focus) as client:
        sync(warehouse, client)
    assert focus_rows(warehouse) == reference
    assert_each_key_once(warehouse, FOCUS_KEYS)
