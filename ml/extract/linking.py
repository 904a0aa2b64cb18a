"""Linking extracted entities to master data: companies, sales orders and stock items.

The linking functions are pure: they read a `MasterIndex`, a set of dictionaries the caller
builds once (`build_index` from records, or `load_index` from the warehouse). A company is
identified by the key the source uses (Tally ledger name, or the demo world's company id).

The sender's company needs the sender's own address to agree. A GSTIN, PAN or order number
in a body is public or guessable: anyone can quote a customer's GSTIN, so on its own it only
*claims* a company. Claims, strongest first: a GSTIN in the text that is on file; the PAN
inside a GSTIN that is not on file (another state's registration of a known company); a
standalone PAN; the customer of a sales order quoted by number; the customer of an order
carrying a quoted PO reference. The sender vouches through its address: an address on file
for a company (a contact), else its mail domain (free-mail domains never count).

- claim and sender agree: linked, with the claim as evidence;
- no claim: linked by the sender's address alone (evidence `contact` or `domain`);
- the claim names another company than the sender's: linked to the sender's company, and a
  conflict is reported (the card goes to review; the other company is never named);
- a claim no address vouches for (free mail, unknown domain): not linked, and a conflict is
  reported.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ml.extract.entities import Entity, ProductRef, as_product_refs

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
    company_by_email: dict[str, str] = field(default_factory=dict)
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
    """Everything one message's entities link to.

    `conflict` says why the company could not be confirmed (the mail then needs review):
    `other_company` (a quoted identifier belongs to another company than the sender's) or
    `unconfirmed` (an identifier on file, but the sender's address vouches for no company).
    """

    company: CompanyLink | None
    orders: tuple[OrderLink, ...]
    products: tuple[ProductLink, ...]
    conflict: str | None = None


#: Why a company claimed in the text was not linked (see `Links.conflict`).
OTHER_COMPANY = "other_company"
UNCONFIRMED = "unconfirmed"


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
        addresses = [
            a for e in [*_as_list(record.get("email")), *_as_list(record.get("emails"))]
            for a in _addresses(e)
        ]  # fmt: skip
        for address in addresses:
            index.company_by_email.setdefault(address, key)
        domains = [record.get("domain"), *(email_domain(a) for a in addresses)]
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


_ADDRESS = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+")


def _addresses(value: Any) -> list[str]:
    """Every mail address in a field such as `"a@x.in; B <b@y.in>"`, lower-cased."""
    return [m.group(0).strip(".").lower() for m in _ADDRESS.finditer(str(value or ""))]


def link_sender(
    entities: Sequence[Entity], index: MasterIndex, sender: str | None = None
) -> tuple[CompanyLink | None, str | None]:
    """The sender's company and the conflict, if any (see the module's rules)."""
    claimed = _claimed_company(entities, index)
    own = _sender_company(index, sender)
    if claimed is None:
        return own, None
    if own is None:
        return None, UNCONFIRMED
    if own.company != claimed.company:
        return own, OTHER_COMPANY
    return claimed, None


def link_company(
    entities: Sequence[Entity], index: MasterIndex, sender: str | None = None
) -> CompanyLink | None:
    """The sender's company as its own address shows it, with what the text claims as the
    evidence when the two agree; None when no address vouches for the sender (a conflict:
    see `link_sender`)."""
    return link_sender(entities, index, sender)[0]


def _sender_company(index: MasterIndex, sender: str | None) -> CompanyLink | None:
    """The company the sender's own address belongs to: a contact on file, else its domain."""
    for address in _addresses(sender):
        if address in index.company_by_email:
            key = index.company_by_email[address]
            return CompanyLink(key, index.company_names.get(key), "contact", address)
    domain = email_domain(sender)
    if domain and domain in index.company_by_domain:
        key = index.company_by_domain[domain]
        return CompanyLink(key, index.company_names.get(key), "domain", domain)
    return None


def _claimed_company(entities: Sequence[Entity], index: MasterIndex) -> CompanyLink | None:
    """The company the identifiers quoted in the text point to, strongest first."""

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
    """Company, orders and stock items for one message's entities.

    Only orders of the sender's confirmed company are linked: an order number quoted by
    anyone else reveals nothing about that order.
    """
    company, conflict = link_sender(entities, index, sender)
    key = company.company if company else None
    return Links(
        company=company,
        orders=tuple(o for o in link_orders(entities, index) if key and o.company == key),
        products=tuple(link_products(entities, index)),
        conflict=conflict,
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


#: Kilograms in one base unit, for the units a stock item's pack is counted in.
_KG_PER_UNIT = {"kg": 1.0, "kgs": 1.0, "kilogram": 1.0, "mt": 1000.0, "ton": 1000.0,
                "tonne": 1000.0, "qtl": 100.0, "quintal": 100.0, "g": 0.001, "gm": 0.001}  # fmt: skip


def _kilograms(size: Any, unit: Any) -> float | None:
    """A pack size in base units as kilograms (None when the base unit is not a weight)."""
    factor = _KG_PER_UNIT.get(str(unit or "kg").strip().lower().rstrip("."))
    if not size or factor is None:
        return None
    return float(size) * factor


def load_products(conn: Any) -> tuple[ProductRef, ...]:
    """The stock master as product references: the latest snapshot of every Tally stock item,
    with its aliases and standard pack when the warehouse has them, in Tally's creation order
    (the first of several items sharing a generic name is the house's standard grade).

    Returns () when no stock items have landed yet: mail is still scored, without products.
    """
    from psycopg import sql

    present = set(_columns(conn, *STOCK_ITEMS_TABLE))
    if "name" not in present:
        log.info("products: %s.%s not found, no products to match", *STOCK_ITEMS_TABLE)
        return ()
    wanted = [c for c in ("name", "aliases", "unit", "pack", "pack_size") if c in present]
    latest = (
        sql.SQL("DISTINCT ON ({}) ").format(sql.Identifier("guid"))
        if {"guid", "snapshot_at"} <= present
        else sql.SQL("")
    )
    order = [c for c in ("guid", "snapshot_at") if c in present]
    query = sql.SQL("SELECT {latest}{cols}{extra} FROM {table}{order}").format(
        latest=latest,
        cols=sql.SQL(", ").join(sql.Identifier(c) for c in wanted),
        extra=sql.SQL(", {}").format(sql.Identifier("master_id"))
        if "master_id" in present
        else sql.SQL(", NULL"),
        table=sql.Identifier(*STOCK_ITEMS_TABLE),
        order=sql.SQL(" ORDER BY {}, {} DESC").format(*map(sql.Identifier, order))
        if len(order) == 2
        else sql.SQL(""),
    )
    rows = [dict(zip([*wanted, "master_id"], r, strict=True)) for r in conn.execute(query)]
    rows.sort(key=lambda r: (r["master_id"] is None, r["master_id"] or 0, r["name"] or ""))
    refs: list[ProductRef] = []
    for row in rows:
        if not row.get("name"):
            continue
        size = _kilograms(row.get("pack_size"), row.get("unit"))
        refs.append(
            ProductRef(
                name=str(row["name"]),
                aliases=tuple(str(a) for a in _as_list(row.get("aliases")) if a),
                pack_size_kg=size,
                pack=str(row["pack"]).lower() if row.get("pack") else None,
            )
        )
    return tuple(as_product_refs(refs))


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
