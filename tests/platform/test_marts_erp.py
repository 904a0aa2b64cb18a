"""The ERP marts over real landed data: order status, receivables, last price, stock and QC.

Data lands the way production lands it. A tiny demo world gets a few documents added to its
files (two open orders, QC records that drift, fail and wait for a COA); the Tally and Focus
RT connectors pull it from their simulators; Tally then dispatches one open order (as its
live loop does) and syncs again; a hand-written Tally day book (a delivery note for part of
the other order, a customer's receipt) goes through the Tally parser and landing. dbt then
builds the marts through the project's own dbt resource, ages measured on a pinned day.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import psycopg
import pytest

from pebble import db

AS_OF = date(2025, 12, 31)
DISPATCHED_BY_TALLY = "SO/25-26/09001"  # the simulator's next dispatch invoices it in full
PART_DISPATCHED = "SO/25-26/09002"  # a delivery note takes 400 of its 1000 kg
PAID = Decimal(10000)


@dataclass
class Scenario:
    """What the test added to the world, so assertions can name it."""

    customer: dict[str, Any]  # an invoice of a customer with exactly one invoice
    product: str  # product of the two added orders
    spec: dict[str, Any]  # a two-sided QC parameter
    spec_product: dict[str, Any]  # the QC record it came from
    coa_order: dict[str, Any]  # an invoice whose batch has its COA pending
    tally_invoice: str = ""  # the number of the Tally simulator's dispatch


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _append(path: Path, records: list[dict[str, Any]]) -> None:
    with path.open("a") as out:
        for record in records:
            out.write(json.dumps(record) + "\n")


def _qc(doc: str, day: str, batch: str, source: dict[str, Any], params: list[dict[str, Any]],
        order_no: str | None, coa: str) -> dict[str, Any]:  # fmt: skip
    return {
        "doc_no": doc, "date": day, "batch_no": batch, "product_code": source["product_code"],
        "product_name": source["product_name"], "order_no": order_no, "params": params,
        "result": "pass" if all(p["pass"] for p in params) else "fail", "coa_status": coa,
    }  # fmt: skip


def _add_documents(world: Path) -> Scenario:
    """Two open orders and five QC records, written into the world the simulators serve."""
    invoices = _jsonl(world / "invoices.jsonl")
    per_gstin: dict[str, int] = {}
    for invoice in invoices:
        per_gstin[invoice["gstin"]] = per_gstin.get(invoice["gstin"], 0) + 1
    customer = next(i for i in invoices if per_gstin[i["gstin"]] == 1)
    product = customer["lines"][0]["product_name"]
    code = customer["lines"][0]["product_code"]

    def order(doc: str, day: str, rate: float) -> dict[str, Any]:
        line = {"product_code": code, "product_name": product, "qty_kg": 1000.0,
                "unit": "kg", "rate": rate, "amount": round(1000 * rate, 2)}  # fmt: skip
        return {"doc_no": doc, "date": day, "company_id": customer["company_id"],
                "customer_name": customer["customer_name"], "gstin": customer["gstin"],
                "po_ref": "PO-T", "status": "open", "lines": [line]}  # fmt: skip

    _append(world / "sales_orders.jsonl",
            [order(DISPATCHED_BY_TALLY, "2025-04-01", 100.0),
             order(PART_DISPATCHED, "2025-12-01", 123.45)])  # fmt: skip

    records = _jsonl(world / "qc_records.jsonl")
    source = next(
        r
        for r in records
        if any(p["min"] is not None and p["max"] is not None for p in r["params"])
    )
    spec = next(p for p in source["params"] if p["min"] is not None and p["max"] is not None)
    low, high = spec["min"], spec["max"]

    def param(value: float) -> dict[str, Any]:
        return {**spec, "result": value, "pass": low <= value <= high}

    near_min = round(low + 0.05 * (high - low), 6)  # inside spec, in the last 10% of the band
    coa_order = invoices[0]
    _append(
        world / "qc_records.jsonl",
        [
            _qc("QC/25-26/09000", "2025-12-01", "T-FAIL", source, [param(low - 1)], None, "withheld"),
            _qc("QC/25-26/09001", "2025-12-02", "T-D1", source, [param(near_min)], None, "issued"),
            _qc("QC/25-26/09002", "2025-12-03", "T-D2", source, [param(near_min)], None, "issued"),
            _qc("QC/25-26/09003", "2025-12-04", "T-D3", source, [param(near_min)], None, "issued"),
            _qc("QC/25-26/09004", coa_order["date"], "T-COA", source, [param((low + high) / 2)],
                coa_order["order_no"], "pending"),
        ],
    )  # fmt: skip
    return Scenario(customer, product, spec, source, coa_order)


def _day_book(ledger: str, product: str) -> bytes:
    """A Tally export: a delivery note for 400 kg of PART_DISPATCHED, and the customer's
    receipt of PAID (the party credited: a positive amount in Tally)."""
    party = escape(ledger)
    return f"""<ENVELOPE><BODY><IMPORTDATA><REQUESTDATA>
