"""The deal pipeline and the managers' KPI marts over real landed data.

Data lands the way production lands it: Tally and Focus RT from their simulators over a
tiny demo world, five hand-written customer enquiries (and one reply of ours) through the
mail loader, predictions through the ML warehouse writer (fixed labels and entities: the
pipeline is under test, not the model), and people's actions through
``pebble.events.append``. dbt builds the marts through the project's own resource, ages
measured on a pinned day.

The enquiries are written against the world's own orders: one customer asks for a product
a few days before the (invoiced) order the world has for it, another before the world's
open order; a third asks for a product it never orders and its card is closed; a fourth
is answered from the app; a fifth asks for a sample.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pebble import db, events

AS_OF = date(2025, 12, 31)
IST = timezone(timedelta(hours=5, minutes=30))
MODEL = "test-model-1"
WINDOW_DAYS = 60


@dataclass
class Enquiry:
    """One customer enquiry the test writes, and what the pipeline should make of it."""

    name: str
    company_id: str
    product: str
    qty_kg: float | None
    sent_at: datetime
    intent: str = "price_enquiry"
    sender: str = ""
    ledger: str = ""
    #: what the ML's company link says: the CRM key (as the linker writes it), the Tally
    #: ledger name (a prediction from before the CRM master), or nothing (the model did
    #: not link it: the CRM's placing of the sender decides)
    linked_as: str = "crm"
    pan: str = ""
    gstin: str = ""
    message_id: str = ""
    email_key: str = ""
    thread_key: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _eml(message_id: str, sender: str, subject: str, sent_at: datetime, body: str,
         in_reply_to: str | None = None) -> bytes:  # fmt: skip
    to = "customer@example.in" if sender.endswith("@pebbledemo.in") else "sales@pebbledemo.in"
    headers = [
        f"Message-ID: {message_id}",
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Date: {format_datetime(sent_at)}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
    ]
    if in_reply_to:
        headers += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
    return ("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode()


def _scenario(world: Path) -> dict[str, Enquiry]:
    """Five enquiries placed against the world's orders (found, not assumed)."""
    orders = _jsonl(world / "sales_orders.jsonl")
    contacts = _jsonl(world / "contacts.jsonl")
    companies = {c["company_id"]: c for c in _jsonl(world / "companies.jsonl")}
    products = [item["name"] for item in json.loads((world / "stock.json").read_text())]

    def ordered(company_id: str) -> set[str]:
        return {line["product_name"] for o in orders if o["company_id"] == company_id
                for line in o["lines"]}  # fmt: skip

    invoiced = [o for o in orders if o["status"] == "invoiced"]
    won_order = invoiced[-1]
    open_order = next(o for o in orders if o["status"] == "open")
    others = [c for c in companies if c not in (won_order["company_id"], open_order["company_id"])
              and ordered(c)]  # fmt: skip
    lost_company = others[0]
    quoted_company, sample_company = others[1], others[2]

    def day(iso: str, days: int, hour: int) -> datetime:
        return datetime.combine(date.fromisoformat(iso) - timedelta(days=days),
                                datetime.min.time(), IST).replace(hour=hour)  # fmt: skip

    won_product = won_order["lines"][0]["product_name"]
    open_product = open_order["lines"][0]["product_name"]
    taken = {won_product, open_product}
    quoted_product = sorted(ordered(quoted_company) - taken)[0]
    taken.add(quoted_product)
    sample_product = sorted(ordered(sample_company) - taken)[0]
    taken.add(sample_product)
    lost_product = next(p for p in products if p not in ordered(lost_company) | taken)
    scenario = {
        "won": Enquiry("won", won_order["company_id"], won_product, 2000.0,
                       day(won_order["date"], 5, 10)),
        "ordered": Enquiry("ordered", open_order["company_id"], open_product, 5000.0,
                           day(open_order["date"], 4, 9)),
        "lost": Enquiry("lost", lost_company, lost_product, 1000.0,
                        datetime(2025, 11, 1, 11, 0, tzinfo=IST)),
        "quoted": Enquiry("quoted", quoted_company, quoted_product, 500.0,
                          datetime(2025, 12, 20, 10, 0, tzinfo=IST)),
        "sample": Enquiry("sample", sample_company, sample_product, None,
                          datetime(2025, 12, 22, 15, 0, tzinfo=IST), intent="sample_request"),
    }  # fmt: skip
    for enquiry in scenario.values():
        company = companies[enquiry.company_id]
        enquiry.sender = next(
            c["email"] for c in contacts if c["company_id"] == company["company_id"]
        )
        enquiry.gstin = company["gstins"][0]["gstin"]
        enquiry.pan = company["pan"]
        enquiry.message_id = f"<{enquiry.name}.enquiry@test.local>"
    scenario["won"].linked_as = "ledger"
    scenario["sample"].linked_as = "none"
    scenario["won"].extra["order"] = won_order
    scenario["ordered"].extra["order"] = open_order
    # the world's orders are the first of their company and product after each enquiry
    for name in ("won", "ordered"):
        enquiry = scenario[name]
        start = enquiry.sent_at.date()
        matches = [o["doc_no"] for o in orders if o["company_id"] == enquiry.company_id
                   and start <= date.fromisoformat(o["date"]) <= start + timedelta(WINDOW_DAYS)
                   and enquiry.product in {line["product_name"] for line in o["lines"]}]  # fmt: skip
        assert matches[:1] == [enquiry.extra["order"]["doc_no"]]
    return scenario


