"""The facts a reply may rest on: stock on hand, last prices, order status and dispatch.

`gather(conn, email, entities, company)` reads the dbt marts (`marts.stock_levels`,
`marts.customer_last_price`, `marts.sales_orders` + `marts.sales_order_lines`, and the CRM
master through `ml.extract.linking.load_index`) and returns a `Grounding`: a list of `Fact`
values, each with where it came from and as of when. Nothing is read from `raw.*`. A mart
that dbt has not built yet (a first run) or that cannot be read gives fewer facts, never an
error; what could not be found is listed in `Grounding.notes` so the reply can say so
honestly.

The sender's company is the CRM master's company that `ml.extract.linking` links the mail
to (the CRM's decision for the sender, a GSTIN/PAN/CIN on file the mail states, the sender's
domain); when those disagree, no company is taken (a note says so) and no customer's rates
or orders are shown. A valid GSTIN that is not on file yet still selects the documents that
carry exactly that GSTIN. A quoted order of another customer is flagged (`order_mismatch`),
and its details never go into the reply.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, LiteralString

import psycopg
from psycopg.rows import dict_row

from ml.extract.entities import Entity, ProductRef
from ml.extract.linking import MasterIndex, link_sender, load_index, load_products, product_key
from ml.warehouse import missing_marts

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
    "cin": 0.95,
    "contact": 0.9,
    "domain": 0.85,
    "gstin_unlisted": 0.6,
}

#: How `marts.customer_last_price.price_source` reads in a fact: (label, basis, preference).
_PRICE_SOURCES: dict[str, tuple[str, str, int]] = {
    "focus_invoice": ("Focus invoice", "invoiced", 2),
    "tally_sales": ("Tally Sales voucher", "invoiced", 2),
    "focus_sales_order": ("Focus sales order", "ordered", 1),
}
#: How `marts.sales_orders.dispatch_documents[].document_kind` reads in a fact.
_DOCUMENT_KINDS: dict[str, str] = {
    "focus_invoice": "Focus invoice",
    "tally_sales": "Tally Sales voucher",
    "tally_delivery_note": "Tally Delivery Note",
}
_MAX_DISPATCHES = 3


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
    """The customer a mail is from: the CRM master's company key (or, for a GSTIN not on file,
    the GSTIN), display name, identifiers, and the evidence."""

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


# -- reading the marts --------------------------------------------------------------------


def _rows(
    conn: psycopg.Connection,
    grounding: Grounding,
    marts: Sequence[str],
    query: LiteralString,
    params: Sequence[Any],
) -> list[dict[str, Any]]:
    """Rows of a parameterised query, or [] (with a note) when a mart is missing or fails."""
    missing = missing_marts(conn, *marts)
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
        log.warning("drafts: reading %s failed: %s", ", ".join(marts), type(exc).__name__)
        grounding.notes.append(f"source failed: {', '.join(marts)} ({type(exc).__name__})")
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


def _resolve(
    email: Mapping[str, Any],
    entities: Sequence[Entity],
    index: MasterIndex,
    company: CompanyRef | str | None = None,
) -> tuple[CompanyRef | None, str | None]:
    """The sender's company and the linking conflict, if any (see `resolve_company`)."""
    if isinstance(company, CompanyRef):
        return company, None
    if isinstance(company, str) and company:
        key = company
        if key not in index.company_names:
            by_name = {v.casefold(): k for k, v in index.company_names.items()}
            key = by_name.get(company.casefold(), company)
        ref = _company_from_key(index, key, "given", company)
        return (ref if ref.name else CompanyRef(key=key, name=company, evidence="given")), None
    link, conflict = link_sender(entities, index, _sender(email), _text(email))
    if conflict:
        return None, conflict
    if link is not None:
        return _company_from_key(index, link.company, link.evidence, link.matched), None
    for e in entities:
        gstin = str(e.value or "").upper()
        on_file = gstin in index.company_by_gstin or gstin[2:12] in index.company_by_pan
        if e.label == "GSTIN" and e.valid and gstin and not on_file:
            # not in the CRM master yet: only documents carrying exactly this GSTIN match
            return CompanyRef(
                key=gstin,
                name=None,
                gstins=(gstin,),
                pans=(gstin[2:12],),
                evidence="gstin_unlisted",
                matched=gstin,
            ), None
    return None, None


def resolve_company(
    email: Mapping[str, Any],
    entities: Sequence[Entity],
    index: MasterIndex,
    company: CompanyRef | str | None = None,
) -> CompanyRef | None:
    """The sender's company: as given (a `CompanyRef`, a CRM company key or name), else the
    company `ml.extract.linking` links the mail to, else a valid GSTIN not on file; None
    when nothing names one or the signals disagree."""
    return _resolve(email, entities, index, company)[0]


