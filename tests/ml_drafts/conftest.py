"""Fixtures for the reply-draft tests: a seeded warehouse with its marts, and a fake chat
server.

The seed lands raw Tally and Focus RT rows the way the connectors land them; dbt then builds
the marts the grounding reads (`tests.ml.marts.build_marts`), once per session into a
template database that each test copies. A test that lands more rows builds the marts again.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import Jsonb

from ml.drafts.llm import get_llm_settings
from pebble import db
from tests.ml.marts import build_marts

SHARMA = "Sharma Rubber Industries Pvt Ltd"
SHARMA_GSTIN = "27AAPFU0939F1ZV"
KAVERI = "Kaveri Paints Ltd"
KAVERI_GSTIN = "29AABCK1234M1ZG"


def add_stock(
    conn: psycopg.Connection,
    guid: str,
    name: str,
    qty: float | None,
    at: datetime,
    unit: str = "kg",
) -> None:
    conn.execute(
        "INSERT INTO raw.tally_stock_items (guid, snapshot_at, name, unit, closing_qty, row_hash) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        (guid, at, name, unit, qty, f"{guid}:{at.isoformat()}"),
    )


def add_ledger(conn: psycopg.Connection, name: str, gstin: str, email: str) -> None:
    conn.execute(
        "INSERT INTO raw.tally_ledgers (guid, name, parent, gstin, gstins, pan, email, row_hash) "
        "VALUES (%s, %s, 'Sundry Debtors', %s, %s, %s, %s, 'h')",
        (f"ledger:{name}", name, gstin, [gstin], gstin[2:12], email),
    )


def add_voucher(
    conn: psycopg.Connection,
    number: str,
    vtype: str,
    day: date,
    party: str,
    gstin: str | None,
    lines: list[tuple[str, float, float]],
    *,
    cancelled: bool = False,
    order_refs: list[str] | None = None,
    vehicle_no: str | None = None,
    lr_no: str | None = None,
) -> None:
    guid = f"voucher:{number}"
    conn.execute(
        "INSERT INTO raw.tally_vouchers (guid, voucher_type, voucher_number, voucher_date, party, "
        "party_gstin, is_cancelled, order_refs, vehicle_no, lr_no, ledger_entries, row_hash) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'h')",
        (guid, vtype, number, day, party, gstin, cancelled, order_refs or [], vehicle_no, lr_no,
         Jsonb([])),
    )  # fmt: skip
    for n, (item, qty, rate) in enumerate(lines, start=1):
        conn.execute(
            "INSERT INTO raw.tally_voucher_lines (voucher_guid, line_no, item, qty, unit, rate, "
            "rate_unit, amount) VALUES (%s, %s, %s, %s, 'kg', %s, 'kg', %s)",
            (guid, n, item, qty, rate, round(qty * rate, 2)),
        )


def add_order(
    conn: psycopg.Connection,
    doc_no: str,
    day: date,
    customer: str,
    gstin: str,
    po_ref: str | None,
    status: str,
    lines: list[tuple[str, float, float]],
) -> None:
    conn.execute(
        "INSERT INTO raw.focus_sales_orders (doc_no, doc_date, customer_name, gstin, po_ref, "
        "status, total, document, content_hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'h')",
        (doc_no, day, customer, gstin, po_ref, status, sum(q * r for _, q, r in lines),
         Jsonb({})),
    )  # fmt: skip
    for n, (item, qty, rate) in enumerate(lines, start=1):
        conn.execute(
            "INSERT INTO raw.focus_sales_order_lines (doc_no, line_no, item_name, quantity, unit, "
            "rate, amount) VALUES (%s, %s, %s, %s, 'kg', %s, %s)",
            (doc_no, n, item, qty, rate, round(qty * rate, 2)),
        )


def add_invoice(
    conn: psycopg.Connection,
    doc_no: str,
    day: date,
    order_no: str,
    customer: str,
    gstin: str,
    vehicle_no: str | None,
    lr_no: str | None,
    lines: list[tuple[str, float, float]],
) -> None:
    conn.execute(
        "INSERT INTO raw.focus_invoices (doc_no, doc_date, order_no, customer_name, gstin, "
        "vehicle_no, lr_no, total, document, content_hash) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 'h')",
        (doc_no, day, order_no, customer, gstin, vehicle_no, lr_no,
         sum(q * r for _, q, r in lines), Jsonb({})),
    )  # fmt: skip
    for n, (item, qty, rate) in enumerate(lines, start=1):
        conn.execute(
            "INSERT INTO raw.focus_invoice_lines (doc_no, line_no, item_name, quantity, unit, "
            "rate, amount) VALUES (%s, %s, %s, %s, 'kg', %s, %s)",
            (doc_no, n, item, qty, rate, round(qty * rate, 2)),
        )


def seed(conn: psycopg.Connection) -> None:
    """Two customers, stock snapshots, Tally sales, Focus orders and invoices.

    The stock items are the stock master the extractor reads product names from."""
    add_ledger(conn, SHARMA, SHARMA_GSTIN, "purchase@sharmarubber.in")
    add_ledger(conn, KAVERI, KAVERI_GSTIN, "stores@kaveripaints.com")

    # Zinc Oxide: the later snapshot is the stock on hand; Caustic Soda Flakes has none left.
    add_stock(conn, "si-zno", "Zinc Oxide", 9000, datetime(2025, 11, 10, 4, 30, tzinfo=UTC))
    add_stock(conn, "si-zno", "Zinc Oxide", 12500, datetime(2025, 11, 14, 4, 30, tzinfo=UTC))
    add_stock(conn, "si-csf", "Caustic Soda Flakes", 0, datetime(2025, 11, 14, 4, 30, tzinfo=UTC))
    add_stock(conn, "si-sa", "Stearic Acid", 800, datetime(2025, 11, 14, 4, 30, tzinfo=UTC))
    # A stock item whose quantity Tally did not report: known product, availability unknown.
    add_stock(conn, "si-tio2", "Titanium Dioxide Rutile", None,
              datetime(2025, 11, 14, 4, 30, tzinfo=UTC))  # fmt: skip

    # Sharma's rates for Zinc Oxide: 240 (old), 248 (latest invoice), 230 on a cancelled one.
    add_voucher(conn, "INV/25-26/00301", "Sales", date(2025, 10, 1), SHARMA, SHARMA_GSTIN,
                [("Zinc Oxide", 5000, 240.0)])  # fmt: skip
    add_voucher(conn, "INV/25-26/00412", "Sales", date(2025, 11, 2), SHARMA, SHARMA_GSTIN,
                [("Zinc Oxide", 2500, 248.0), ("Stearic Acid", 1000, 131.5)])  # fmt: skip
    add_voucher(conn, "INV/25-26/00499", "Sales", date(2025, 11, 9), SHARMA, SHARMA_GSTIN,
                [("Zinc Oxide", 1000, 230.0)], cancelled=True)  # fmt: skip
    # Another customer bought Zinc Oxide later and dearer: never quoted to Sharma.
    add_voucher(conn, "INV/25-26/00450", "Sales", date(2025, 11, 8), KAVERI, KAVERI_GSTIN,
                [("Zinc Oxide", 1000, 255.0)])  # fmt: skip

    add_order(conn, "SO/25-26/01877", date(2025, 10, 28), SHARMA, SHARMA_GSTIN, "4500012345",
              "invoiced", [("Zinc Oxide", 2500, 248.0)])  # fmt: skip
    add_invoice(conn, "FI/25-26/00777", date(2025, 11, 2), "SO/25-26/01877", SHARMA,
                SHARMA_GSTIN, "MH04AB1234", "LR556210", [("Zinc Oxide", 2500, 248.0)])  # fmt: skip
    add_order(conn, "SO/25-26/01900", date(2025, 11, 12), SHARMA, SHARMA_GSTIN, "PO/SRI/2025/118",
              "open", [("Stearic Acid", 2000, 133.0)])  # fmt: skip
    add_order(conn, "SO/25-26/01950", date(2025, 11, 13), KAVERI, KAVERI_GSTIN, "KP-7781",
              "dispatched", [("Zinc Oxide", 1000, 255.0)])  # fmt: skip


@pytest.fixture(scope="session")
def seeded_template(pg_server_url: str, migrated_template: str) -> Iterator[str]:
    """A database holding the seed and the marts dbt built from it, copied by `seeded`."""
    name = f"pebble_seeded_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(migrated_template)
            )
        )
    url = db._to_url({**conninfo_to_dict(pg_server_url), "dbname": name})
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            seed(conn)
        build_marts(url)
        yield name
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def seeded(
    pebble_env: str, pg_server_url: str, seeded_template: str
) -> Iterator[psycopg.Connection]:
    """An autocommit connection to a fresh copy of the seeded warehouse, marts built."""
    name = conninfo_to_dict(pebble_env)["dbname"]
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(seeded_template)
            )
        )
    with psycopg.connect(pebble_env, autocommit=True) as conn:
        yield conn


def sharma_mail(subject: str, body: str, **extra: Any) -> dict[str, Any]:
    row = {
        "email_key": "k1",
        "subject": subject,
        "body_text": body,
        "from_addr": "Ravi Sharma <ravi@sharmarubber.in>",
        "from_name": "Ravi Sharma",
    }
    row.update(extra)
    return row


# -- a fake OpenAI-compatible server ------------------------------------------------------


@dataclass
class FakeLLM:
    """What the fake server answers, and what it was asked.

    With `stall`, the server holds every answer until `release` is set (the fixture sets it
    at teardown): a client with any timeout times out, however slow the machine is."""

    url: str
    reply: Callable[[dict[str, Any]], str] = lambda request: "Dear Sir,\n\nNoted.\n\nSales Team"
    status: int = 200
    stall: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


def _handler(state: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            state.requests.append(body)
            state.headers.append({k.lower(): v for k, v in self.headers.items()})
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, {"error": {"message": "not found"}})
                return
            if state.stall:
                state.release.wait(60)
            if state.status != 200:
                self._send(state.status, {"error": {"message": "boom", "type": "server_error"}})
                return
            self._send(
                200,
                {
                    "id": "chatcmpl-test",
                    "object": "chat.completion",
                    "created": 1_700_000_000,
                    "model": body.get("model", "fake"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": state.reply(body)},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                },
            )

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

    return Handler


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    """A local chat completions server on a free 127.0.0.1 port."""
    state = FakeLLM(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def llm_env(fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLLM]:
    """The LLM settings pointed at the fake server (no retries, short timeout)."""
    monkeypatch.setenv("PEBBLE_LLM_BASE_URL", fake_llm.url)
    monkeypatch.setenv("PEBBLE_LLM_MODEL", "fake-model")
    monkeypatch.setenv("PEBBLE_LLM_API_KEY", "sk-test-secret-4242")
    monkeypatch.setenv("PEBBLE_LLM_TIMEOUT_S", "1.0")
    monkeypatch.setenv("PEBBLE_LLM_MAX_RETRIES", "0")
    get_llm_settings.cache_clear()
    yield fake_llm
    get_llm_settings.cache_clear()