def _land_mail(conn: psycopg.Connection, scenario: dict[str, Enquiry]) -> str:
    """The enquiries and our reply to the first, through the mail loader; returns the
    reply's email key."""
    from ingest.mail.land import land_bytes

    items = []
    for e in scenario.values():
        qty = f"{e.qty_kg:g} kg of " if e.qty_kg else "a sample of "
        body = f"Dear Sir,\nplease send your best offer for {qty}{e.product}.\nRegards"
        items.append(
            (e.name, _eml(e.message_id, e.sender, f"Enquiry {e.product}", e.sent_at, body))
        )
    won = scenario["won"]
    reply = _eml("<won.reply@test.local>", "priya@pebbledemo.in", f"Re: Enquiry {won.product}",
                 won.sent_at + timedelta(minutes=90), "Our offer is attached.", won.message_id)  # fmt: skip
    items.append(("reply", reply))
    report = land_bytes(conn, items, mailbox="sales")
    assert report.landed == len(items), report
    keys = dict(conn.execute("SELECT message_id, email_key FROM raw.emails").fetchall())
    threads = dict(conn.execute("SELECT message_id, thread_key FROM raw.emails").fetchall())
    for e in scenario.values():
        bare = e.message_id.strip("<>")
        e.email_key = keys.get(e.message_id) or keys[bare]
        e.thread_key = threads.get(e.message_id) or threads[bare]
    return keys.get("<won.reply@test.local>") or keys["won.reply@test.local"]


def _score(conn: psycopg.Connection, scenario: dict[str, Enquiry], reply_key: str) -> None:
    """Predictions as the ML writer stores them: the company as the linker named it (see
    Enquiry.linked_as), the product linked to its stock item and the quantity in kg."""
    from ml.warehouse import write_predictions

    def entities(e: Enquiry) -> list[dict[str, Any]]:
        found = [{"label": "PRODUCT", "text": e.product, "value": e.product, "start": 60,
                  "end": 60 + len(e.product), "linked_to": e.product}]  # fmt: skip
        if e.qty_kg:
            found.append({"label": "QUANTITY", "text": f"{e.qty_kg:g} kg", "value": e.qty_kg,
                          "start": 45, "end": 52})  # fmt: skip
        return found

    def company(e: Enquiry) -> str | None:
        return {"crm": f"pan:{e.pan}", "ledger": e.ledger}.get(e.linked_as)

    results = [
        {"email_key": e.email_key, "model_version": MODEL, "stream": "crm", "intent": e.intent,
         "confidence": 0.9, "stream_confidence": 0.95, "requires_review": False,
         "company_key": company(e), "company_name": e.ledger if company(e) else None,
         "entities": entities(e)}
        for e in scenario.values()
    ] + [
        {"email_key": reply_key, "model_version": MODEL, "stream": "crm",
         "intent": "price_enquiry", "confidence": 0.8, "stream_confidence": 0.9,
         "requires_review": False, "entities": []}
    ]  # fmt: skip
    write_predictions(conn, results)


