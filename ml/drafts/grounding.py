"""The facts a reply may rest on: Tally stock, last prices, Focus order status.

`gather(conn, email, entities, company)` reads the raw warehouse tables the connectors land
(`raw.tally_stock_items`, `raw.tally_vouchers` + lines, `raw.focus_sales_orders`,
`raw.focus_invoices` + lines) and returns a `Grounding`: a list of `Fact` values, each with
where it came from and as of when. A table that is missing (a source not yet synced) or
unreadable gives fewer facts, never an error; what could not be found is listed in
`Grounding.notes` so the reply can say so honestly.

The sender's company is resolved with `ml.extract.linking`, from what identifies the sender
first (a GSTIN or PAN on file, the mail domain), then a company name written in the mail,
then the customer of a quoted order, then a valid GSTIN not on file yet (matched against
the GSTIN on vouchers and orders). A quoted order of another customer is flagged
(`order_mismatch`), and its details never go into the reply.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, LiteralString

import psycopg
from psycopg.rows import dict_row

from ml.extract.entities import Entity, ProductRef
from ml.extract.linking import MasterIndex, link_company, load_index, load_products, product_key

log = logging.getLogger(__name__)

#: Fact kinds. Quantities are in `unit` as the source states it (normally kg).
STOCK = "stock_on_hand"
LAST_PRICE = "last_price"
ORDER_STATUS = "order_status"
ORDER_PO = "order_po_ref"
ORDER_ITEM = "order_item"
INVOICE = "invoice"
VEHICLE = "vehicle_no"
LR = "lr_no"
REQUESTED_QTY = "requested_qty"
UNRESOLVED_REF = "unresolved_reference"
#: `Fact.source` of what the customer's own mail says (the quantity asked for, a reference
#: quoted). Such a fact is shown beside the draft but never grounds what a draft asserts.
CUSTOMER_MAIL = "customer email"

#: Weight of the evidence that tied the mail to a company (used by the reply's confidence).
EVIDENCE_WEIGHT: dict[str, float] = {
    "given": 1.0,
    "gstin": 1.0,
    "pan": 0.95,
    "order": 0.75,
    "domain": 0.85,
    "name": 0.7,
    "gstin_unlisted": 0.6,
}

_TALLY_PRICE_TYPES = ("sales", "sales order", "quotation")
_MAX_INVOICES = 3


@dataclass(frozen=True)
class Fact:
    """One grounded statement: `label` is what it is, `value` (+ `unit`) what it says.

    `source` names the system and document (`"Tally stock item snapshot"`, `"Focus invoice
    INV/25-26/00412"`), `as_of` when the source said so. `subject` is what the fact is about
    (a product name or a sales order number) and `ref` a document number that backs it.
    """

    kind: str
    label: str
    value: float | str | date | None
    unit: str | None
    source: str
    as_of: date | datetime | None
    subject: str | None = None
    ref: str | None = None

    @property
    def from_customer(self) -> bool:
        """True when the fact comes from the customer's mail, not from our records."""
        return self.source == CUSTOMER_MAIL

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("value", "as_of"):
            if isinstance(data[key], date):
                data[key] = data[key].isoformat()
        return data


@dataclass(frozen=True)
class CompanyRef:
    """The customer a mail is from: master key, display name, identifiers, and the evidence."""

    key: str
    name: str | None
    gstins: tuple[str, ...] = ()
    pans: tuple[str, ...] = ()
    evidence: str = "given"
    matched: str | None = None

    @property
    def weight(self) -> float:
        return EVIDENCE_WEIGHT.get(self.evidence, 0.5)


