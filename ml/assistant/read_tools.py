"""The assistant's read tools: the warehouse's marts (companies, open orders, receivables,
last prices, stock, cards waiting on a customer, QC batches), each checked against the asking
user's role (:mod:`ml.assistant.roles`) and returning a :class:`ToolResult` whose numbers
are written from its facts.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

from ml.assistant.results import ToolError, ToolResult
from ml.assistant.roles import PRICE_ROLES, check
from ml.drafts.grounding import Fact
from pebble.auth import User

#: Statuses of a sales order that still has something to go out.
OPEN_ORDER_STATUSES: tuple[str, ...] = ("open", "part-dispatched")
#: Rows a tool returns at most.
LIMIT = 20


# --- reading helpers -----------------------------------------------------------------------


def _rows(conn: psycopg.Connection, query: Any, params: Any = None) -> list[dict[str, Any]]:
    """The rows of a read; [] when a mart it reads is not built yet."""
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(query, params).fetchall()
    except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn):
        return []


def _num(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def fmt_number(value: float, unit: str | None) -> str:
    """Indian grouping: ``Rs 3,86,400``, ``Rs 248.50/kg``, ``6,750 kg``, ``3``."""
    from ml.indian_numbers import indian_grouping

    if unit == "count":
        return str(int(value))
    # as many decimals as the value has (up to 4): a figure is shown as stored, not rounded
    decimals = len(f"{value:.4f}".rstrip("0").split(".")[1])
    if unit and unit.startswith("Rs"):
        per = unit.removeprefix("Rs").lstrip("/")
        money = f"Rs {indian_grouping(value, max(decimals, 2) if decimals else 0)}"
        return f"{money}/{per}" if per else money
    return f"{indian_grouping(value, decimals)} {unit or ''}".strip()


def fmt_date(value: Any) -> str:
    from ml.drafts.formatting import format_date

    return format_date(value) if isinstance(value, date) else str(value)


# --- companies -----------------------------------------------------------------------------

_CODE = re.compile(r"^[A-Z]{1,3}\d{3,8}$")
#: A name hit needs this similarity to be taken without asking.
MIN_NAME_SCORE = 0.75


def resolve_company(conn: psycopg.Connection, text: str) -> tuple[Any, list[Any]]:
    """(the company, the hits) for a key, Focus customer code, GSTIN, PAN, CIN, domain or
    name; the company is None when nothing or several equally good companies match."""
    from app.company.queries import fetch_company
    from app.company.search import search_companies

    text = (text or "").strip()[:200]
    if not text:
        return None, []
    code = text.upper()
    if _CODE.fullmatch(code):
        rows = _rows(
            conn,
            "SELECT company_key FROM marts.crm_company_sources"
            " WHERE source_system = 'focus' AND upper(source_id) = %s ORDER BY company_key",
            (code,),
        )
        if len(rows) == 1:
            return fetch_company(conn, rows[0]["company_key"]), []
    hits = search_companies(conn, text, limit=5)
    if not hits:
        return None, []
    top = hits[0]
    exact = top.matched != "name"
    clear = len(hits) == 1 or hits[1].score < top.score or hits[1].matched == "name" and exact
    if (exact or top.score >= MIN_NAME_SCORE) and clear:
        return fetch_company(conn, top.company_key), hits
    return None, hits


def _company_or_error(conn: psycopg.Connection, text: str) -> Any:
    company, hits = resolve_company(conn, text)
    if company is not None:
        return company
    if hits:
        names = "; ".join(f"{h.name} ({h.company_key})" for h in hits[:5])
        raise ToolError(f"{text!r} matches several companies: {names}. Name one of them.")
    raise ToolError(f"no company found for {text!r}")


def _company_fact(company: Any) -> Fact:
    return Fact(
        kind="company",
        label=company.name,
        value=company.company_key,
        unit=None,
        source="marts.crm_companies",
        as_of=None,
        subject=company.name,
        ref=company.company_key,
    )


def find_company(conn: psycopg.Connection, user: User, query: str) -> ToolResult:
    from app.company.queries import fetch_company
    from app.company.search import search_companies

    check(user, "find_company")
    result = ToolResult("find_company", {"query": query})
    company, hits = resolve_company(conn, query)
    keys = [company.company_key] if company else [h.company_key for h in hits[:5]]
    if company is None and not hits:
        hits = search_companies(conn, query, limit=5)
        keys = [h.company_key for h in hits]
    for key in keys:
        found = company if company and company.company_key == key else fetch_company(conn, key)
        if found is None:
            continue
        result.facts.append(_company_fact(found))
        for gstin in found.gstins:
            result.facts.append(
                Fact(
                    "gstin",
                    f"GSTIN of {found.name}",
                    gstin,
                    None,
                    "marts.crm_companies",
                    None,
                    found.name,
                    found.company_key,
                )  # fmt: skip
            )
        ids = ", ".join([*found.gstins[:3], *([f"PAN {found.pan}"] if found.pan else [])])
        result.rows.append(
            {
                "company_key": found.company_key,
                "name": found.name,
                "pan": found.pan,
                "gstins": ", ".join(found.gstins),
            }  # fmt: skip
        )
        result.lines.append(
            f"{found.name}: key {found.company_key}"
            + (f", {ids}" if ids else "")
            + f" [marts.crm_companies {found.company_key}]"
        )
    if not result.rows:
        result.ok = False
        result.message = f"No company found for {query!r}."
    return result


# --- orders, receivables, prices -----------------------------------------------------------


def open_orders(
    conn: psycopg.Connection, user: User, company: str, order_no: str | None = None
) -> ToolResult:
    from app.company.queries import orders

    check(user, "open_orders")
    result = ToolResult("open_orders", {"company": company, "order_no": order_no})
    found = _company_or_error(conn, company)
    result.facts.append(_company_fact(found))
    frame = orders(conn, user, found)
    rows = [r for r in frame.to_dicts() if r["status"] in OPEN_ORDER_STATUSES]
    if order_no:
        rows = [r for r in frame.to_dicts() if r["sales_order_no"] == order_no]
    result.rows = rows[:LIMIT]
    count = len(rows)
    result.facts.append(
        Fact(
            "count",
            f"open orders of {found.name}",
            count,
            "count",
            "marts.sales_orders",
            None,
            found.name,
            found.company_key,
        )  # fmt: skip
    )
    head = f"{found.name} ({found.company_key}) has {count} open sales order"
    result.lines.append(head + ("" if count == 1 else "s") + " [marts.sales_orders]")
    for r in result.rows:
        no = r["sales_order_no"]
        amount = _num(r["amount_inr"])
        parts = [f"{no} of {fmt_date(r['order_date'])}, {r['status']}"]
        result.facts.append(
            Fact(
                "order_status",
                f"order {no}",
                r["status"],
                None,
                "marts.sales_orders",
                r["order_date"],
                no,
                no,
            )  # fmt: skip
        )
        if amount is not None:
            parts.append(f"amount {fmt_number(amount, 'Rs')}")
            result.facts.append(
                Fact("amount", f"amount of {no}", amount, "Rs", "marts.sales_orders", None, no, no)
            )
        for col, label in (("ordered_qty", "ordered"), ("dispatched_qty", "dispatched")):
            qty = _num(r.get(col))
            if qty is not None:
                parts.append(f"{label} {fmt_number(qty, 'kg')}")
                result.facts.append(
                    Fact(
                        "quantity",
                        f"{label} of {no}",
                        qty,
                        "kg",
                        "marts.sales_orders",
                        None,
                        no,
                        no,
                    )  # fmt: skip
                )
        result.lines.append("- " + ", ".join(parts) + f" [marts.sales_orders {no}]")
    return result


def receivables(conn: psycopg.Connection, user: User, company: str) -> ToolResult:
    from app.company import queries

    check(user, "receivables")
    result = ToolResult("receivables", {"company": company})
    found = _company_or_error(conn, company)
    result.facts.append(_company_fact(found))
    rec = queries.receivables(conn, user, found)
    key = found.company_key
    for kind, label, value, unit in (
        ("amount", f"outstanding of {found.name}", rec.outstanding_inr, "Rs"),
        ("amount", f"overdue of {found.name}", rec.overdue_inr, "Rs"),
        ("count", f"overdue invoices of {found.name}", rec.overdue_count, "count"),
    ):
        result.facts.append(
            Fact(kind, label, value, unit, "marts.receivables", None, found.name, key)
        )
    result.lines.append(
        f"{found.name} ({key}): outstanding {fmt_number(rec.outstanding_inr, 'Rs')}, of which "
        f"{fmt_number(rec.overdue_inr, 'Rs')} overdue on {rec.overdue_count} invoice"
        f"{'' if rec.overdue_count == 1 else 's'} [marts.receivables {key}]"
    )
    open_invoices = [r for r in rec.invoices.to_dicts() if (_num(r["outstanding_inr"]) or 0) > 0]
    result.rows = open_invoices[:LIMIT]
    for r in result.rows:
        no = r["invoice_no"]
        out = _num(r["outstanding_inr"]) or 0.0
        days = int(r["days_overdue"] or 0)
        result.facts.append(
            Fact(
                "amount",
                f"outstanding of {no}",
                out,
                "Rs",
                "marts.receivables",
                r["due_date"],
                no,
                no,
            )  # fmt: skip
        )
        result.facts.append(
            Fact("count", f"days overdue of {no}", days, "count", "marts.receivables", None, no, no)
        )
        result.facts.append(
            Fact(
                "date",
                f"invoice date of {no}",
                r["invoice_date"],
                None,
                "marts.receivables",
                r["invoice_date"],
                no,
                no,
            )  # fmt: skip
        )
        result.lines.append(
            f"- {no} of {fmt_date(r['invoice_date'])}: {fmt_number(out, 'Rs')} outstanding, "
            f"due {fmt_date(r['due_date'])}, {days} days overdue [marts.receivables {no}]"
        )
    return result


def last_prices(
    conn: psycopg.Connection, user: User, company: str, product: str | None = None
) -> ToolResult:
    from app.company import queries
    from ml.extract.linking import product_key

    check(user, "last_prices")
    result = ToolResult("last_prices", {"company": company, "product": product})
    found = _company_or_error(conn, company)
    result.facts.append(_company_fact(found))
    rows = queries.last_prices(conn, user, found).to_dicts()
    if product:
        name = resolve_product(conn, product) or product
        rows = [r for r in rows if product_key(str(r["product_name"])) == product_key(name)]
        result.args["product"] = name
    result.rows = rows[:LIMIT]
    if not rows:
        what = f" for {result.args['product']}" if product else ""
        result.lines.append(
            f"No last price{what} on file for {found.name} ({found.company_key})"
            " [marts.customer_last_price]"
        )
        return result
    for r in result.rows:
        rate = _num(r["last_rate_inr"])
        if rate is None:
            continue
        unit = f"Rs/{r['rate_unit'] or 'kg'}"
        doc = r["document_no"] or r["product_name"]
        result.facts.append(
            Fact(
                "last_price",
                f"last price of {r['product_name']}",
                rate,
                unit,
                "marts.customer_last_price",
                r["last_priced_on"],
                r["product_name"],
                doc,
            )  # fmt: skip
        )
        result.lines.append(
            f"{r['product_name']} for {found.name}: last price {fmt_number(rate, unit)} on "
            f"{fmt_date(r['last_priced_on'])} ({r['price_source']} {doc})"
            f" [marts.customer_last_price {doc}]"
        )
    return result


# --- stock ---------------------------------------------------------------------------------


def stock_master(conn: psycopg.Connection) -> tuple[Any, ...]:
    """The stock master (names, Tally aliases, packs) as the extractor reads it."""
    from ml.extract.linking import load_products

    try:
        with conn.transaction():
            return tuple(load_products(conn))
    except psycopg.Error:
        return ()


def resolve_product(conn: psycopg.Connection, text: str) -> str | None:
    """The stock item a product name or alias means (the entity extractor over the stock
    master, as mail is read), else a stock item whose name contains the text."""
    from ml.extract import get_extractor

    text = (text or "").strip()[:200]
    if not text:
        return None
    products = stock_master(conn)
    if products:
        for entity in get_extractor(products).extract(text, include_quoted=True):
            if entity.label == "PRODUCT" and entity.value:
                return str(entity.value)
        lowered = text.lower()
        for ref in products:
            if lowered in ref.name.lower() or any(lowered == a.lower() for a in ref.aliases):
                return ref.name
    return None


def stock(conn: psycopg.Connection, user: User, product: str) -> ToolResult:
    check(user, "stock")
    result = ToolResult("stock", {"product": product})
    name = resolve_product(conn, product)
    if name is None:
        raise ToolError(f"no stock item found for {product!r}")
    result.args["product"] = name
    rows = _rows(
        conn,
        "SELECT product_name, closing_qty, closing_qty_kg, unit, rate_inr_per_kg,"
        " closing_value_inr, as_of FROM marts.stock_levels WHERE product_name = %s",
        (name,),
    )
    if not rows:
        raise ToolError(f"no stock level for {name!r} (has the stock mart been built?)")
    prices = user.role in PRICE_ROLES
    for r in rows:
        in_kg = r["closing_qty_kg"] is not None
        qty = float(r["closing_qty_kg"] if in_kg else r["closing_qty"] or 0)
        unit = "kg" if in_kg else ((r["unit"] or "").strip() or "unit")
        key = r["product_name"]
        result.facts.append(
            Fact(
                "stock_on_hand",
                f"stock of {key}",
                qty,
                unit,
                "marts.stock_levels",
                r["as_of"],
                key,
                key,
            )  # fmt: skip
        )
        line = f"Stock of {key}: {fmt_number(qty, unit)} on hand as of {fmt_date(r['as_of'])}"
        shown = {"product_name": key, "closing_qty": qty, "unit": unit, "as_of": r["as_of"]}
        rate = _num(r["rate_inr_per_kg"])
        if prices and rate is not None:
            result.facts.append(
                Fact(
                    "rate",
                    f"stock rate of {key}",
                    rate,
                    "Rs/kg",
                    "marts.stock_levels",
                    r["as_of"],
                    key,
                    key,
                )  # fmt: skip
            )
            line += f", stock rate {fmt_number(rate, 'Rs/kg')}"
            shown["rate_inr_per_kg"] = rate
        result.lines.append(line + f" [marts.stock_levels {key}]")
        result.rows.append(shown)
    return result


# --- cards ---------------------------------------------------------------------------------

_WAITING = """
SELECT c.card_id, c.subject, coalesce(live.stream, c.stream, 'other') AS stream,
       c.company_key, c.company_name, c.last_message_at,
       CASE WHEN live.card_id IS NULL THEN c.assignee ELSE live.assignee END AS assignee
