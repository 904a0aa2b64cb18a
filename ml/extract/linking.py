"""Linking extracted entities to master data: companies, sales orders and stock items.

The linking functions are pure: they read a `MasterIndex`, a set of dictionaries the caller
builds once (`build_index` from records, or `load_index` from the warehouse). A company is
identified by the key the source uses (Tally ledger name, or the demo world's company id).

Evidence for the sender's company, strongest first: a GSTIN in the text that is on file; the
PAN inside a GSTIN that is not on file (another state's registration of a known company); a
standalone PAN; the customer of a sales order quoted by number; the customer of an order
carrying a quoted PO reference; the sender's email domain (free-mail domains never count).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ml.extract.entities import Entity

log = logging.getLogger(__name__)

#: Mail domains anyone can sign up for; they say nothing about the company.
FREE_MAIL_DOMAINS: frozenset[str] = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.in",
        "yahoo.in",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "rediffmail.com",
        "rediff.com",
        "icloud.com",
        "aol.com",
        "protonmail.com",
        "zoho.com",
        "ymail.com",
        "msn.com",
    }
)
_PIECES = re.compile(r"[a-z0-9%]+")


@dataclass
class MasterIndex:
    """Lookups from identifiers to master records; keys are normalised (upper/casefolded)."""

    company_by_gstin: dict[str, str] = field(default_factory=dict)
    company_by_pan: dict[str, str] = field(default_factory=dict)
    company_by_domain: dict[str, str] = field(default_factory=dict)
    company_names: dict[str, str] = field(default_factory=dict)
    order_by_no: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders_by_po: dict[str, list[str]] = field(default_factory=dict)
    stock_item_by_key: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CompanyLink:
    """The company a message is from, and the evidence (`gstin`, `pan`, `order`, `domain`)."""

    company: str
    name: str | None
    evidence: str
    matched: str


@dataclass(frozen=True)
class OrderLink:
    """A quoted order number (or PO reference) resolved to a sales order on file."""

    doc_no: str
    via: str  # "order_no" | "po_ref"
    mention: str
    company: str | None


@dataclass(frozen=True)
class ProductLink:
    """A product mention resolved to a stock item name (None when not stocked)."""

    product: str
    stock_item: str | None


@dataclass(frozen=True)
class Links:
    """Everything one message's entities link to."""

    company: CompanyLink | None
    orders: tuple[OrderLink, ...]
    products: tuple[ProductLink, ...]


def email_domain(address: str | None) -> str | None:
    """The lower-case domain of an address such as `"Ravi <ravi@abc.co.in>"`, or None."""
    if not address:
        return None
    match = re.search(r"@([A-Za-z0-9.\-]+)", address)
    if not match:
        return None
    return match.group(1).strip(".").lower() or None


def product_key(name: str) -> str:
    """A stock item name reduced to lower-case letters, digits and `%` for matching."""
    return "".join(_PIECES.findall(name.lower()))


def _first(record: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        value = record.get(name)
        if value not in (None, "", []):
            return value
    return None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple | set):
        return list(value)
    if isinstance(value, str) and value.startswith("["):
        import json

        try:
            parsed = json.loads(value)
        except ValueError:
            return [value]
        return parsed if isinstance(parsed, list) else [value]
    return [value]


def build_index(
    companies: Iterable[Mapping[str, Any]] = (),
    orders: Iterable[Mapping[str, Any]] = (),
    stock_items: Iterable[Mapping[str, Any] | str] = (),
) -> MasterIndex:
    """A `MasterIndex` from plain records.

    `companies` are Tally ledgers (`name`, `gstin`, `gstins`, `pan`, `email`) or demo
    companies (`company_id`, `name`, `pan`, `domain`, `gstins: [{"gstin": ...}]`).
    `orders` are sales orders (`doc_no`, `customer_name` or `company_id`, `gstin`, `po_ref`).
    `stock_items` are stock item records with `name` (or plain names).
    """
    index = MasterIndex()
    for record in companies:
        key = _first(record, "company_id", "name")
        if key is None:
            continue
        key = str(key)
        name = _first(record, "name")
        index.company_names[key] = str(name) if name is not None else key
        gstins: list[str] = []
        for item in [record.get("gstin"), *_as_list(record.get("gstins"))]:
            value = item.get("gstin") if isinstance(item, Mapping) else item
            if value:
                gstins.append(str(value).strip().upper())
        for gstin in gstins:
            index.company_by_gstin.setdefault(gstin, key)
            if len(gstin) == 15:
                index.company_by_pan.setdefault(gstin[2:12], key)
        pan = record.get("pan")
        if pan:
            index.company_by_pan[str(pan).strip().upper()] = key
        domains = [record.get("domain")]
        domains += [email_domain(e) for e in _as_list(record.get("email"))]
        domains += [email_domain(e) for e in _as_list(record.get("emails"))]
        for domain in domains:
            if domain and domain.lower() not in FREE_MAIL_DOMAINS:
                index.company_by_domain.setdefault(domain.lower(), key)
    name_to_key = {v.casefold(): k for k, v in index.company_names.items()}
    for record in orders:
        doc_no = record.get("doc_no")
        if not doc_no:
            continue
        doc_no = str(doc_no).strip().upper()
        company = _first(record, "company_id")
        if company is None:
            customer = _first(record, "customer_name", "customer")
            gstin = str(record.get("gstin") or "").upper()
            company = index.company_by_gstin.get(gstin) or (
                name_to_key.get(str(customer).casefold(), customer) if customer else None
            )
        index.order_by_no[doc_no] = {
            "doc_no": doc_no,
            "company": None if company is None else str(company),
            "po_ref": record.get("po_ref"),
            "status": record.get("status"),
        }
        po_ref = record.get("po_ref")
        if po_ref:
            index.orders_by_po.setdefault(str(po_ref).strip().upper(), []).append(doc_no)
    for item in stock_items:
        name = item if isinstance(item, str) else item.get("name")
        if name:
            index.stock_item_by_key.setdefault(product_key(str(name)), str(name))
    return index