@dataclass
class Grounding:
    """Everything known for one mail: company, products and references asked about, facts."""

    company: CompanyRef | None
    products: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    #: Sales orders found (doc_no), in the order they were resolved.
    orders: list[str] = field(default_factory=list)
    #: True when no reference was quoted and the order was taken as the customer's latest.
    order_inferred: bool = False
    #: Orders quoted by the mail that belong to another customer than the sender's.
    order_mismatch: list[str] = field(default_factory=list)
    #: Sources that were missing or failed, and other caveats (for reviewers, not customers).
    notes: list[str] = field(default_factory=list)
    #: The stock master's entries for `products` (name, aliases, pack), for reading a draft.
    product_refs: tuple[ProductRef, ...] = ()

    def of(self, kind: str, subject: str | None = None) -> list[Fact]:
        """Facts of `kind` (about `subject` when given)."""
        return [
            f for f in self.facts if f.kind == kind and (subject is None or f.subject == subject)
        ]

    def first(self, kind: str, subject: str | None = None) -> Fact | None:
        found = self.of(kind, subject)
        return found[0] if found else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "company": None if self.company is None else asdict(self.company),
            "products": list(self.products),
            "references": list(self.references),
            "facts": [f.to_dict() for f in self.facts],
            "orders": list(self.orders),
            "order_inferred": self.order_inferred,
            "order_mismatch": list(self.order_mismatch),
            "notes": list(self.notes),
        }


# -- reading the warehouse ----------------------------------------------------------------


def _table_exists(conn: psycopg.Connection, name: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
    return bool(row and row[0])


def _rows(
    conn: psycopg.Connection,
    grounding: Grounding,
    tables: Sequence[str],
    query: LiteralString,
    params: Sequence[Any],
) -> list[dict[str, Any]]:
    """Rows of a parameterised query, or [] (with a note) when a table is missing or fails."""
    missing = [t for t in tables if not _table_exists(conn, t)]
    if missing:
        note = f"source not available: {', '.join(missing)}"
        if note not in grounding.notes:
            grounding.notes.append(note)
        return []
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query, params)
            return list(cur.fetchall())
    except psycopg.Error as exc:
        log.warning("drafts: reading %s failed: %s", ", ".join(tables), type(exc).__name__)
        grounding.notes.append(f"source failed: {', '.join(tables)} ({type(exc).__name__})")
        return []


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _upper(value: Any) -> str:
    return str(value or "").strip().upper()


# -- the company --------------------------------------------------------------------------


def _company_from_key(
    index: MasterIndex, key: str, evidence: str, matched: str | None
) -> CompanyRef:
    gstins = tuple(sorted(g for g, k in index.company_by_gstin.items() if k == key))
    pans = {p for p, k in index.company_by_pan.items() if k == key}
    pans.update(g[2:12] for g in gstins if len(g) == 15)
    return CompanyRef(
        key=key,
        name=index.company_names.get(key, key),
        gstins=gstins,
        pans=tuple(sorted(pans)),
        evidence=evidence,
        matched=matched,
    )


def _company_by_name(text: str, index: MasterIndex) -> tuple[str, str] | None:
    """A company whose name (six characters or more) is written in the text, longest first."""
    folded = " ".join(text.casefold().split())
    for key, name in sorted(index.company_names.items(), key=lambda kv: -len(kv[1])):
        needle = " ".join(name.casefold().split())
        if len(needle) >= 6 and re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", folded):
            return key, name
    return None