@pytest.fixture
def landed(pebble_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
           ) -> Iterator[tuple[str, dict[str, Enquiry]]]:  # fmt: skip
    from demo.sim.focus import FocusSimulator
    from demo.sim.tally import TallySimulator
    from demo.world import generate_world
    from ingest.focus.client import FocusClient
    from ingest.focus.settings import FocusSettings
    from ingest.focus.sync import sync as focus_sync
    from ingest.tally.client import TallyClient
    from ingest.tally.sync import sync as tally_sync

    world = tmp_path / "world"
    generate_world(world, seed=7, scale=0.02)  # seed 7 has an open order
    scenario = _scenario(world)
    db.upgrade(pebble_env)
    tally = TallySimulator(world, port=0)
    focus = FocusSimulator(world, "127.0.0.1", port=0)
    try:
        with psycopg.connect(pebble_env, autocommit=True) as conn:
            tally_sync(conn, TallyClient(url=tally.start(), retries=0, read_timeout_s=30.0))
            with FocusClient(FocusSettings(url=focus.start())) as client:
                focus_sync(conn, client)
            for e in scenario.values():
                (e.ledger,) = conn.execute(
                    "SELECT name FROM raw.tally_ledgers WHERE gstin = %s ORDER BY name LIMIT 1",
                    (e.gstin,),
                ).fetchone()
            reply_key = _land_mail(conn, scenario)
            _score(conn, scenario, reply_key)
            lost, quoted, ordered = scenario["lost"], scenario["quoted"], scenario["ordered"]
            events.append(conn, events.new_event(
                "CardMoved", lost.thread_key, actor="ravi", payload={"to": "done"},
                occurred_at=datetime(2025, 11, 5, 17, 0, tzinfo=IST)), 0)  # fmt: skip
            events.append(conn, events.new_event(
                "ReplySent", quoted.thread_key, actor="priya",
                payload={"email_key": quoted.email_key},
                occurred_at=quoted.sent_at + timedelta(hours=23)), 0)  # fmt: skip
            events.append(conn, events.new_event(
                "CardAssigned", ordered.thread_key, actor="ravi",
                payload={"assignee": "ravi"}, occurred_at=datetime.now(UTC)), 0)  # fmt: skip
    finally:
        tally.stop()
        focus.stop()
    monkeypatch.setenv("PEBBLE_TIMEZONE", "Asia/Kolkata")
    for variable, value in db.dbt_env(pebble_env).items():
        monkeypatch.setenv(variable, value)
    yield pebble_env, scenario


def _dbt_build() -> list[dict[str, Any]]:
    """`dbt build` of the pipeline, the KPIs and what they read, through the Dagster dbt
    resource; any failure or warning fails the test."""
    from orchestration.definitions import defs

    args = ["build", "--select", "+deal_pipeline +path:models/marts/kpi taxonomy_labels",
            "--indirect-selection", "cautious",
            "--vars", json.dumps({"erp_as_of_date": AS_OF.isoformat()})]  # fmt: skip
    invocation = defs.resources["dbt"].cli(args, raise_on_error=False).wait()
    results = invocation.get_artifact("run_results.json")["results"]
    bad = [(r["unique_id"], r["status"], r["message"]) for r in results
           if r["status"] not in ("success", "pass")]  # fmt: skip
    assert invocation.is_successful() and not bad, bad
    return results