def link_company(
    entities: Sequence[Entity], index: MasterIndex, sender: str | None = None
) -> CompanyLink | None:
    """The company the entities (and sender address) point to, strongest evidence first."""

    def found(key: str, evidence: str, matched: str) -> CompanyLink:
        return CompanyLink(key, index.company_names.get(key), evidence, matched)

    gstins = [str(e.value) for e in entities if e.label == "GSTIN" and e.value]
    for gstin in gstins:
        if gstin in index.company_by_gstin:
            return found(index.company_by_gstin[gstin], "gstin", gstin)
    for gstin in gstins:
        if gstin[2:12] in index.company_by_pan:
            return found(index.company_by_pan[gstin[2:12]], "pan", gstin)
    for e in entities:
        if e.label == "PAN" and str(e.value) in index.company_by_pan:
            return found(index.company_by_pan[str(e.value)], "pan", str(e.value))
    for order in link_orders(entities, index):
        if order.company:
            return found(order.company, "order", order.mention)
    domain = email_domain(sender)
    if domain and domain in index.company_by_domain:
        return found(index.company_by_domain[domain], "domain", domain)
    return None


def link_orders(entities: Sequence[Entity], index: MasterIndex) -> list[OrderLink]:
    """Sales orders quoted by our number or by the customer's PO reference, first mention first."""
    links: list[OrderLink] = []
    seen: set[str] = set()
    for e in entities:
        value = str(e.value or "").upper()
        if e.label == "ORDER_NO" and value in index.order_by_no:
            candidates = [(value, "order_no")]
        elif e.label == "PO_NO" and value in index.orders_by_po:
            candidates = [(doc, "po_ref") for doc in index.orders_by_po[value]]
        else:
            continue
        for doc_no, via in candidates:
            if doc_no not in seen:
                seen.add(doc_no)
                company = index.order_by_no[doc_no]["company"]
                links.append(OrderLink(doc_no, via, value, company))
    return links


def link_products(entities: Sequence[Entity], index: MasterIndex) -> list[ProductLink]:
    """Each distinct product mentioned, with its stock item (None if not in the stock master)."""
    links: list[ProductLink] = []
    seen: set[str] = set()
    for e in entities:
        if e.label != "PRODUCT" or e.value is None or str(e.value) in seen:
            continue
        product = str(e.value)
        seen.add(product)
        links.append(ProductLink(product, index.stock_item_by_key.get(product_key(product))))
    return links


def link(entities: Sequence[Entity], index: MasterIndex, sender: str | None = None) -> Links:
    """Company, orders and stock items for one message's entities."""
    return Links(
        company=link_company(entities, index, sender),
        orders=tuple(link_orders(entities, index)),
        products=tuple(link_products(entities, index)),
    )


# -- loading from the warehouse ----------------------------------------------------------

#: (schema, table) per source; each is read only when it exists.
LEDGERS_TABLE = ("raw", "tally_ledgers")
ORDERS_TABLE = ("raw", "focus_sales_orders")
STOCK_ITEMS_TABLE = ("raw", "tally_stock_items")


def _columns(conn: Any, schema: str, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
        (schema, table),
    ).fetchall()
    return [r[0] for r in rows]


def _read(conn: Any, table: tuple[str, str], wanted: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of `table` with whichever of `wanted` columns it has; [] if the table is missing."""
    from psycopg import sql

    present = _columns(conn, *table)
    if not present:
        log.info("linking: %s.%s not found, skipped", *table)
        return []
    columns = [c for c in wanted if c in present]
    if not columns:
        log.warning("linking: %s.%s has none of the columns %s", *table, list(wanted))
        return []
    query = sql.SQL("SELECT {} FROM {}").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in columns), sql.Identifier(*table)
    )
    cursor = conn.execute(query)
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def load_index(conn: Any) -> MasterIndex:
    """A `MasterIndex` from the warehouse tables that exist (ledgers, orders, stock items)."""
    companies = _read(
        conn,
        LEDGERS_TABLE,
        ("name", "company_id", "gstin", "gstins", "pan", "email", "emails", "domain"),
    )
    orders = _read(
        conn,
        ORDERS_TABLE,
        ("doc_no", "customer_name", "customer_code", "company_id", "gstin", "po_ref", "status"),
    )
    stock_items = _read(conn, STOCK_ITEMS_TABLE, ("name",))
    return build_index(companies, orders, stock_items)