def resolve_company(
    email: Mapping[str, Any],
    entities: Sequence[Entity],
    index: MasterIndex,
    company: CompanyRef | str | None = None,
) -> CompanyRef | None:
    """The sender's company: as given, else from the entities, sender, name or GSTIN."""
    if isinstance(company, CompanyRef):
        return company
    if isinstance(company, str) and company:
        key = company
        if key not in index.company_names:
            by_name = {v.casefold(): k for k, v in index.company_names.items()}
            key = by_name.get(company.casefold(), company)
        ref = _company_from_key(index, key, "given", company)
        return ref if ref.name else CompanyRef(key=key, name=company, evidence="given")
    # What identifies the sender (GSTIN, PAN, mail domain) outranks a quoted order number:
    # anyone can quote an order, and a mismatch between the two must show, not be hidden.
    identifying = [e for e in entities if e.label not in ("ORDER_NO", "PO_NO")]
    link = link_company(identifying, index, _sender(email))
    if link is None:
        named = _company_by_name(_text(email), index)
        if named is not None:
            return _company_from_key(index, named[0], "name", named[1])
        link = link_company(entities, index, _sender(email))
    if link is not None:
        return _company_from_key(index, link.company, link.evidence, link.matched)
    for e in entities:
        gstin = str(e.value or "").upper()
        # A GSTIN of a company on file that the sender's address does not vouch for is only a
        # claim: never a key to that company's records (ml.extract.linking).
        on_file = gstin in index.company_by_gstin or gstin[2:12] in index.company_by_pan
        if e.label == "GSTIN" and e.valid and gstin and not on_file:
            return CompanyRef(
                key=gstin,
                name=None,
                gstins=(gstin,),
                pans=(gstin[2:12],),
                evidence="gstin_unlisted",
                matched=gstin,
            )
    return None


def _is_company(company: CompanyRef, name: Any, gstin: Any) -> bool:
    gstin = _upper(gstin)
    if gstin and (gstin in company.gstins or (len(gstin) == 15 and gstin[2:12] in company.pans)):
        return True
    folded = str(name or "").strip().lower()
    return bool(folded) and folded in {str(company.name or "").strip().lower(), company.key.lower()}


def _sender(email: Mapping[str, Any]) -> str | None:
    value = email.get("from_addr") or email.get("from") or email.get("sender")
    return None if value is None else str(value)


def _text(email: Mapping[str, Any]) -> str:
    subject = str(email.get("subject") or "")
    body = str(email.get("body_text") or email.get("body") or "")
    return f"{subject}\n{body}" if subject else body


# -- facts --------------------------------------------------------------------------------


def _stock_facts(conn: psycopg.Connection, grounding: Grounding, product: str) -> list[Fact]:
    rows = _rows(
        conn,
        grounding,
        ["raw.tally_stock_items"],
        "SELECT DISTINCT ON (guid) guid, name, closing_qty, unit, snapshot_at "
        "FROM raw.tally_stock_items ORDER BY guid, snapshot_at DESC",
        (),
    )
    key = product_key(product)
    facts = []
    for row in rows:
        if product_key(str(row["name"])) != key or row["closing_qty"] is None:
            continue
        facts.append(
            Fact(
                kind=STOCK,
                label=f"Stock on hand of {product}",
                value=float(row["closing_qty"]),
                unit=(row["unit"] or "kg").strip() or "kg",
                source=f"Tally stock item {row['name']!s} (latest snapshot)",
                as_of=row["snapshot_at"],
                subject=product,
            )
        )
    return facts


def _company_params(company: CompanyRef) -> tuple[list[str], list[str], list[str]]:
    """Query parameters selecting one customer's rows: GSTINs, PANs, lower-case names."""
    names = {n.strip().lower() for n in (company.name, company.key) if n and n.strip()}
    return list(company.gstins), list(company.pans), sorted(names)


_FOCUS_INVOICE_RATES: LiteralString = (
    "SELECT h.doc_no, h.doc_date, h.customer_name, h.gstin, l.item_name, l.quantity, l.unit, "
    "l.rate FROM raw.focus_invoices h JOIN raw.focus_invoice_lines l ON l.doc_no = h.doc_no "
    "WHERE l.rate IS NOT NULL AND (upper(h.gstin) = ANY(%s) "
    "OR substr(upper(h.gstin), 3, 10) = ANY(%s) OR lower(h.customer_name) = ANY(%s))"
)
_FOCUS_ORDER_RATES: LiteralString = (
    "SELECT h.doc_no, h.doc_date, h.customer_name, h.gstin, l.item_name, l.quantity, l.unit, "
    "l.rate FROM raw.focus_sales_orders h "
    "JOIN raw.focus_sales_order_lines l ON l.doc_no = h.doc_no "
    "WHERE l.rate IS NOT NULL AND coalesce(h.status, '') <> 'cancelled' "
    "AND (upper(h.gstin) = ANY(%s) OR substr(upper(h.gstin), 3, 10) = ANY(%s) "
    "OR lower(h.customer_name) = ANY(%s))"
)