FROM marts.email_cards AS c
LEFT JOIN ops.card_state AS live ON live.card_id = c.card_id
WHERE CASE WHEN live.card_id IS NULL THEN c.status ELSE coalesce(live.status, 'new') END
      = 'waiting_on_customer'
  AND coalesce(live.stream, c.stream, 'other') = ANY(%(streams)s)
  AND (%(key)s::text IS NULL OR c.company_key = %(key)s)
ORDER BY c.last_message_at DESC NULLS LAST, c.card_id
"""


def waiting_cards(conn: psycopg.Connection, user: User, company: str | None = None) -> ToolResult:
    check(user, "waiting_cards")
    result = ToolResult("waiting_cards", {"company": company})
    found = _company_or_error(conn, company) if company else None
    if found is not None:
        result.facts.append(_company_fact(found))
    rows = _rows(
        conn,
        _WAITING,
        {"streams": list(user.streams), "key": found.company_key if found else None},
    )
    whose = f" from {found.name}" if found else ""
    result.facts.append(
        Fact(
            "count",
            "cards waiting on a customer",
            len(rows),
            "count",
            "marts.email_cards",
            None,
            None,
            "status=waiting_on_customer",
        )  # fmt: skip
    )
    result.lines.append(
        f"{len(rows)} card{'' if len(rows) == 1 else 's'} waiting on a customer{whose} in the "
        f"{', '.join(user.streams)} stream(s) [marts.email_cards + ops.card_state]"
    )
    result.rows = rows[:LIMIT]
    for r in result.rows:
        result.facts.append(
            Fact(
                "card",
                "card",
                r["card_id"],
                None,
                "marts.email_cards",
                r["last_message_at"],
                r["subject"],
                r["card_id"],
            )  # fmt: skip
        )
        result.lines.append(
            f"- {r['subject'] or '(no subject)'} ({r['company_name'] or 'unknown company'},"
            f" {r['stream']}) [marts.email_cards {r['card_id']}]"
        )
    return result


# --- QC ------------------------------------------------------------------------------------


def qc_batch(conn: psycopg.Connection, user: User, batch_no: str) -> ToolResult:
    check(user, "qc_batch")
    batch_no = (batch_no or "").strip()[:100]
    result = ToolResult("qc_batch", {"batch_no": batch_no})
    batches = _rows(
        conn,
        "SELECT batch_key, batch_no, product_name, sales_order_no, company_name,"
        " inspection_date, result, out_of_spec_count, warning_count, coa_status"
        " FROM marts.qc_batches WHERE upper(batch_no) = upper(%s) OR batch_key = %s"
        " ORDER BY inspection_date DESC NULLS LAST",
        (batch_no, batch_no),
    )
    if not batches:
        raise ToolError(f"no QC batch {batch_no!r}")
    b = batches[0]
    key = b["batch_key"]
    result.args["batch_no"] = b["batch_no"]
    for label, value in (("out of spec", b["out_of_spec_count"]), ("warnings", b["warning_count"])):
        result.facts.append(
            Fact(
                "count",
                f"{label} of {key}",
                int(value or 0),
                "count",
                "marts.qc_batches",
                b["inspection_date"],
                b["product_name"],
                key,
            )  # fmt: skip
        )
    result.facts.append(
        Fact(
            "qc",
            f"batch {key}",
            b["result"],
            None,
            "marts.qc_batches",
            b["inspection_date"],
            b["product_name"],
            key,
        )  # fmt: skip
    )
    if b["sales_order_no"]:
        result.facts.append(
            Fact(
                "order",
                "order of batch",
                b["sales_order_no"],
                None,
                "marts.qc_batches",
                None,
                None,
                b["sales_order_no"],
            )  # fmt: skip
        )
    result.lines.append(
        f"Batch {b['batch_no']} of {b['product_name']}: {b['result']} on "
        f"{fmt_date(b['inspection_date'])}, {int(b['out_of_spec_count'] or 0)} out of spec, "
        f"{int(b['warning_count'] or 0)} warnings, COA {b['coa_status']}"
        + (f", order {b['sales_order_no']}" if b["sales_order_no"] else "")
        + f" [marts.qc_batches {key}]"
    )
    params = _rows(
        conn,
        "SELECT qc_result_key, param_name, unit, result_value, result_text, min_value,"
        " max_value, in_spec FROM marts.qc_results WHERE batch_no = %s"
        " ORDER BY inspection_date DESC NULLS LAST, line_no",
        (b["batch_no"],),
    )
    result.rows = params[:LIMIT]
    for r in result.rows:
        rkey = r["qc_result_key"]
        value = _num(r["result_value"])
        limits = []
        for col, word in (("min_value", "min"), ("max_value", "max")):
            bound = _num(r[col])
            if bound is not None:
                limits.append(f"{word} {fmt_number(bound, None)}")
                result.facts.append(
                    Fact(
                        "limit",
                        f"{word} of {r['param_name']}",
                        bound,
                        None,
                        "marts.qc_results",
                        None,
                        r["param_name"],
                        rkey,
                    )  # fmt: skip
                )
        shown = r["result_text"] if value is None else fmt_number(value, None)
        if value is not None:
            result.facts.append(
                Fact(
                    "qc_result",
                    f"{r['param_name']}",
                    value,
                    None,
                    "marts.qc_results",
                    None,
                    r["param_name"],
                    rkey,
                )  # fmt: skip
            )
        spec = "in spec" if r["in_spec"] else "OUT OF SPEC"
        result.lines.append(
            f"- {r['param_name']}: {shown} {r['unit'] or ''} ({', '.join(limits) or 'no limits'})"
            f" {spec} [marts.qc_results {rkey}]"
        )
    return result