def _is_company(company: CompanyRef, name: Any, gstin: Any) -> bool:
    """Whether a document's party (name, GSTIN) is `company`: by GSTIN or the PAN inside it
    when the document has one, else by the exact name."""
    gstin = _upper(gstin)
    if gstin:
        return gstin in company.gstins or (len(gstin) == 15 and gstin[2:12] in company.pans)
    folded = " ".join(str(name or "").split()).casefold()
    names = {" ".join(str(n).split()).casefold() for n in (company.name, company.key) if n}
    return bool(folded) and folded in names


def _owns(company: CompanyRef, index: MasterIndex, order: Mapping[str, Any]) -> bool:
    """Whether a sales order is `company`'s: the CRM's company of its customer when known."""
    owner = index.order_by_no.get(_upper(order["sales_order_no"]), {}).get("company")
    if owner is not None:
        return owner == company.key
    return _is_company(company, order["company_name"], order["gstin"])


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
        ["marts.stock_levels"],
        "SELECT product_name, closing_qty, closing_qty_kg, unit, as_of FROM marts.stock_levels",
        (),
    )
    key = product_key(product)
    facts = []
    for row in rows:
        if product_key(str(row["product_name"])) != key or row["closing_qty"] is None:
            continue
        in_kg = row["closing_qty_kg"] is not None
        facts.append(
            Fact(
                kind=STOCK,
                label=f"Stock on hand of {product}",
                value=float(row["closing_qty_kg"] if in_kg else row["closing_qty"]),
                unit="kg" if in_kg else ((row["unit"] or "").strip() or "unit"),
                source=f"Tally stock item {row['product_name']!s} (latest snapshot)",
                as_of=row["as_of"],
                subject=product,
            )
        )
    return facts


def _company_params(company: CompanyRef) -> tuple[list[str], list[str], list[str]]:
    """Query parameters selecting one customer's rows: GSTINs, PANs, lower-case names."""
    names = {n.strip().lower() for n in (company.name, company.key) if n and n.strip()}
    return list(company.gstins), list(company.pans), sorted(names)


_LAST_PRICES: LiteralString = (
    "SELECT company_name, gstin, product_name, last_rate_inr, rate_unit, last_rate_inr_per_kg,"
    " last_priced_on, price_source, document_no FROM marts.customer_last_price"
    " WHERE upper(gstin) = ANY(%s) OR substr(upper(gstin), 3, 10) = ANY(%s)"
    " OR (gstin IS NULL AND lower(company_name) = ANY(%s))"
)


def _last_price(
    conn: psycopg.Connection, grounding: Grounding, company: CompanyRef, product: str
) -> Fact | None:
    """The most recent rate for (company, product); an invoice wins a tie with an order."""
    key = product_key(product)
    candidates: list[tuple[date, int, str, Fact]] = []
    for row in _rows(
        conn, grounding, ["marts.customer_last_price"], _LAST_PRICES, _company_params(company)
    ):
        if product_key(str(row["product_name"] or "")) != key:
            continue
        if not _is_company(company, row["company_name"], row["gstin"]):
            continue
        per_kg = _num(row["last_rate_inr_per_kg"])
        rate = per_kg if per_kg is not None else _num(row["last_rate_inr"])
        if rate is None:
            continue
        unit = "kg" if per_kg is not None else ((row["rate_unit"] or "").strip() or "unit")
        label, basis, pref = _PRICE_SOURCES.get(
            str(row["price_source"]), (str(row["price_source"]), "invoiced", 0)
        )
        doc = str(row["document_no"] or "")
        fact = Fact(
            kind=LAST_PRICE,
            label=f"Last {basis} rate of {product}",
            value=rate,
            unit=f"Rs/{unit}",
            source=f"{label} {doc}".strip(),
            as_of=row["last_priced_on"],
            subject=product,
            ref=doc or None,
        )
        candidates.append((row["last_priced_on"], pref, doc, fact))
    if not candidates:
        return None
    return max(candidates, key=lambda c: c[:3])[3]


_ORDER_COLUMNS: LiteralString = (
    "SELECT sales_order_no, order_date, company_name, gstin, po_ref, status, dispatch_documents"
    " FROM marts.sales_orders "
)


def _orders_for_reference(
    conn: psycopg.Connection, grounding: Grounding, label: str, value: str
) -> list[dict[str, Any]]:
    if label == "ORDER_NO":
        query: LiteralString = _ORDER_COLUMNS + "WHERE upper(sales_order_no) = %s"
    else:
        query = (
            _ORDER_COLUMNS
            + "WHERE upper(po_ref) = %s ORDER BY order_date DESC, sales_order_no DESC"
        )
    return _rows(conn, grounding, ["marts.sales_orders"], query, (value.upper(),))


def _latest_orders(
    conn: psycopg.Connection, grounding: Grounding, company: CompanyRef, index: MasterIndex
) -> list[dict[str, Any]]:
    own = [doc for doc, o in index.order_by_no.items() if o["company"] == company.key]
    rows = _rows(
        conn,
        grounding,
        ["marts.sales_orders"],
        _ORDER_COLUMNS + "WHERE status <> 'cancelled' AND (upper(sales_order_no) = ANY(%s)"
        " OR upper(gstin) = ANY(%s) OR substr(upper(gstin), 3, 10) = ANY(%s)"
        " OR lower(company_name) = ANY(%s))"
        " ORDER BY order_date DESC, sales_order_no DESC LIMIT 20",
        (own, *_company_params(company)),
    )
    return [r for r in rows if _owns(company, index, r)]