def _price_candidates(
    conn: psycopg.Connection, grounding: Grounding, company: CompanyRef, product: str
) -> list[tuple[date, int, Fact]]:
    """(date, preference, fact) for every line that priced `product` to `company`."""
    key = product_key(product)
    out: list[tuple[date, int, Fact]] = []
    tally = _rows(
        conn,
        grounding,
        ["raw.tally_vouchers", "raw.tally_voucher_lines"],
        "SELECT v.voucher_type, v.voucher_number, v.voucher_date, v.party, v.party_gstin, "
        "l.item, l.qty, l.rate, l.rate_unit, l.unit, l.amount "
        "FROM raw.tally_vouchers v JOIN raw.tally_voucher_lines l ON l.voucher_guid = v.guid "
        "WHERE lower(v.voucher_type) = ANY(%s) AND NOT v.is_cancelled AND NOT v.is_optional "
        "AND v.voucher_date IS NOT NULL AND (upper(v.party_gstin) = ANY(%s) "
        "OR substr(upper(v.party_gstin), 3, 10) = ANY(%s) OR lower(v.party) = ANY(%s))",
        (list(_TALLY_PRICE_TYPES), *_company_params(company)),
    )
    for row in tally:
        if product_key(str(row["item"] or "")) != key:
            continue
        if not _is_company(company, row["party"], row["party_gstin"]):
            continue
        rate = _num(row["rate"])
        if rate is None and _num(row["amount"]) and _num(row["qty"]):
            rate = round(abs(float(row["amount"])) / abs(float(row["qty"])), 2)
        if rate is None:
            continue
        vtype = str(row["voucher_type"]).strip().casefold()
        basis, pref = {"sales": ("invoiced", 2), "sales order": ("ordered", 1)}.get(
            vtype, ("quoted", 0)
        )
        unit = (row["rate_unit"] or row["unit"] or "kg").strip() or "kg"
        doc = str(row["voucher_number"] or "")
        out.append(
            (
                row["voucher_date"],
                pref,
                Fact(
                    kind=LAST_PRICE,
                    label=f"Last {basis} rate of {product}",
                    value=rate,
                    unit=f"Rs/{unit}",
                    source=f"Tally {row['voucher_type']} voucher {doc}".strip(),
                    as_of=row["voucher_date"],
                    subject=product,
                    ref=doc or None,
                ),
            )
        )
    for tables, query, label, basis, pref in (
        (["raw.focus_invoices", "raw.focus_invoice_lines"], _FOCUS_INVOICE_RATES, "invoice",
         "invoiced", 2),
        (["raw.focus_sales_orders", "raw.focus_sales_order_lines"], _FOCUS_ORDER_RATES,
         "sales order", "ordered", 1),
    ):  # fmt: skip
        for row in _rows(conn, grounding, tables, query, _company_params(company)):
            if product_key(str(row["item_name"] or "")) != key:
                continue
            if not _is_company(company, row["customer_name"], row["gstin"]):
                continue
            unit = (row["unit"] or "kg").strip() or "kg"
            out.append(
                (
                    row["doc_date"],
                    pref,
                    Fact(
                        kind=LAST_PRICE,
                        label=f"Last {basis} rate of {product}",
                        value=float(row["rate"]),
                        unit=f"Rs/{unit}",
                        source=f"Focus {label} {row['doc_no']}",
                        as_of=row["doc_date"],
                        subject=product,
                        ref=str(row["doc_no"]),
                    ),
                )
            )
    return out


def _last_price(
    conn: psycopg.Connection, grounding: Grounding, company: CompanyRef, product: str
) -> Fact | None:
    """The most recent rate for (company, product); an invoice wins a tie with an order."""
    candidates = _price_candidates(conn, grounding, company, product)
    if not candidates:
        return None
    return max(candidates, key=lambda c: (c[0], c[1], str(c[2].ref)))[2]