<TALLYMESSAGE><VOUCHER REMOTEID="vch-dn" VCHTYPE="Delivery Note">
 <DATE>20251205</DATE><GUID>vch-dn</GUID><VOUCHERTYPENAME>Delivery Note</VOUCHERTYPENAME>
 <VOUCHERNUMBER>DN/25-26/0001</VOUCHERNUMBER><PARTYLEDGERNAME>{party}</PARTYLEDGERNAME>
 <ISCANCELLED>No</ISCANCELLED><MASTERID> 9901</MASTERID><ALTERID> 9901</ALTERID>
 <ALLINVENTORYENTRIES.LIST><STOCKITEMNAME>{escape(product)}</STOCKITEMNAME>
  <RATE>123.45/kg</RATE><AMOUNT>49,380.00</AMOUNT>
  <ACTUALQTY> 400.000 kg</ACTUALQTY><BILLEDQTY> 400.000 kg</BILLEDQTY>
  <BATCHALLOCATIONS.LIST><GODOWNNAME>Main Location</GODOWNNAME>
   <ORDERNO>{PART_DISPATCHED}</ORDERNO></BATCHALLOCATIONS.LIST>
 </ALLINVENTORYENTRIES.LIST>
</VOUCHER></TALLYMESSAGE>
<TALLYMESSAGE><VOUCHER REMOTEID="vch-rcpt" VCHTYPE="Receipt">
 <DATE>20251210</DATE><GUID>vch-rcpt</GUID><VOUCHERTYPENAME>Receipt</VOUCHERTYPENAME>
 <VOUCHERNUMBER>RCT/25-26/0001</VOUCHERNUMBER><PARTYLEDGERNAME>{party}</PARTYLEDGERNAME>
 <ISCANCELLED>No</ISCANCELLED><MASTERID> 9902</MASTERID><ALTERID> 9902</ALTERID>
 <LEDGERENTRIES.LIST><LEDGERNAME>{party}</LEDGERNAME><ISPARTYLEDGER>Yes</ISPARTYLEDGER>
  <AMOUNT>10,000.00</AMOUNT></LEDGERENTRIES.LIST>
 <LEDGERENTRIES.LIST><LEDGERNAME>HDFC Bank</LEDGERNAME>
  <AMOUNT>(-)10,000.00</AMOUNT></LEDGERENTRIES.LIST>