def _order_items(conn: psycopg.Connection, grounding: Grounding, doc_no: str) -> list[dict]:
    return _rows(
        conn,
        grounding,
        ["marts.sales_order_lines"],
        "SELECT product_name, qty, unit, qty_kg FROM marts.sales_order_lines "
        "WHERE sales_order_no = %s ORDER BY line_no",
        (doc_no,),
    )


def _order_facts(
    conn: psycopg.Connection, grounding: Grounding, order: Mapping[str, Any]
) -> list[Fact]:
    doc_no = str(order["sales_order_no"])
    day = order["order_date"]
    source = f"Focus sales order {doc_no}"
    facts = [
        Fact(
            kind=ORDER_STATUS,
            label=f"Status of sales order {doc_no}",
            value=str(order["status"] or "unknown"),
            unit=None,
            source=source,
            as_of=day,
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
                day,
                doc_no,
                doc_no,
            )  # fmt: skip
        )
    for line in _order_items(conn, grounding, doc_no):
        in_kg = line["qty_kg"] is not None
        qty = line["qty_kg"] if in_kg else line["qty"]
        if line["product_name"] and qty is not None:
            unit = "kg" if in_kg else ((line["unit"] or "").strip() or "unit")
            facts.append(
                Fact(
                    ORDER_ITEM,
                    str(line["product_name"]),
                    float(qty),
                    unit,
                    source,
                    day,
                    doc_no,
                    doc_no,
                )  # fmt: skip
            )
    facts.extend(_dispatch_facts(doc_no, order.get("dispatch_documents")))
    return facts


def _dispatch_facts(doc_no: str, documents: Any) -> list[Fact]:
    """Invoice, vehicle and LR of the latest documents that dispatched against the order
    (`marts.sales_orders.dispatch_documents`, newest first)."""
    facts: list[Fact] = []
    for doc in list(documents or [])[:_MAX_DISPATCHES]:
        number = str(doc.get("document_no") or "") or None
        kind = _DOCUMENT_KINDS.get(str(doc.get("document_kind")), "dispatch document")
        source = f"{kind} {number or ''}".strip()
        day = _date(doc.get("dispatched_on"))
        if number and doc.get("is_invoice"):
            facts.append(Fact(INVOICE, f"Invoice against {doc_no}", number, None, source, day,
                              doc_no, number))  # fmt: skip
        if doc.get("vehicle_no"):
            facts.append(Fact(VEHICLE, f"Vehicle for {number or doc_no}", str(doc["vehicle_no"]),
                              None, source, day, doc_no, number))  # fmt: skip
        if doc.get("lr_no"):
            facts.append(Fact(LR, f"LR for {number or doc_no}", str(doc["lr_no"]), None, source,
                              day, doc_no, number))  # fmt: skip
    return facts


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


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
    their dicts); None runs the extractor over the stock master (`products`, read from
    `marts.stock_levels` when None). `company` is a known customer (`CompanyRef`, or a CRM
    company key or name); None resolves it. `index` is a prebuilt `MasterIndex` (batch
    callers build it once with `ml.extract.linking.load_index`). With `infer_order`, a mail
    that quotes no order number is taken to be about the customer's latest order (holding a
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
    resolved, conflict = _resolve(email, found, index, company)
    grounding = Grounding(company=resolved)
    if conflict:
        grounding.notes.append(
            "customer not identified: the mail names companies that disagree (review)"
        )
    elif grounding.company is None:
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
            _add_order(conn, grounding, index, order)

    if (
        infer_order
        and not grounding.orders
        and not grounding.references
        and grounding.company is not None
    ):
        candidates = _latest_orders(conn, grounding, grounding.company, index)
        if grounding.products and candidates:
            keys = {product_key(p) for p in grounding.products}
            with_product = [
                o
                for o in candidates
                if any(
                    product_key(str(i["product_name"] or "")) in keys
                    for i in _order_items(conn, grounding, str(o["sales_order_no"]))
                )
            ]
            candidates = with_product or candidates
        if candidates:
            grounding.order_inferred = True
            grounding.notes.append("no order quoted: took the customer's latest order")
            _add_order(conn, grounding, index, candidates[0])
    return grounding


def _add_order(
    conn: psycopg.Connection,
    grounding: Grounding,
    index: MasterIndex,
    order: Mapping[str, Any],
) -> None:
    doc_no = str(order["sales_order_no"])
    if doc_no in grounding.orders:
        return
    grounding.orders.append(doc_no)
    company = grounding.company
    if company is not None and not _owns(company, index, order):
        grounding.order_mismatch.append(doc_no)
        grounding.notes.append(
            f"{doc_no} belongs to {order['company_name']}, not to the sender's company"
        )
    grounding.facts.extend(_order_facts(conn, grounding, order))