_ORDER_COLUMNS: LiteralString = (
    "SELECT doc_no, doc_date, customer_name, gstin, po_ref, status FROM raw.focus_sales_orders "
)


def _orders_for_reference(
    conn: psycopg.Connection, grounding: Grounding, label: str, value: str
) -> list[dict[str, Any]]:
    if label == "ORDER_NO":
        query: LiteralString = _ORDER_COLUMNS + "WHERE upper(doc_no) = %s"
    else:
        query = _ORDER_COLUMNS + "WHERE upper(po_ref) = %s ORDER BY doc_date DESC, doc_no DESC"
    return _rows(conn, grounding, ["raw.focus_sales_orders"], query, (value.upper(),))


def _latest_orders(
    conn: psycopg.Connection, grounding: Grounding, company: CompanyRef
) -> list[dict[str, Any]]:
    rows = _rows(
        conn,
        grounding,
        ["raw.focus_sales_orders"],
        _ORDER_COLUMNS + "WHERE coalesce(status, '') <> 'cancelled' "
        "AND (upper(gstin) = ANY(%s) OR substr(upper(gstin), 3, 10) = ANY(%s) "
        "OR lower(customer_name) = ANY(%s)) ORDER BY doc_date DESC, doc_no DESC LIMIT 20",
        _company_params(company),
    )
    return [r for r in rows if _is_company(company, r["customer_name"], r["gstin"])]


def _order_items(conn: psycopg.Connection, grounding: Grounding, doc_no: str) -> list[dict]:
    return _rows(
        conn,
        grounding,
        ["raw.focus_sales_order_lines"],
        "SELECT item_name, quantity, unit FROM raw.focus_sales_order_lines "
        "WHERE doc_no = %s ORDER BY line_no",
        (doc_no,),
    )


def _order_facts(
    conn: psycopg.Connection, grounding: Grounding, order: Mapping[str, Any]
) -> list[Fact]:
    doc_no = str(order["doc_no"])
    source = f"Focus sales order {doc_no}"
    facts = [
        Fact(
            kind=ORDER_STATUS,
            label=f"Status of sales order {doc_no}",
            value=str(order["status"] or "unknown"),
            unit=None,
            source=source,
            as_of=order["doc_date"],
            subject=doc_no,
            ref=doc_no,
        )
    ]
    if order.get("po_ref"):
        facts.append(
            Fact(
                ORDER_PO,
                f"Customer PO of {doc_no}",
                str(order["po_ref"]),
                None,
                source,
                order["doc_date"],
                doc_no,
                doc_no,
            )  # fmt: skip
        )
    for line in _order_items(conn, grounding, doc_no):
        if line["item_name"] and line["quantity"] is not None:
            facts.append(
                Fact(
                    ORDER_ITEM,
                    str(line["item_name"]),
                    float(line["quantity"]),
                    (line["unit"] or "kg").strip() or "kg",
                    source,
                    order["doc_date"],
                    doc_no,
                    doc_no,
                )  # fmt: skip
            )
    invoices = _rows(
        conn,
        grounding,
        ["raw.focus_invoices"],
        "SELECT doc_no, doc_date, vehicle_no, lr_no FROM raw.focus_invoices "
        "WHERE upper(order_no) = %s ORDER BY doc_date DESC, doc_no DESC LIMIT %s",
        (doc_no.upper(), _MAX_INVOICES),
    )
    for inv in invoices:
        inv_no = str(inv["doc_no"])
        inv_source = f"Focus invoice {inv_no}"
        facts.append(Fact(INVOICE, f"Invoice against {doc_no}", inv_no, None, inv_source,
                          inv["doc_date"], doc_no, inv_no))  # fmt: skip
        if inv["vehicle_no"]:
            facts.append(Fact(VEHICLE, f"Vehicle for {inv_no}", str(inv["vehicle_no"]), None,
                              inv_source, inv["doc_date"], doc_no, inv_no))  # fmt: skip
        if inv["lr_no"]:
            facts.append(Fact(LR, f"LR for {inv_no}", str(inv["lr_no"]), None, inv_source,
                              inv["doc_date"], doc_no, inv_no))  # fmt: skip
    if not any(f.kind in (VEHICLE, LR) for f in facts):
        facts.extend(_tally_dispatch(conn, grounding, doc_no))
    return facts