def test_deals_and_kpis_over_landed_mail_orders_and_events(
    landed: tuple[str, dict[str, Enquiry]],
) -> None:
    url, s = landed
    results = _dbt_build()
    unit_tests = {r["unique_id"].rsplit(".", 1)[-1] for r in results
                  if r["unique_id"].startswith("unit_test.")}  # fmt: skip
    assert {"deal_pipeline_infers_stage_dates_and_value", "deals_match_the_order_they_became",
            "backlog_counts_cards_per_column_and_age_at_each_days_end"} <= unit_tests  # fmt: skip

    with psycopg.connect(url) as conn:
        deals = {
            row[0]: row
            for row in conn.execute(
                "SELECT thread_key, stage, product, qty_kg, value_inr, value_source,"
                " sales_order_no, ordered_at, closed_at, lost_reason, owner, company_key,"
                " is_open, deal_key FROM marts.deal_pipeline"
            )
        }
        companies = dict(conn.execute(
            "SELECT s.source_id, s.company_key FROM marts.crm_company_sources s"
            " WHERE s.source_system = 'focus'").fetchall())  # fmt: skip
        customer_codes = dict(conn.execute(
            "SELECT sales_order_no, customer_code FROM marts.sales_orders").fetchall())  # fmt: skip
        last_price = conn.execute(
            "SELECT last_rate_inr_per_kg FROM marts.customer_last_price"
            " WHERE gstin = %s AND product_name = %s",
            (s["quoted"].gstin, s["quoted"].product),
        ).fetchone()
        invoiced_on = conn.execute(
            "SELECT last_dispatched_on FROM marts.sales_orders WHERE sales_order_no = %s",
            (s["won"].extra["order"]["doc_no"],),
        ).fetchone()[0]
        mail_kpi = conn.execute(
            "SELECT day, sum(messages)::int FROM marts.kpi_mail_daily WHERE stream = 'crm'"
            " GROUP BY day ORDER BY day"
        ).fetchall()
        mail_staging = conn.execute(
            "SELECT (e.sent_at AT TIME ZONE 'Asia/Kolkata')::date, count(*)::int"
            " FROM staging.stg_mail__emails e"
            " JOIN staging.stg_ml__email_predictions p USING (email_key)"
            " WHERE NOT e.is_outbound AND p.stream = 'crm' GROUP BY 1 ORDER BY 1"
        ).fetchall()
        response_kpi = conn.execute(
            "SELECT median_minutes, cards, responded FROM marts.kpi_first_response_daily"
            " WHERE day = %s AND dimension = 'stream' AND dimension_value = 'crm'",
            (s["won"].sent_at.date(),),
        ).fetchone()
        response_staging = conn.execute(
            "SELECT round((extract(epoch FROM r.sent_at - e.sent_at) / 60)::numeric, 1)"
            " FROM staging.stg_mail__emails e JOIN staging.stg_mail__emails r"
            " ON r.thread_key = e.message_id AND r.is_outbound WHERE e.email_key = %s",
            (s["won"].email_key,),
        ).fetchone()
        stock = conn.execute(
            "SELECT d.enquiries_30d, d.qty_asked_kg_30d, d.stock_on_hand_kg, d.low_stock,"
            " (SELECT sum(closing_qty_kg) FROM staging.stg_tally__stock_items i"
            "  WHERE i.is_latest AND i.product_name = d.product)"
            " FROM marts.kpi_demand_vs_stock d WHERE d.product = %s",
            (s["quoted"].product,),
        ).fetchone()
        lost_product = conn.execute(
            "SELECT enquiries_30d, open_deals FROM marts.kpi_demand_vs_stock WHERE product = %s",
            (s["lost"].product,),
        ).fetchone()
        ordered_product = conn.execute(
            "SELECT open_deals, open_qty_kg, low_stock, stock_on_hand_kg"
            " FROM marts.kpi_demand_vs_stock WHERE product = %s",
            (s["ordered"].product,),
        ).fetchone()
        conversion = conn.execute(
            "SELECT sum(enquiries)::int, sum(ordered)::int, sum(won)::int, sum(lost)::int"
            " FROM marts.kpi_conversion_daily"
        ).fetchone()
        backlog_today = dict(conn.execute(
            "SELECT status, sum(cards)::int FROM marts.kpi_backlog_daily WHERE day = %s"
            " GROUP BY status", (AS_OF,)).fetchall())  # fmt: skip

    assert len(deals) == 5  # one per enquiry thread (one product each); the reply joins its thread
    won, ordered, lost = (
        deals[s["won"].thread_key],
        deals[s["ordered"].thread_key],
        deals[s["lost"].thread_key],
    )
    quoted, sample = deals[s["quoted"].thread_key], deals[s["sample"].thread_key]

    # won: the world's invoiced order of that company and product, valued at its line
    order = s["won"].extra["order"]
    line = next(x for x in order["lines"] if x["product_name"] == s["won"].product)
    assert won[1:7] == ("won", s["won"].product, Decimal("2000"),
                        Decimal(str(line["amount"])).quantize(Decimal("0.01")), "order",
                        order["doc_no"])  # fmt: skip
    assert won[7].astimezone(IST).date() == date.fromisoformat(order["date"])
    assert won[8].astimezone(IST).date() == invoiced_on and not won[12]
    # every deal is placed in the CRM company whose Focus orders it is matched against,
    # whether the model linked the CRM key, a Tally ledger name or nothing (the sender)
    assert won[11] == companies[customer_codes[order["doc_no"]]]
    for name, e in s.items():
        assert deals[e.thread_key][11] == f"pan:{e.pan}", (name, e.linked_as)

    # ordered: the world's open order; the owner is the card's assignee
    order = s["ordered"].extra["order"]
    line = next(x for x in order["lines"] if x["product_name"] == s["ordered"].product)
    assert ordered[1] == "ordered" and ordered[6] == order["doc_no"] and ordered[12]
    assert ordered[4] == Decimal(str(line["amount"])).quantize(Decimal("0.01"))
    assert ordered[10] == "ravi" and ordered[8] is None

    # lost: closed 5 Nov without an order, 56 days before the as-of day (>= 30)
    assert lost[1] == "lost" and lost[9] == "closed_without_order" and lost[6] is None
    assert lost[8] == datetime(2025, 11, 5, 17, 0, tzinfo=IST) and not lost[12]

    # quoted (answered from the app): valued at qty x the customer's last price per kg
    assert last_price is not None
    assert quoted[1] == "quoted" and quoted[5] == "customer_last_price"
    assert quoted[4] == (Decimal(500) * last_price[0]).quantize(Decimal("0.01"))
    assert sample[1] == "sample" and sample[4] is None  # no quantity, no value

    # keys are deterministic: md5 of the thread and the product's join key
    assert won[13] == "deal:" + _md5(f"{s['won'].thread_key}|{s['won'].product.lower()}")

    # KPIs against independent SQL over staging
    assert mail_kpi == mail_staging and sum(n for _, n in mail_kpi) == 5
    assert response_staging is not None and response_staging[0] == Decimal("90.0")
    assert response_kpi == (response_staging[0], 1, 1)
    assert stock is not None
    enquiries, asked, on_hand, low, staged = stock
    assert (enquiries, asked) == (1, Decimal(500)) and on_hand == staged
    assert low == (on_hand is None or on_hand < 500)
    assert ordered_product[0] == 1 and ordered_product[1] == Decimal(5000)  # open: not dispatched
    assert ordered_product[2] == (ordered_product[3] is None or ordered_product[3] < 5000)
    assert lost_product == (0, 0)  # asked on 1 Nov: outside the last 30 days, and closed
    assert conversion == (5, 2, 1, 1)
    # the current backlog: every card but the one moved to done is still new
    assert backlog_today == {"new": 4}


def _md5(text: str) -> str:
    import hashlib

    return hashlib.md5(text.encode()).hexdigest()
