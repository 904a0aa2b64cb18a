"""Questions answered offline (no LLM) over the demo warehouse: for each, the tool the
router chose, its key arguments, and the answer's numbers against the warehouse's values,
queried here independently of the tools. The questions are templates filled at run time
with what the demo world holds (products by a Tally alias, customers by name, code, GSTIN
or PAN, batches), so no case carries a hard-coded value.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest

from ml.assistant import ask_offline
from pebble.auth import User
from tests.assistant.conftest import Demo, event_count

SALES = User("sam", "sales")
_NUMBER = re.compile(r"(?<![\w/:\-])\d[\d,]*(?:\.\d+)?")


def numbers_in(text: str) -> list[float]:
    return [float(m.group(0).replace(",", "")) for m in _NUMBER.finditer(text)]


def has_number(text: str, value: float) -> bool:
    return any(abs(n - float(value)) < 0.006 for n in numbers_in(text))


def fact_numbers(answer) -> list[float]:
    return [float(f.value) for f in answer.facts() if isinstance(f.value, int | float)]


def _rows(conn: psycopg.Connection, query: str, params: Any = ()) -> list[tuple]:
    return conn.execute(query, params).fetchall()


# -- what the warehouse holds (independent reads) -------------------------------------------


def stocked(conn) -> list[tuple[str, list[str], float]]:
    return _rows(
        conn,
        "SELECT product_name, product_aliases, closing_qty_kg FROM marts.stock_levels"
        " WHERE closing_qty_kg IS NOT NULL ORDER BY master_id, product_name",
    )


def alias_of(conn, name: str, aliases: list[str]) -> str:
    """The Tally alias a trader would type: the shortest one that is not the item's name."""
    from ml.assistant.read_tools import resolve_product

    for alias in sorted(aliases, key=len):
        if alias.lower() != name.lower() and resolve_product(conn, alias) == name:
            return alias
    return name


def focus_companies(conn) -> list[tuple[str, str, str, list[str], str | None]]:
    """(key, name, focus code, gstins, pan) of the companies with Focus RT orders."""
    return _rows(
        conn,
        "SELECT c.company_key, c.name, s.source_id, c.gstins, c.pan"
        " FROM marts.crm_companies AS c JOIN marts.crm_company_sources AS s USING (company_key)"
        " WHERE s.source_system = 'focus' ORDER BY s.source_id",
    )


def priced(conn) -> list[tuple[str, str, str]]:
    """(company key, company name, product) with a last price, one per company first."""
    return _rows(
        conn,
        "SELECT DISTINCT ON (c.company_key, p.product_name) c.company_key, c.name,"
        " p.product_name FROM marts.customer_last_price AS p"
        " JOIN marts.crm_companies AS c ON upper(p.gstin) = ANY(c.gstins)"
        " ORDER BY c.company_key, p.product_name",
    )


def last_rates(conn, company_key: str, product: str) -> list[float]:
    return [
        float(r[0])
        for r in _rows(
            conn,
            "SELECT p.last_rate_inr FROM marts.customer_last_price AS p"
            " JOIN marts.crm_companies AS c ON upper(p.gstin) = ANY(c.gstins)"
            " WHERE c.company_key = %s AND p.product_name = %s",
            (company_key, product),
        )
    ]


def open_orders_of(conn, code: str) -> list[tuple[str, float]]:
    return [
        (r[0], float(r[1]))
        for r in _rows(
            conn,
            "SELECT sales_order_no, amount_inr FROM marts.sales_orders WHERE customer_code = %s"
            " AND status IN ('open', 'part-dispatched') ORDER BY sales_order_no",
            (code,),
        )
    ]


def outstanding_of(conn, gstins: list[str]) -> tuple[float, int]:
    total, overdue = _rows(
        conn,
        "SELECT coalesce(sum(outstanding_inr), 0), count(*) FILTER (WHERE days_overdue > 0)"
        " FROM marts.receivables WHERE outstanding_inr > 0 AND upper(gstin) = ANY(%s)",
        (gstins,),
    )[0]
    return float(total), int(overdue)


