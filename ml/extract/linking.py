"""Linking extracted entities to master data: companies, sales orders and stock items.

The linking functions are pure: they read a `MasterIndex`, a set of dictionaries the caller
builds once (`build_index` from records, or `load_index` from the warehouse's marts). A
company is identified by the CRM master's `company_key` (`marts.crm_companies`), so the
predictions, cards and events all name one key; records given to `build_index` use their
own key (`company_key`, `company_id` or `name`).

The sender's company comes from three signals, in this order:

1. the CRM's own decision for the sender's address (`marts.crm_company_sources`, source
   system `mail`, or a contact on file in `marts.crm_contacts`): evidence `contact`;
2. a GSTIN, PAN or CIN the message states that is on file (a GSTIN not on file counts
   through the PAN inside it): evidence `gstin`, `pan` or `cin`;
3. the sender's mail domain, when it belongs to exactly one company (free-mail domains never
   count; a domain sister firms share counts for none): evidence `domain`. A domain is the
   weakest signal: when the sender's own text (quoted history left out) signs with a legal
   entity's name that is not that company's ("Sri Lakshmi Aqua Systems Pvt. Ltd." writing
   from Sri Lakshmi Detergents' domain), the two disagree.

When two signals (or two quoted identifiers) name different companies, the mail is left
unlinked and the conflict is reported (`other_company`): it goes to review, and neither
company is named. A wrong link shows one customer another customer's orders, so when in
doubt nothing is linked. Order numbers never decide the company: anyone can quote one, and
a quoted order is linked only when it belongs to the company the sender was linked to.
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
#: A line that is a legal entity's name: words ending in a company form (a signature's firm).
_LEGAL_NAME = re.compile(
    r"^[ \t]*(?:M/s\.?\s+)?([A-Z][A-Za-z0-9&'.,()\- ]{2,80}?\s(?:Pvt\.?\s*Ltd|Private\s+Limited"
    r"|Limited|Ltd|LLP))\.?[ \t]*$",
    re.MULTILINE,
)
#: Words that say what kind of entity a name is, not which: dropped before names are compared.
_COMPANY_FORMS = frozenset(
    {"pvt", "private", "ltd", "limited", "llp", "co", "company", "the", "m", "s", "and"}
)


@dataclass
class MasterIndex:
    """Lookups from identifiers to master records; keys are normalised (upper/casefolded)."""

    company_by_gstin: dict[str, str] = field(default_factory=dict)
    company_by_pan: dict[str, str] = field(default_factory=dict)
    company_by_cin: dict[str, str] = field(default_factory=dict)
    #: Domains of exactly one company (free mail and shared domains left out).
    company_by_domain: dict[str, str] = field(default_factory=dict)
    #: The CRM's company for a sender address (a mail sender it placed, a contact on file).
    company_by_email: dict[str, str] = field(default_factory=dict)
    company_names: dict[str, str] = field(default_factory=dict)
    order_by_no: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders_by_po: dict[str, list[str]] = field(default_factory=dict)
    stock_item_by_key: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CompanyLink:
    """The company a message is from, and the evidence (`contact`, `gstin`, `pan`, `cin`,
    `domain`)."""

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

    `conflict` says why no company was linked although one was named (the mail then needs
    review): `other_company`, two signals name different companies.
    """

    company: CompanyLink | None
    orders: tuple[OrderLink, ...]
    products: tuple[ProductLink, ...]
    conflict: str | None = None


#: Why a company named by the mail was not linked (see `Links.conflict`).
OTHER_COMPANY = "other_company"


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


