"""The activity stream over real landed data: incremental runs append what arrived, pick up
a person's event whose transaction committed late, and equal a full rebuild, ids included.

Data lands the way production lands it: Tally and Focus RT from their simulators over a tiny
demo world, lead lists through the prelead loader, mail from the world's Maildir, a Tally
receipt through the Tally parser, predictions through the ML warehouse writer, and people's
actions through ``pebble.events.append``. dbt runs through the project's own resource.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pebble import db, events

#: A Tally receipt as Tally writes it: the customer's ledger credited, the bank debited.
TALLY_RECEIPT = """<ENVELOPE><BODY><IMPORTDATA><REQUESTDATA>
<TALLYMESSAGE><VOUCHER REMOTEID="vch-rcpt-1" VCHTYPE="Receipt">
 <DATE>20251120</DATE><GUID>vch-rcpt-1</GUID><VOUCHERTYPENAME>Receipt</VOUCHERTYPENAME>
 <VOUCHERNUMBER>RCPT/25-26/0007</VOUCHERNUMBER>
 <PARTYLEDGERNAME>Acme Rubber Pvt Ltd</PARTYLEDGERNAME>
 <ISCANCELLED>No</ISCANCELLED><MASTERID> 990</MASTERID><ALTERID> 990</ALTERID>
 <LEDGERENTRIES.LIST><LEDGERNAME>Acme Rubber Pvt Ltd</LEDGERNAME>
  <ISPARTYLEDGER>Yes</ISPARTYLEDGER><AMOUNT>1,18,000.00</AMOUNT></LEDGERENTRIES.LIST>
 <LEDGERENTRIES.LIST><LEDGERNAME>HDFC Bank</LEDGERNAME>
  <AMOUNT>(-)1,18,000.00</AMOUNT></LEDGERENTRIES.LIST>
</VOUCHER></TALLYMESSAGE>
</REQUESTDATA></IMPORTDATA></BODY></ENVELOPE>"""
MODEL = "test-model-1"
#: The people's events the test appends (the late one included).
PEOPLE = {"CardMoved": 2, "CardAssigned": 1, "PreleadApproved": 1, "RouteRuleChanged": 1}


@pytest.fixture(scope="module")
def tiny_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from demo.world import generate_world

    world = tmp_path_factory.mktemp("world")
    generate_world(world, seed=7, scale=0.02)  # seed 7 has an open order
    return world


@pytest.fixture
def warehouse_url(pebble_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated warehouse, with dbt's profile pointed at it."""
    db.upgrade(pebble_env)
    monkeypatch.setenv("PEBBLE_TIMEZONE", "Asia/Kolkata")
    for variable, value in db.dbt_env(pebble_env).items():
        monkeypatch.setenv(variable, value)
    yield pebble_env


#: the first build makes the stream and everything it and activity_by_company read (the CRM
#: master among them); later ones the stream's own models
EVERYTHING = "+activity_stream +activity_by_company taxonomy_labels"
STREAM = "path:models/intermediate/activity path:models/marts/activity"


def _build(*args: str, select: str = STREAM) -> None:
    """`dbt build` (as the Dagster asset runs it, incremental unless told otherwise) through
    the Dagster dbt resource; any failure or warning fails the test (Dagster counts a
    warning as a failed check)."""
    from orchestration.definitions import defs

    invocation = (
        defs.resources["dbt"]
        .cli(
            ["build", "--select", select,
             "--indirect-selection", "cautious", *args],
            raise_on_error=False,
        )
        .wait()
    )  # fmt: skip
    results = invocation.get_artifact("run_results.json")["results"]
    bad = [(r["unique_id"], r["status"], r["message"]) for r in results if r["status"] not in
           ("success", "pass")]  # fmt: skip
    assert invocation.is_successful() and not bad, bad
    assert any(r["unique_id"].startswith("unit_test.") for r in results)


def _score(conn: psycopg.Connection) -> int:
    """Predictions for every email without one, written by the ML warehouse writer (a
    fixed label: the stream is under test, not the model); every third gets a GSTIN."""
    from ml.warehouse import write_predictions

    keys = [
        key
        for (key,) in conn.execute(
            "SELECT e.email_key FROM raw.emails e LEFT JOIN ml.email_predictions p"
            " USING (email_key) WHERE p.email_key IS NULL ORDER BY e.email_key"
        )
    ]
    gstin = {"label": "GSTIN", "text": "27AAPFU0939F1ZV", "value": "27AAPFU0939F1ZV",
             "valid": True, "start": 0, "end": 15}  # fmt: skip
    write_predictions(
        conn,
        [
            {"email_key": key, "model_version": MODEL, "stream": "crm",
             "intent": "price_enquiry", "confidence": 0.9, "stream_confidence": 0.95,
             "requires_review": False, "entities": [gstin] if n % 3 == 0 else []}
            for n, key in enumerate(keys)
        ],
    )  # fmt: skip
    return sum(1 for n in range(len(keys)) if n % 3 == 0)