</VOUCHER></TALLYMESSAGE>
</REQUESTDATA></IMPORTDATA></BODY></ENVELOPE>""".encode()


@pytest.fixture
def landed(
    pebble_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Scenario]]:
    """A migrated warehouse holding the landed world, two Tally syncs and the day book."""
    from demo.sim.focus import FocusSimulator
    from demo.sim.tally import TallySimulator
    from demo.world import generate_world
    from ingest.focus.client import FocusClient
    from ingest.focus.settings import FocusSettings
    from ingest.focus.sync import sync as focus_sync
    from ingest.tally import land
    from ingest.tally.client import TallyClient
    from ingest.tally.parse import iter_records
    from ingest.tally.sync import sync as tally_sync

    world = tmp_path / "world"
    generate_world(world, seed=5, scale=0.02)
    scenario = _add_documents(world)
    db.upgrade(pebble_env)
    tally = TallySimulator(world, port=0)
    focus = FocusSimulator(world, "127.0.0.1", port=0)
    try:
        with psycopg.connect(pebble_env, autocommit=True) as conn:
            client = TallyClient(url=tally.start(), retries=0, read_timeout_s=30.0)
            tally_sync(conn, client)
            with FocusClient(FocusSettings(url=focus.start())) as focus_client:
                focus_sync(conn, focus_client)
            scenario.tally_invoice = tally.dispatch_one() or ""  # DISPATCHED_BY_TALLY
            tally_sync(conn, client)
            (ledger,) = conn.execute(
                "SELECT name FROM raw.tally_ledgers WHERE gstin = %s",
                (scenario.customer["gstin"],),
            ).fetchone()
            book = _day_book(ledger, scenario.product)
            land.land_vouchers(conn, list(iter_records(book, "vouchers")))
    finally:
        tally.stop()
        focus.stop()
    monkeypatch.setenv("PEBBLE_TIMEZONE", "Asia/Kolkata")
    for variable, value in db.dbt_env(pebble_env).items():  # the profile Pebble derives
        monkeypatch.setenv(variable, value)
    yield pebble_env, scenario


def _dbt_build() -> Any:
    """`dbt build` of the ERP marts and what they read, through the Dagster dbt resource."""
    from orchestration.definitions import defs

    args = ["build", "--select", "+path:models/marts/erp", "--indirect-selection", "cautious",
            "--vars", json.dumps({"erp_as_of_date": AS_OF.isoformat()})]  # fmt: skip
    return defs.resources["dbt"].cli(args, raise_on_error=False).wait()


def _rows(conn: psycopg.Connection, query: str, *params: Any) -> list[tuple[Any, ...]]:
    return conn.execute(query, params).fetchall()


def test_erp_marts_over_landed_tally_and_focus_data(landed: tuple[str, Scenario]) -> None:
    url, s = landed
    invocation = _dbt_build()
    results = invocation.get_artifact("run_results.json")["results"]
    not_passed = [(r["unique_id"], r["status"], r["message"]) for r in results
                  if r["status"] not in ("success", "pass")]  # fmt: skip
    assert invocation.is_successful() and not not_passed, not_passed  # a warning fails too
    ran = {r["unique_id"].split(".")[0] for r in results}
    assert {"model", "test", "unit_test"} <= ran

    with psycopg.connect(url) as conn:
        orders = dict(_rows(conn, "SELECT sales_order_no, status FROM marts.sales_orders"))
        part = _rows(conn, "SELECT ordered_qty, dispatched_qty, invoiced_qty, line_status"
                     " FROM marts.sales_order_lines WHERE sales_order_no = %s", PART_DISPATCHED)  # fmt: skip
        receivable = _rows(conn, "SELECT paid_inr, outstanding_inr, due_date, days_overdue,"
                           " payment_status FROM marts.receivables WHERE invoice_no = %s",
                           s.customer["doc_no"])  # fmt: skip
        tally_only = _rows(conn, "SELECT source_system, sales_order_no, gstin FROM"
                           " marts.receivables WHERE sales_order_no = %s", DISPATCHED_BY_TALLY)  # fmt: skip
        price = _rows(conn, "SELECT last_rate_inr, price_source, document_no FROM"
                      " marts.customer_last_price WHERE gstin = %s AND product_name = %s",
                      s.customer["gstin"], s.product)  # fmt: skip
        alerts = dict(_rows(conn, "SELECT alert_id, detail FROM marts.qc_alerts"))
        syncs = _rows(conn, "SELECT synced_at, count(*), count(*) FILTER (WHERE changed_in_sync)"
                      " FROM marts.stock_history GROUP BY 1 ORDER BY 1")  # fmt: skip
        moved = _rows(conn, "SELECT h.qty_change, h.closing_qty_kg = l.closing_qty_kg"
                      " FROM marts.stock_history h JOIN marts.stock_levels l USING (stock_item_guid)"
                      " WHERE h.product_name = %s ORDER BY h.synced_at", s.product)  # fmt: skip
        items = _rows(conn, "SELECT count(*) FROM marts.stock_levels")[0][0]

    # order status: a delivery note for 400 of 1000 kg; a full Tally invoice; the world's own
    assert part == [(Decimal(1000), Decimal(400), Decimal(0), "part-dispatched")]
    assert orders[PART_DISPATCHED] == "part-dispatched"
    assert orders[DISPATCHED_BY_TALLY] == "invoiced"
    assert orders[s.customer["order_no"]] == "invoiced"

    # receivables: the customer's receipt (its GSTIN found through its Tally ledger) settles
    # part of its only invoice; the rest is overdue since invoice date + 30 days
    due = date.fromisoformat(s.customer["date"]) + timedelta(days=30)
    total = Decimal(str(s.customer["total"]))
    assert receivable == [(PAID, total - PAID, due, (AS_OF - due).days, "part-paid")]
    assert tally_only == [("tally", DISPATCHED_BY_TALLY, s.customer["gstin"])]

    # last price: Tally dates its dispatch on its latest voucher's day, the part-dispatched
    # order's (123.45/kg); on the same day the invoice (100/kg) beats the order
    assert price == [(Decimal("100.0000"), "tally_sales", s.tally_invoice)]

    # QC: the failed result, the drift on the third result near the minimum (not before), the
    # COA pending since the order's invoice
    assert "out_of_spec:QC/25-26/09000:1" in alerts
    assert "drift:QC/25-26/09003:1" in alerts
    assert "drift:QC/25-26/09002:1" not in alerts and "drift:QC/25-26/09001:1" not in alerts
    pending = (AS_OF - date.fromisoformat(s.coa_order["date"])).days
    assert alerts["coa_pending:T-COA"].startswith(f"COA pending {pending} days after dispatch")

    # stock: two syncs, every item in each; the dispatched item fell by the order's 1000 kg
    assert len(syncs) == 2 and all(count == items for _, count, _ in syncs)
    assert syncs[0][2] == items and 1 <= syncs[1][2] < items
    assert moved == [(None, False), (Decimal(-1000), True)]