def _unique(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """`key -> company` for the keys that point to exactly one company."""
    found: dict[str, set[str]] = {}
    for key, company in pairs:
        found.setdefault(key, set()).add(company)
    return {k: next(iter(v)) for k, v in found.items() if len(v) == 1}


def _gstins(record: Mapping[str, Any]) -> list[str]:
    gstins: list[str] = []
    for item in [record.get("gstin"), *_as_list(record.get("gstins"))]:
        value = item.get("gstin") if isinstance(item, Mapping) else item
        if value:
            gstins.append(str(value).strip().upper())
    return gstins


def build_index(
    companies: Iterable[Mapping[str, Any]] = (),
    orders: Iterable[Mapping[str, Any]] = (),
    stock_items: Iterable[Mapping[str, Any] | str] = (),
    senders: Mapping[str, str] | None = None,
) -> MasterIndex:
    """A `MasterIndex` from plain records.

    `companies` are CRM companies (`company_key`, `name`, `pan`, `cin`, `gstins`, `emails`)
    or demo world companies (`company_id`, `name`, `pan`, `domain`, `gstins: [{"gstin":
    ...}]`, `emails`). `orders` are sales orders (`doc_no` or `sales_order_no`, `company_key`
    or `company_id` or a `gstin`, `po_ref`, `status`). `stock_items` are stock item records
    with `name` or `product_name` (or plain names). `senders` is the CRM's decision per
    sender address, which outranks a contact address on a company record.

    An identifier, address or domain that two companies share identifies neither.
    """
    index = MasterIndex()
    gstin_pairs: list[tuple[str, str]] = []
    pan_pairs: list[tuple[str, str]] = []
    cin_pairs: list[tuple[str, str]] = []
    email_pairs: list[tuple[str, str]] = []
    domain_pairs: list[tuple[str, str]] = []
    for record in companies:
        key = _first(record, "company_key", "company_id", "name")
        if key is None:
            continue
        key = str(key)
        name = _first(record, "name")
        index.company_names[key] = str(name) if name is not None else key
        gstins = _gstins(record)
        gstin_pairs += [(g, key) for g in gstins]
        pans = {g[2:12] for g in gstins if len(g) == 15}
        if record.get("pan"):
            pans.add(str(record["pan"]).strip().upper())
        pan_pairs += [(p, key) for p in pans]
        if record.get("cin"):
            cin_pairs.append((str(record["cin"]).strip().upper(), key))
        addresses = [
            a for e in [*_as_list(record.get("email")), *_as_list(record.get("emails"))]
            for a in _addresses(e)
        ]  # fmt: skip
        email_pairs += [(a, key) for a in addresses]
        domains = {str(record["domain"]).lower()} if record.get("domain") else set()
        domains.update(d for d in (email_domain(a) for a in addresses) if d)
        domain_pairs += [(d, key) for d in domains if d not in FREE_MAIL_DOMAINS]
    index.company_by_gstin = _unique(gstin_pairs)
    index.company_by_pan = _unique(pan_pairs)
    index.company_by_cin = _unique(cin_pairs)
    index.company_by_email = _unique(email_pairs)
    for address, key in (senders or {}).items():
        index.company_by_email[address.strip().lower()] = key
    index.company_by_domain = _unique(domain_pairs)
    for record in orders:
        doc_no = _first(record, "doc_no", "sales_order_no")
        if not doc_no:
            continue
        doc_no = str(doc_no).strip().upper()
        company = _first(record, "company_key", "company_id")
        if company is None:
            gstin = str(record.get("gstin") or "").strip().upper()
            company = index.company_by_gstin.get(gstin) or (
                index.company_by_pan.get(gstin[2:12]) if len(gstin) == 15 else None
            )
        po_ref = record.get("po_ref")
        index.order_by_no[doc_no] = {
            "doc_no": doc_no,
            "company": None if company is None else str(company),
            "po_ref": po_ref,
            "status": record.get("status"),
        }
        if po_ref:
            index.orders_by_po.setdefault(str(po_ref).strip().upper(), []).append(doc_no)
    for item in stock_items:
        name = item if isinstance(item, str) else _first(item, "name", "product_name")
        if name:
            index.stock_item_by_key.setdefault(product_key(str(name)), str(name))
    return index


_ADDRESS = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+")


def _addresses(value: Any) -> list[str]:
    """Every mail address in a field such as `"a@x.in; B <b@y.in>"`, lower-cased."""
    return [m.group(0).strip(".").lower() for m in _ADDRESS.finditer(str(value or ""))]


def stated_names(text: str | None) -> list[str]:
    """Legal entity names the sender signs with in their own text (quoted history, where
    other firms' and our own signatures are, left out)."""
    from ml.extract.quoting import strip_quoted

    own = strip_quoted(text or "", keep_forwarded=False)
    return [m.group(1).strip() for m in _LEGAL_NAME.finditer(own)]


def _name_words(name: str) -> frozenset[str]:
    return frozenset(w for w in _PIECES.findall(name.lower()) if w not in _COMPANY_FORMS)


def same_company_name(a: str, b: str) -> bool:
    """Whether two names can be one company: their words, company forms (Pvt, Ltd, ...) left
    out, are the same or one holds all the other's ("Surya Textiles" and "Surya Textiles
    Enterprises Pvt Ltd")."""
    x, y = _name_words(a), _name_words(b)
    return bool(x and y) and (x <= y or y <= x)


def link_sender(
    entities: Sequence[Entity],
    index: MasterIndex,
    sender: str | None = None,
    text: str | None = None,
) -> tuple[CompanyLink | None, str | None]:
    """The sender's company and the conflict, if any (see the module's rules). `text` is the
    mail's text (subject and body), read for the firm the sender signs with."""
    contact = _contact_company(index, sender)
    claims = _claimed_companies(entities, index)
    domain = _domain_company(index, sender)
    if domain is not None and contact is None and not claims and text:
        own_name = index.company_names.get(domain.company) or ""
        if any(not same_company_name(n, own_name) for n in stated_names(text)):
            return None, OTHER_COMPANY
    signals = [s for s in (contact, *claims, domain) if s is not None]
    if len({s.company for s in signals}) > 1:
        return None, OTHER_COMPANY
    if not signals:
        return None, None
    # they agree: the strongest evidence is shown (an identifier on file, then the address)
    return (claims[0] if claims else signals[0]), None


def link_company(
    entities: Sequence[Entity],
    index: MasterIndex,
    sender: str | None = None,
    text: str | None = None,
) -> CompanyLink | None:
    """The sender's company when the signals agree on one; None when none names a company
    or two disagree (a conflict: see `link_sender`)."""
    return link_sender(entities, index, sender, text)[0]


def _contact_company(index: MasterIndex, sender: str | None) -> CompanyLink | None:
    """The company the CRM placed the sender's own address in."""
    for address in _addresses(sender):
        if address in index.company_by_email:
            key = index.company_by_email[address]
            return CompanyLink(key, index.company_names.get(key), "contact", address)
    return None


def _domain_company(index: MasterIndex, sender: str | None) -> CompanyLink | None:
    """The one company the sender's (non-free-mail) domain belongs to."""
    domain = email_domain(sender)
    if domain and domain in index.company_by_domain:
        key = index.company_by_domain[domain]
        return CompanyLink(key, index.company_names.get(key), "domain", domain)
    return None


def _claimed_companies(entities: Sequence[Entity], index: MasterIndex) -> list[CompanyLink]:
    """A company for each identifier quoted in the text that is on file, strongest first: a
    GSTIN, the PAN inside a GSTIN not on file (another state's registration), a PAN, a CIN."""

    def found(key: str, evidence: str, matched: str) -> CompanyLink:
        return CompanyLink(key, index.company_names.get(key), evidence, matched)

    claims: list[CompanyLink] = []
    gstins = [str(e.value).upper() for e in entities if e.label == "GSTIN" and e.value]
    for gstin in gstins:
        if gstin in index.company_by_gstin:
            claims.append(found(index.company_by_gstin[gstin], "gstin", gstin))
    for gstin in gstins:
        if gstin not in index.company_by_gstin and gstin[2:12] in index.company_by_pan:
            claims.append(found(index.company_by_pan[gstin[2:12]], "pan", gstin))
    for e in entities:
        value = str(e.value or "").upper()
        if e.label == "PAN" and value in index.company_by_pan:
            claims.append(found(index.company_by_pan[value], "pan", value))
        elif e.label == "CIN" and value in index.company_by_cin:
            claims.append(found(index.company_by_cin[value], "cin", value))
    return claims


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


def link(
    entities: Sequence[Entity],
    index: MasterIndex,
    sender: str | None = None,
    text: str | None = None,
    automated: bool = False,
) -> Links:
    """Company, orders and stock items for one message's entities.

    Only orders of the sender's linked company are linked: an order number quoted by
    anyone else reveals nothing about that order. `automated` mail (an auto-reply, a
    bounce, bulk mail) is linked to no company: no person of the company wrote it (the CRM
    master does not place such senders either).
    """
    company, conflict = (None, None) if automated else link_sender(entities, index, sender, text)
    key = company.company if company else None
    return Links(
        company=company,
        orders=tuple(o for o in link_orders(entities, index) if key and o.company == key),
        products=tuple(link_products(entities, index)),
        conflict=conflict,
    )


# -- loading from the warehouse's marts -------------------------------------------------

_COMPANIES = "SELECT company_key, name, pan, cin, gstins FROM marts.crm_companies"
_SOURCES = (
    "SELECT source_system, lower(source_id) AS source_id, company_key"
    " FROM marts.crm_company_sources WHERE source_system IN ('mail', 'focus')"
)
_CONTACTS = "SELECT email, company_key, source_systems FROM marts.crm_contacts"
_ORDERS = "SELECT sales_order_no, customer_code, gstin, po_ref, status FROM marts.sales_orders"
_STOCK = (
    "SELECT product_name, product_aliases, pack, pack_size_kg FROM marts.stock_levels"
    " ORDER BY master_id NULLS LAST, product_name"
)


def load_products(conn: Any) -> tuple[ProductRef, ...]:
    """The stock master as product references: every stock item of `marts.stock_levels`
    with its aliases and standard pack, in Tally's creation order (the first of several
    items sharing a generic name is the house's standard grade).

    Returns () when the mart has not been built yet: mail is still scored, without products.
    """
    from ml.warehouse import read_mart

    rows = read_mart(conn, ["marts.stock_levels"], _STOCK) or []
    refs = [
        ProductRef(
            name=str(row["product_name"]),
            aliases=tuple(str(a) for a in _as_list(row["product_aliases"]) if a),
            pack_size_kg=float(row["pack_size_kg"]) if row["pack_size_kg"] else None,
            pack=str(row["pack"]).lower() if row["pack"] else None,
        )
        for row in rows
        if row["product_name"]
    ]
    return tuple(as_product_refs(refs))


def _domain_pairs(contacts: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(domain, company) from the CRM's contacts. A domain on a Tally ledger's contacts speaks
    first; lead lists and mail put strangers on a customer's domain, so they count only
    where no ledger has it (the CRM master's own domain rule)."""
    ledger: list[tuple[str, str]] = []
    other: list[tuple[str, str]] = []
    for row in contacts:
        domain = email_domain(row["email"])
        if not domain or domain in FREE_MAIL_DOMAINS or not row["company_key"]:
            continue
        on_ledger = "tally" in (row.get("source_systems") or ())
        (ledger if on_ledger else other).append((domain, str(row["company_key"])))
    ledger_domains = {d for d, _ in ledger}
    return ledger + [(d, k) for d, k in other if d not in ledger_domains]


def load_index(conn: Any) -> MasterIndex:
    """A `MasterIndex` from the CRM master and ERP marts that have been built
    (`crm_companies`, `crm_company_sources`, `crm_contacts`, `sales_orders`, `stock_levels`).

    A mart not built yet gives nothing to link to (logged); nothing is read from `raw.*`.
    """
    from ml.warehouse import read_mart

    companies = read_mart(conn, ["marts.crm_companies"], _COMPANIES) or []
    sources = read_mart(conn, ["marts.crm_company_sources"], _SOURCES) or []
    contacts = read_mart(conn, ["marts.crm_contacts"], _CONTACTS) or []
    orders = read_mart(conn, ["marts.sales_orders"], _ORDERS) or []
    stock = read_mart(conn, ["marts.stock_levels"], _STOCK) or []
    senders = {r["source_id"]: r["company_key"] for r in sources if r["source_system"] == "mail"}
    customers = {r["source_id"]: r["company_key"] for r in sources if r["source_system"] == "focus"}
    index = build_index(
        companies,
        [
            {**o, "company_key": customers.get(str(o["customer_code"] or "").lower())}
            for o in orders
        ],
        stock,
        senders={**{r["email"]: r["company_key"] for r in contacts if r["email"]}, **senders},
    )
    index.company_by_domain = _unique(_domain_pairs(contacts))
    return index