def _stream(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT event_id, event_type, entity_type, entity_id, company_key, actor,"
            " payload::text, occurred_at, loaded_at FROM marts.activity_stream ORDER BY event_id"
        ).fetchall()


def _thread_keys(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT DISTINCT thread_key FROM raw.emails WHERE thread_key IS NOT NULL"
        " ORDER BY thread_key LIMIT 3"
    ).fetchall()
    return [key for (key,) in rows]


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _expected_erp(world: Path, dispatched_order: dict[str, Any]) -> Counter[str]:
    """What the world's ERP documents should give, counted from the world's own files."""
    orders = _jsonl(world / "sales_orders.jsonl")
    invoices = _jsonl(world / "invoices.jsonl")
    qc = _jsonl(world / "qc_records.jsonl")
    items = json.loads((world / "stock.json").read_text())
    moved = {line["product_name"] for line in dispatched_order["lines"]}
    return Counter(
        OrderPlaced=sum(o["status"] != "cancelled" for o in orders),
        OrderDispatched=sum(bool(i.get("order_no") and i.get("vehicle_no")) for i in invoices),
        # Tally's sales vouchers: the world's invoices plus the one the simulator dispatched
        InvoiceRaised=len(invoices) + 1,
        PaymentReceived=1,
        # every item's opening snapshot, then one for each item the dispatch moved
        StockChanged=len(items) + len(moved),
        QCResultRecorded=len(qc),
        COAIssued=sum(r["coa_status"] == "issued" for r in qc),
    )