def _tally_dispatch(conn: psycopg.Connection, grounding: Grounding, doc_no: str) -> list[Fact]:
    """Vehicle and LR from a Tally sales voucher that references the order (Focus had none)."""
    rows = _rows(
        conn,
        grounding,
        ["raw.tally_vouchers"],
        "SELECT voucher_number, voucher_date, vehicle_no, lr_no FROM raw.tally_vouchers "
        "WHERE lower(voucher_type) = 'sales' AND NOT is_cancelled AND %s = ANY(order_refs) "
        "ORDER BY voucher_date DESC NULLS LAST LIMIT 1",
        (doc_no,),
    )
    facts: list[Fact] = []
    for row in rows:
        number = str(row["voucher_number"] or "") or None
        source = f"Tally Sales voucher {number or ''}".strip()
        if number:
            facts.append(Fact(INVOICE, f"Invoice against {doc_no}", number, None, source,
                              row["voucher_date"], doc_no, number))  # fmt: skip
        if row["vehicle_no"]:
            facts.append(Fact(VEHICLE, f"Vehicle for {number or doc_no}", str(row["vehicle_no"]),
                              None, source, row["voucher_date"], doc_no, number))  # fmt: skip
        if row["lr_no"]:
            facts.append(Fact(LR, f"LR for {number or doc_no}", str(row["lr_no"]), None, source,
                              row["voucher_date"], doc_no, number))  # fmt: skip
    return facts


def _stock_master(conn: psycopg.Connection) -> tuple[ProductRef, ...]:
    """The stock master as product references; () when it cannot be read."""
    try:
        with conn.transaction():
            return tuple(load_products(conn))
    except psycopg.Error as exc:
        log.warning("drafts: stock master unavailable: %s", type(exc).__name__)
        return ()


def _coerce_entities(
    entities: Iterable[Any] | None, email: Mapping[str, Any], products: Sequence[ProductRef]
) -> list[Entity]:
    if entities is None:
        from ml.extract import get_extractor
        from ml.text import extraction_text

        body = email.get("body_text") or email.get("body") or ""
        return get_extractor(products).extract(extraction_text(email.get("subject"), str(body)))
    out = []
    for e in entities:
        if isinstance(e, Entity):
            out.append(e)
        elif isinstance(e, Mapping):
            out.append(
                Entity(
                    label=str(e["label"]),
                    text=str(e.get("text") or ""),
                    value=e.get("value"),
                    start=int(e.get("start") or 0),
                    end=int(e.get("end") or 0),
                    valid=e.get("valid"),
                )
            )
    return out