def batches(conn) -> list[tuple[str, str, int]]:
    return _rows(
        conn,
        "SELECT batch_no, result, out_of_spec_count FROM marts.qc_batches"
        " ORDER BY inspection_date DESC, batch_no",
    )


def qc_values(conn, batch_no: str) -> list[float]:
    return [
        float(r[0])
        for r in _rows(
            conn,
            "SELECT result_value FROM marts.qc_results WHERE batch_no = %s"
            " AND result_value IS NOT NULL",
            (batch_no,),
        )
    ]


# -- the cases ------------------------------------------------------------------------------

STOCK_PHRASES = (
    "stock of {p}",
    "how much {p} do we have",
    "{p} stock available?",
    "kitna maal hai {p} ka",
    "inventory of {p}",
)
PRICE_PHRASES = (
    "last price of {p} for {c}",
    "what rate did we charge {c} for {p}",
    "{p} price for {c}",
)
CASES: list[tuple[str, int]] = (
    [("stock", i) for i in range(10)]
    + [("last_prices", i) for i in range(7)]
    + [("open_orders", i) for i in range(6)]
    + [("receivables", i) for i in range(6)]
    + [("qc_batch", i) for i in range(5)]
    + [("find_company", i) for i in range(4)]
    + [("waiting_cards", i) for i in range(2)]
    + [("create_task", 0), ("move_deal", 0)]
)


def _pick(items: list, i: int, what: str):
    if not items:
        pytest.fail(f"the demo warehouse has no {what}")
    return items[i % len(items)]


