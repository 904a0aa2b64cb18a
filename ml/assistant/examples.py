"""Example questions for the page's help, made from what the warehouse holds now (a real
product alias, customer, customer code, batch), so each one answers offline on any demo
world. An example is kept only when the offline router sends it to the tool it shows off.
"""

from __future__ import annotations

from typing import Any

import psycopg

from ml.assistant import read_tools
from ml.assistant.router import Router
from pebble.auth import User


def _all(conn: psycopg.Connection, query: str) -> list[dict[str, Any]]:
    return read_tools._rows(conn, query + " LIMIT %(n)s", {"n": CANDIDATES})


def _alias(products: tuple[Any, ...], name: str, router: Router) -> str:
    """A short alias of the stock item that reads back as the item (else its name)."""
    ref = next((p for p in products if p.name == name), None)
    for alias in sorted(ref.aliases if ref else (), key=len):
        found = router.extractor.extract(alias, include_quoted=True)
        if any(e.label == "PRODUCT" and e.value == name for e in found):
            return alias
    return name


#: Candidates tried per example (the first that answers is shown).
CANDIDATES = 5


def _answers(conn: psycopg.Connection, tool: str, question: str, router: Router) -> bool:
    """The question routes to ``tool`` and the tool finds what it asks about."""
    from ml.assistant.answer import run_calls

    route = router.route(question)
    if [name for name, _ in route.calls] != [tool]:
        return False
    results, _ = run_calls(conn, _READER, route.calls)
    return all(r.ok and r.facts for r in results)


def examples(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """Up to five (tool, question) pairs that answer offline over this warehouse."""
    products = read_tools.stock_master(conn)
    router = Router(products)
    candidates: dict[str, list[str]] = {
        "stock": [
            f"stock of {_alias(products, r['product_name'], router)}"
            for r in _all(conn, "SELECT product_name FROM marts.stock_levels WHERE closing_qty > 0"
                          " ORDER BY master_id NULLS LAST, product_name")
        ],
        "last_prices": [
            f"last price of {_alias(products, r['product_name'], router)} for {r['name']}"
            for r in _all(conn, "SELECT p.product_name, c.name FROM marts.customer_last_price AS p"
                          " JOIN marts.crm_companies AS c ON upper(p.gstin) = ANY(c.gstins)"
                          " ORDER BY p.last_priced_on DESC NULLS LAST, p.customer_product_key")
        ],
        "open_orders": [
            f"open orders of {r['customer_code']}"
            for r in _all(conn, "SELECT customer_code FROM marts.sales_orders"
                          " WHERE customer_code IS NOT NULL GROUP BY customer_code"
                          " ORDER BY bool_or(status IN ('open', 'part-dispatched')) DESC,"
                          " max(order_date) DESC")
        ],
        "receivables": [
            f"receivables of {r['name']}"
            for r in _all(conn, "SELECT c.name FROM marts.receivables AS r"
                          " JOIN marts.crm_companies AS c ON upper(r.gstin) = ANY(c.gstins)"
                          " WHERE r.outstanding_inr > 0 GROUP BY c.name"
                          " ORDER BY sum(r.outstanding_inr) DESC")
        ],
        "qc_batch": [
            f"QC results of batch {r['batch_no']}"
            for r in _all(conn, "SELECT batch_no FROM marts.qc_batches"
                          " ORDER BY inspection_date DESC NULLS LAST, batch_key")
        ],
    }  # fmt: skip
    out: list[tuple[str, str]] = []
    for tool, questions in candidates.items():
        found = next((q for q in questions if _answers(conn, tool, q, router)), None)
        if found:
            out.append((tool, found))
    return out


#: Examples are checked as a reader of everything (the page shows them to every role).
_READER = User("examples", "manager")