def test_incremental_runs_equal_a_full_rebuild(
    warehouse_url: str, tiny_world: Path, tmp_path: Path
) -> None:
    from demo.sim.focus import FocusSimulator
    from demo.sim.tally import TallySimulator
    from ingest.focus.client import FocusClient
    from ingest.focus.settings import FocusSettings
    from ingest.focus.sync import sync as focus_sync
    from ingest.mail.land import land_paths
    from ingest.prelead.sync import sync as prelead_sync
    from ingest.tally import land
    from ingest.tally.client import TallyClient
    from ingest.tally.parse import iter_records
    from ingest.tally.sync import sync as tally_sync

    url = warehouse_url
    maildir = tiny_world / "mail" / "maildir"
    batches = sorted((tiny_world / "prelead").glob("batch_*.csv"))
    leads_1, leads_2 = tmp_path / "leads1", tmp_path / "leads2"
    for folder, batch in ((leads_1, batches[0]), (leads_2, batches[1])):
        folder.mkdir()
        shutil.copy2(batch, folder)
    tally = TallySimulator(tiny_world, port=0)
    focus = FocusSimulator(tiny_world, "127.0.0.1", port=0)
    tally_client = TallyClient(url=tally.start(), retries=0, read_timeout_s=30.0)
    entities = 0
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            # --- first landing: ERP, one lead list, the sales mailbox, people's first acts
            tally_sync(conn, tally_client)
            with FocusClient(FocusSettings(url=focus.start())) as client:
                focus_sync(conn, client)
            prelead_sync(conn, [leads_1])
            land_paths(conn, [maildir / "sales"])
            entities += _score(conn)
            first, second, third = _thread_keys(conn)
            events.append(conn, events.new_event("PreleadApproved", actor="ravi",
                          payload={"batch": "batch_001", "row_no": 2}), 0)  # fmt: skip
            # a person's move whose transaction starts now and commits after a later one
            with psycopg.connect(url) as late, late.transaction():
                events.append(late, events.new_event("CardAssigned", first, actor="priya",
                              payload={"assignee": "priya"}), 0)  # fmt: skip
                events.append(conn, events.new_event("CardMoved", second, actor="ravi",
                              payload={"to": "quoted"}), 0)  # fmt: skip
                _build(select=EVERYTHING)
                streamed = {row[1] for row in _stream(url)}
                assert {"EmailReceived", "CardMoved"} <= streamed
                assert "CardAssigned" not in streamed
            # committed now, with an earlier recorded_at and seq than the streamed CardMoved:
            # a reader of "seq > last seen" would skip it
            seqs = dict(conn.execute(
                "SELECT event_type, event_seq FROM ops.events WHERE entity_id IN (%s, %s)",
                (first, second)).fetchall())  # fmt: skip
            assert seqs["CardAssigned"] < seqs["CardMoved"]

            # --- more arrives: a dispatch in Tally, a receipt, all mailboxes, a second list
            order = tally.company.open_orders[0]
            assert tally.dispatch_one() is not None
            tally_sync(conn, tally_client)
            receipt = TALLY_RECEIPT.encode()
            land.land_vouchers(conn, list(iter_records(receipt, "vouchers")))
            land_paths(conn, [maildir])
            prelead_sync(conn, [leads_2])
            entities += _score(conn)
            events.append(conn, events.new_event("CardMoved", third, actor="priya",
                          payload={"to": "in_progress"}), 0)  # fmt: skip
            # an admin's sender rule is business activity; accounts and sign-ins are not
            events.append(conn, events.new_event("RouteRuleChanged", actor="arjun", payload={
                "kind": "domain", "pattern": "gem.gov.in", "stream": "tender"}), 0)  # fmt: skip
            events.append(conn, events.new_event("UserAdded", "arjun", actor="pebble-up",
                          payload={"role": "admin"}), 0)  # fmt: skip
            events.append(conn, events.new_event("SignedIn", "arjun", actor="arjun",
                          payload={"method": "password", "role": "admin"}), 1)  # fmt: skip
            _build()  # incremental, as the Dagster asset runs it
            incremental = _stream(url)
            emails = conn.execute(
                "SELECT count(*) FILTER (WHERE split_part(lower(from_addr), '@', 2)"
                " <> 'pebbledemo.in'), count(*) FROM raw.emails"
            ).fetchone()
            valid = _valid_rows(conn)
    finally:
        tally.stop()
        focus.stop()

    _build("--full-refresh")
    rebuilt = _stream(url)
    assert incremental == rebuilt  # same rows, event ids and payloads included

    counts = Counter(row[1] for row in rebuilt)
    expected = _expected_erp(tiny_world, order) + Counter(
        EmailReceived=emails[0],
        EmailClassified=emails[1],
        EntitiesExtracted=entities,
        PreleadLoaded=valid,
        **PEOPLE,
    )
    assert counts == expected
    assert len({row[0] for row in rebuilt}) == len(rebuilt)
    # every event once in activity_by_company; each order, invoice and inspection placed in
    # the company the CRM master put its customer in, a linked email in its link's
    with psycopg.connect(url) as conn:
        placed = conn.execute(
            "SELECT a.event_type, a.link, count(*), count(DISTINCT a.event_id),"
            " count(*) FILTER (WHERE a.company_key = coalesce(o.company_key, i.company_key,"
            "   l.company_key, a.company_key) AND a.company_key IS NOT NULL),"
            " count(*) FILTER (WHERE coalesce(o.company_key, i.company_key) IS NOT NULL)"
            " FROM marts.activity_by_company AS a"
            " LEFT JOIN staging.stg_focus__sales_orders AS so"
            "   ON a.entity_type = 'sales_order' AND so.sales_order_no = a.entity_id"
            " LEFT JOIN marts.crm_company_sources AS o"
            "   ON o.source_system = 'focus' AND o.source_id = so.customer_code"
            " LEFT JOIN staging.stg_focus__qc_inspections AS qi"
            "   ON a.entity_type = 'qc_inspection' AND qi.qc_doc_no = a.entity_id"
            " LEFT JOIN staging.stg_focus__sales_orders AS qo"
            "   ON qo.sales_order_no = qi.sales_order_no"
            " LEFT JOIN marts.crm_company_sources AS i"
            "   ON i.source_system = 'focus' AND i.source_id = qo.customer_code"
            " LEFT JOIN marts.crm_email_links AS l"
            "   ON a.entity_type = 'email' AND l.email_key = a.entity_id"
            " GROUP BY 1, 2"
        ).fetchall()
    by_type = Counter()
    for event_type, link, rows, distinct, agreeing, resolvable in placed:
        assert rows == distinct, (event_type, link)
        by_type[event_type] += rows
        if link in ("focus_customer", "email_link"):
            assert agreeing == rows, (event_type, link, agreeing)
        if link is None:  # nobody's: an inspection of stock made for no order, stock moves
            assert resolvable == 0, (event_type, resolvable)
    assert by_type == counts
    links = {(event_type, link) for event_type, link, *_ in placed}
    assert {
        ("OrderPlaced", "focus_customer"),
        ("QCResultRecorded", "focus_customer"),
        ("InvoiceRaised", "tally_ledger"),
        ("EmailReceived", "email_link"),
    } <= links
    payment = next(row for row in rebuilt if row[1] == "PaymentReceived")
    assert payment[3] == "RCPT/25-26/0007"
    assert json.loads(payment[6])["amount_inr"] == 118000
    assert json.loads(payment[6])["deposited_to"] == ["HDFC Bank"]


def _valid_rows(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) FROM raw.prelead_rows WHERE is_valid").fetchone()[0]