def gather(
    conn: psycopg.Connection,
    email: Mapping[str, Any],
    entities: Iterable[Any] | None = None,
    company: CompanyRef | str | None = None,
    *,
    index: MasterIndex | None = None,
    infer_order: bool = True,
    products: Sequence[ProductRef] | None = None,
) -> Grounding:
    """The facts for one email.

    `email` is a row of `raw.emails` (or any mapping with `subject`, `body_text`/`body` and
    `from_addr`/`from`). `entities` are the extractor's entities for it (`Entity` values or
    their dicts); None runs the extractor over the stock master (`products`, read from the
    warehouse when None). `company` is a known customer (`CompanyRef`, or a
    master key/name); None resolves it. `index` is a prebuilt `MasterIndex` (batch callers
    build it once with `ml.extract.linking.load_index`). With `infer_order`, a mail that
    quotes no order number is taken to be about the customer's latest order (holding a
    product it mentions, when one does); the grounding says so (`order_inferred`).
    """
    if products is None:
        products = _stock_master(conn)
    found = _coerce_entities(entities, email, products)
    if index is None:
        try:
            with conn.transaction():
                index = load_index(conn)
        except psycopg.Error as exc:
            log.warning("drafts: master index unavailable: %s", type(exc).__name__)
            index = MasterIndex()
    grounding = Grounding(company=resolve_company(email, found, index, company))
    if grounding.company is None:
        grounding.notes.append("customer not identified")
    if not products and entities is None:
        grounding.notes.append("no stock master: products in the mail not recognised")

    for e in found:
        if e.label == "PRODUCT" and e.value and str(e.value) not in grounding.products:
            grounding.products.append(str(e.value))
        elif e.label in ("ORDER_NO", "PO_NO") and e.value:
            ref = str(e.value).upper()
            if ref not in grounding.references:
                grounding.references.append(ref)
        elif e.label == "QUANTITY" and isinstance(e.value, int | float) and e.value > 0:
            grounding.facts.append(
                Fact(
                    REQUESTED_QTY,
                    "Quantity in the customer's mail",
                    float(e.value),
                    "kg",
                    CUSTOMER_MAIL,
                    None,
                    None,
                    e.text,
                )  # fmt: skip
            )

    grounding.product_refs = tuple(p for p in products if p.name in grounding.products)
    for product in grounding.products:
        stock = _stock_facts(conn, grounding, product)
        grounding.facts.extend(stock)
        if not stock:
            grounding.notes.append(f"no Tally stock item for {product}")
        if grounding.company is not None:
            price = _last_price(conn, grounding, grounding.company, product)
            if price is not None:
                grounding.facts.append(price)
            else:
                grounding.notes.append(f"no earlier rate for {product} to this customer")

    seen: set[str] = set()
    for e in found:
        if e.label not in ("ORDER_NO", "PO_NO") or not e.value:
            continue
        ref = str(e.value).upper()
        if ref in seen:
            continue
        seen.add(ref)
        orders = _orders_for_reference(conn, grounding, e.label, ref)
        if not orders:
            kind = "sales order" if e.label == "ORDER_NO" else "PO"
            grounding.facts.append(
                Fact(
                    UNRESOLVED_REF,
                    f"Reference quoted by the customer ({kind})",
                    ref,
                    None,
                    CUSTOMER_MAIL,
                    None,
                    ref,
                    ref,
                )  # fmt: skip
            )
            grounding.notes.append(f"no Focus sales order for {kind} {ref}")
        for order in orders:
            _add_order(conn, grounding, order)

    if (
        infer_order
        and not grounding.orders
        and not grounding.references
        and grounding.company is not None
    ):
        candidates = _latest_orders(conn, grounding, grounding.company)
        if grounding.products and candidates:
            keys = {product_key(p) for p in grounding.products}
            with_product = [
                o
                for o in candidates
                if any(
                    product_key(str(i["item_name"] or "")) in keys
                    for i in _order_items(conn, grounding, str(o["doc_no"]))
                )
            ]
            candidates = with_product or candidates
        if candidates:
            grounding.order_inferred = True
            grounding.notes.append("no order quoted: took the customer's latest order")
            _add_order(conn, grounding, candidates[0])
    return grounding


def _add_order(conn: psycopg.Connection, grounding: Grounding, order: Mapping[str, Any]) -> None:
    doc_no = str(order["doc_no"])
    if doc_no in grounding.orders:
        return
    grounding.orders.append(doc_no)
    company = grounding.company
    if company is not None and not _is_company(company, order["customer_name"], order["gstin"]):
        grounding.order_mismatch.append(doc_no)
        grounding.notes.append(
            f"{doc_no} belongs to {order['customer_name']}, not to the sender's company"
        )
    grounding.facts.extend(_order_facts(conn, grounding, order))