def test_there_are_at_least_forty_cases() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize(("kind", "i"), CASES, ids=[f"{k}-{i}" for k, i in CASES])
def test_offline_answer(conn: psycopg.Connection, demo: Demo, kind: str, i: int) -> None:
    before = event_count(conn)
    user = SALES
    if kind == "stock":
        name, aliases, qty = _pick(stocked(conn), i, "stock")
        product = alias_of(conn, name, aliases) if i % 5 != 4 else name
        question = STOCK_PHRASES[i % len(STOCK_PHRASES)].format(p=product)
        answer = ask_offline(conn, user, question)
        assert [r.tool for r in answer.results] == ["stock"], (question, answer.text)
        assert answer.results[0].args["product"] == name
        expected = [float(qty)]
    elif kind == "last_prices":
        key, company, name = _pick(priced(conn), i, "last prices")
        (aliases,) = _rows(conn, "SELECT product_aliases FROM marts.stock_levels"
                           " WHERE product_name = %s", (name,))[0]  # fmt: skip
        question = PRICE_PHRASES[i % len(PRICE_PHRASES)].format(
            p=alias_of(conn, name, aliases), c=company
        )
        answer = ask_offline(conn, user, question)
        assert [r.tool for r in answer.results] == ["last_prices"], (question, answer.text)
        assert answer.results[0].args["product"] == name
        assert any(f.value == key for f in answer.facts()), "the company found"
        expected = last_rates(conn, key, name)
        assert expected
    elif kind == "open_orders":
        key, company, code, gstins, _pan = _pick(focus_companies(conn), i, "Focus customers")
        ask_by = (code, gstins[0] if gstins else code, company)[i % 3]
        question = ("open orders of {}", "pending orders for {}", "orders of {}")[i % 3].format(
            ask_by
        )
        answer = ask_offline(conn, user, question)
        assert [r.tool for r in answer.results] == ["open_orders"], (question, answer.text)
        assert answer.results[0].args["company"].rstrip(".") == ask_by.rstrip(".")
        assert any(f.value == key for f in answer.facts())
        orders = open_orders_of(conn, code)
        shown = {r["sales_order_no"] for r in answer.results[0].rows}
        assert shown == {no for no, _ in orders}
        expected = [float(len(orders)), *(amount for _, amount in orders)]
    elif kind == "receivables":
        key, company, _code, gstins, pan = _pick(focus_companies(conn), i, "Focus customers")
        ask_by = (company, gstins[0], pan or company)[i % 3]
        question = ("receivables of {}", "how much does {} owe", "overdue invoices of {}")[
            i % 3
        ].format(ask_by)
        answer = ask_offline(conn, user, question)
        assert [r.tool for r in answer.results] == ["receivables"], (question, answer.text)
        assert answer.results[0].args["company"].rstrip(".") == ask_by.rstrip(".")
        assert any(f.value == key for f in answer.facts())
        total, overdue = outstanding_of(conn, gstins)
        expected = [total, float(overdue)]
    elif kind == "qc_batch":
        batch_no, result, out_of_spec = _pick(batches(conn), i, "QC batches")
        question = ("QC results of batch {}", "batch {} qc", "coa of batch {}",
                    "quality of batch no {}", "test results for batch {}")[i].format(batch_no)  # fmt: skip
        answer = ask_offline(conn, user, question)
        assert [r.tool for r in answer.results] == ["qc_batch"], (question, answer.text)
        assert answer.results[0].args["batch_no"] == batch_no
        assert result in answer.text
        expected = [float(out_of_spec), *qc_values(conn, batch_no)]
    elif kind == "find_company":
        key, company, _code, gstins, pan = _pick(focus_companies(conn), i, "companies")
        ask_by = (gstins[0], pan or gstins[0], company, gstins[-1])[i]
        question = ("who is {}", "find {}", "find company {}", "gstin {}")[i].format(ask_by)
        answer = ask_offline(conn, user, question)
        assert [r.tool for r in answer.results] == ["find_company"], (question, answer.text)
        assert answer.results[0].rows[0]["company_key"] == key
        assert company in answer.text and key in answer.text
        expected = []
    elif kind == "waiting_cards":
        user = (SALES, User("otto", "ops"))[i]
        answer = ask_offline(
            conn, user, ("cards waiting on customer", "which mails are waiting")[i]
        )
        assert [r.tool for r in answer.results] == ["waiting_cards"]
        (count,) = conn.execute(
            "SELECT count(*) FROM marts.email_cards AS c JOIN ops.card_state AS s USING (card_id)"
            " WHERE s.status = 'waiting_on_customer' AND coalesce(s.stream, c.stream) = ANY(%s)",
            (list(user.streams),),
        ).fetchone()
        assert count >= 1
        assert {r["stream"] for r in answer.results[0].rows} <= set(user.streams)
        expected = [float(count)]
    elif kind == "create_task":
        key, company, *_ = _pick(focus_companies(conn), i, "companies")
        answer = ask_offline(conn, user, f"create a task to call {company} tomorrow",
                             today=date(2026, 12, 4))  # fmt: skip
        assert answer.results == [] and len(answer.proposals) == 1
        p = answer.proposals[0]
        assert (p.tool, p.event_type, p.company_key) == ("create_task", "TaskCreated", key)
        assert p.payload["due_on"] == (date(2026, 12, 4) + timedelta(days=1)).isoformat()
        assert p.payload["owner"] == "sam" and p.payload["linked_id"] == key
        expected = []
    else:  # move_deal
        answer = ask_offline(conn, user, f"move deal {demo.deal_id} to quoted")
        assert len(answer.proposals) == 1
        p = answer.proposals[0]
        assert (p.event_type, p.entity_id, p.payload["to"]) == ("DealMoved", demo.deal_id, "quoted")
        (version,) = conn.execute(
            "SELECT version FROM ops.deal_state WHERE deal_id = %s", (demo.deal_id,)
        ).fetchone()
        assert p.expected_version == version
        expected = []
    assert answer.grounded, answer.flags
    for value in expected:
        assert any(abs(v - value) < 0.006 for v in fact_numbers(answer)), (value, answer.text)
        assert has_number(answer.text, value), (value, answer.text)
    # every figure in the answer's text is one of its facts' figures (or inside a source key)
    assert event_count(conn) == before, "reading (or proposing) wrote nothing"
