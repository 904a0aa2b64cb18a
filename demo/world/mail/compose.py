"""Composing a sender's text: slots, templates, chat-style noise, entity ground truth.


A message is composed from independent parts (greeting, intent phrasing, product, quantity
and price mentions, identifiers, closing, signature), so that phrasing, slot values and
layout vary independently. Every entity the composer writes into the subject or the
sender's own text is recorded with its exact surface string; quoted or forwarded history
is never counted (see docs/world-format.md).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from typing import Any

from demo.world import formats, identity, templates
from demo.world import templates_other as other
from demo.world.catalogue import Product
from ml.taxonomy import INTENT_STREAM

IST = timezone(timedelta(hours=5, minutes=30))
OUR_DOMAIN = "pebbledemo.in"
OUR_COMPANY = "Pebble Demo Chemicals Pvt Ltd"
OUR_PAN = "AAKCP4821M"
OUR_GSTIN = identity.make_gstin(OUR_PAN, "27")
OUR_CIN = "U24100MH2011PTC219876"
MAILBOXES = ("sales", "accounts", "tenders", "qc")
#: The label set is the product's, shared with the classifier.
STREAM_OF = INTENT_STREAM
MAILBOX_CHOICE = {
    "price_enquiry": (("sales",), (1,)),
    "sample_request": (("sales", "qc"), (9, 1)),
    "new_business": (("sales",), (1,)),
    "purchase_order": (("sales", "accounts"), (9, 1)),
    "order_status": (("sales",), (1,)),
    "invoice_payment": (("accounts", "sales"), (9, 1)),
    "coa_request": (("qc", "sales"), (7, 3)),
    "quality_complaint": (("qc", "sales"), (6, 4)),
    "tender_notice": (("tenders", "sales"), (9, 1)),
    "newsletter_spam": (("sales", "accounts", "tenders", "qc"), (5, 2, 2, 1)),
    "auto_reply": (("sales", "accounts"), (7, 3)),
}
OUR_STAFF = {
    "sales": (
        ("Rohit Kulkarni", "rohit.k"),
        ("Anita Desai", "anita.desai"),
        ("Vikram Shah", "vikram"),
    ),
    "accounts": (("Sunil Mehta", "sunil.mehta"), ("Pooja Nair", "accounts.pooja")),
    "tenders": (("Harish Iyer", "harish.iyer"),),
    "qc": (("Dr. Meera Joshi", "meera.joshi"), ("Kiran Patil", "kiran.qc")),
}
MAILERS = (
    "Microsoft Outlook 16.0",
    "Microsoft Outlook 15.0",
    "Zoho Mail",
    "Apple Mail (2.3774)",
    "Thunderbird 128.3.1",
    "Rediffmail",
    None,
    None,
    None,
)
SLOT_RE = re.compile(r"\{(\w+)\}")
#: Slots the composer fills from `Slots` fields (others come from `Slots.extra`).
SLOT_NAMES = frozenset(
    (
        "product qty items rate amount order invoice po gstin sample_qty batch date due_date "
        "days city name company industry tender_id utr phone ourco usd_lines pan"
    ).split()
)
TYPO_RATE = {"formal": 0.008, "terse": 0.035, "hinglish": 0.025, "caps": 0.01}
SAMPLE_QTYS = (
    ("500 gm", 0.5),
    ("1 kg", 1.0),
    ("2 kg", 2.0),
    ("250 g", 0.25),
    ("5 kg", 5.0),
    ("1 kg each", 1.0),
    ("500 grams", 0.5),
)


@dataclass
class Item:
    """One product mention: what, how much, at what rate."""

    product: Product
    qty_kg: float
    rate: float


@dataclass
class Slots:
    """Values a message may mention; the composer draws surface forms from them."""

    items: list[Item] = field(default_factory=list)
    order: str | None = None
    invoice: str | None = None
    po: str | None = None
    amount: float | None = None
    gstin: tuple[str, bool] | None = None
    batch: str = ""
    date: str = ""
    due_date: str = ""
    days: str = "7"
    city: str = ""
    name: str = "Sir"
    company: str = ""
    industry: str = ""
    tender_id: str = ""
    utr: str = ""
    phone: str = ""
    pan: str | None = None
    #: plain-text slots (never entities): sender names, links, ticket numbers, ...
    extra: dict[str, str] = field(default_factory=dict)


ABBREV_RE = re.compile(
    r"\b("
    + "|".join(re.escape(k) for k in sorted(templates.ABBREVIATIONS, key=len, reverse=True))
    + r")\b"
)


def fillable(template: str, s: Slots) -> bool:
    """True when every slot `template` names has a value in `s`."""
    for name in SLOT_RE.findall(template):
        if name in ("product", "qty", "rate", "items", "offer_lines", "usd_lines") and not s.items:
            return False
        if (
            name in ("order", "invoice", "po", "gstin", "amount", "pan")
            and getattr(s, name) is None
        ):
            return False
        if name in ("batch", "utr", "tender_id") and not getattr(s, name):
            return False
        if name not in SLOT_NAMES and name not in s.extra:
            return False
    return True


def pick(rng: random.Random, options: tuple[str, ...], s: Slots) -> str:
    """One of `options` whose slots `s` can fill (the first option if none can)."""
    usable = [t for t in options if fillable(t, s)]
    return rng.choice(usable) if usable else options[0]


class Draft:
    """Text being written by one sender, recording each entity as it is written."""

    def __init__(
        self, rng: random.Random, style: str, abbrev: bool = False, lower: bool = False
    ) -> None:
        self.rng = rng
        self.style = style
        self.abbrev = abbrev
        self.lower = lower
        self.parts: list[str] = []
        self.entities: list[dict[str, Any]] = []

    def say(self, text: str, noisy: bool = True) -> None:
        """Append literal text; `noisy` text is what the sender types (chat abbreviations,
        lower or upper case, typos)."""
        if noisy and text:
            if self.abbrev:
                text = ABBREV_RE.sub(self._abbreviate, text)
            if self.style == "caps":
                text = text.upper()
            elif self.lower:
                text = text.lower()
            text = typo(self.rng, text, TYPO_RATE[self.style])
        self.parts.append(text)

    def ent(self, label: str, text: str, value: Any, **extra: Any) -> None:
        self.parts.append(text)
        record: dict[str, Any] = {"label": label, "text": text, "value": value}
        record.update(extra)
        self.entities.append(record)

    def _abbreviate(self, m: re.Match[str]) -> str:
        if self.rng.random() < 0.65:
            return self.rng.choice(templates.ABBREVIATIONS[m.group(1)])
        return m.group(1)

    def text(self) -> str:
        return "".join(self.parts)


def typo(rng: random.Random, text: str, rate: float) -> str:
    """`text` with character-level slips (swap, drop, double) in a few alphabetic words."""
    if rate <= 0:
        return text
    words = text.split(" ")
    for i, w in enumerate(words):
        if len(w) > 3 and w.isalpha() and rng.random() < rate:
            j = rng.randrange(len(w) - 1)
            kind = rng.random()
            if kind < 0.4:
                w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
            elif kind < 0.7:
                w = w[:j] + w[j + 1 :]
            else:
                w = w[:j] + w[j] + w[j:]
            words[i] = w
    return " ".join(words)


def product_surface(rng: random.Random, p: Product) -> str:
    """How a sender names `p`: canonical name, lower case, or one of its aliases."""
    r = rng.random()
    if r < 0.35:
        return p.name
    if r < 0.45:
        return p.name.lower()
    return rng.choice(p.aliases)


class Composer:
    """Fills templates into a Draft, one slot at a time."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def render(self, d: Draft, template: str, s: Slots, noisy: bool = True) -> None:
        pos = 0
        for m in SLOT_RE.finditer(template):
            d.say(template[pos : m.start()], noisy)
            self.slot(d, m.group(1), s)
            pos = m.end()
        d.say(template[pos:], noisy)

    def _caps(self, d: Draft, text: str) -> str:
        return text.upper() if d.style == "caps" else text

    def slot(self, d: Draft, name: str, s: Slots) -> None:
        rng = self.rng
        if name == "product":
            p = s.items[0].product
            d.ent("PRODUCT", self._caps(d, product_surface(rng, p)), p.name)
        elif name == "qty":
            it = s.items[0]
            text, kg = formats.quantity_text(rng, it.product, it.qty_kg)
            d.ent("QUANTITY", text, kg)
        elif name == "rate":
            text, value = formats.price_per_kg_text(rng, s.items[0].rate)
            d.ent("PRICE", text, value, basis="per_kg")
        elif name == "amount":
            text, value = formats.amount_text(rng, s.amount or 0.0)
            d.ent("PRICE", text, value, basis="total")
        elif name == "items":
            self.items(d, s)
        elif name == "order":
            assert s.order is not None
            variant = rng.random()
            text = s.order
            if variant < 0.08:
                text = s.order.lower()
            elif variant < 0.14:
                text = s.order.replace("/", "-")
            d.ent("ORDER_NO", text, s.order)
        elif name == "invoice":
            assert s.invoice is not None
            text = s.invoice if rng.random() > 0.08 else s.invoice.replace("/", "-")
            d.ent("INVOICE_NO", text, s.invoice)
        elif name == "po":
            assert s.po is not None
            d.say(
                rng.choice(
                    ("PO No. ", "P.O. # ", "PO Ref: ", "PO ", "PO no: ", "P.O. No. ", "PO#")
                ),
                False,
            )
            d.ent("PO_NO", s.po, s.po)
        elif name == "gstin":
            assert s.gstin is not None
            d.ent("GSTIN", s.gstin[0], s.gstin[0], valid=s.gstin[1])
        elif name == "pan":
            assert s.pan is not None
            d.ent("PAN", s.pan, s.pan)
        elif name == "sample_qty":
            text, kg = rng.choice(SAMPLE_QTYS)
            d.ent("QUANTITY", text, kg)
        elif name == "usd_lines":
            self.usd_lines(d, s)
        elif name == "ourco":
            d.say(OUR_COMPANY, False)
        elif name in s.extra:
            d.say(s.extra[name], False)
        else:
            d.say(str(getattr(s, name)), False)

    def usd_lines(self, d: Draft, s: Slots) -> None:
        """An exporter's price list: one product a line, priced in US dollars (not a PRICE)."""
        rng = self.rng
        for n, it in enumerate(s.items, start=1):
            d.say(rng.choice(("{n}. ", "{n}) ", "- ", "")).format(n=n), False)
            self.slot(d, "product", Slots(items=[it]))
            usd = round(it.rate * 1000 / 84 / 10) * 10
            terms = rng.choice(("CIF", "CFR", "FOB Qingdao", "CIF", "FOB Shanghai", "CNF"))
            port = rng.choice(other.PORTS)
            d.say(
                rng.choice(
                    (
                        f": {usd:,} USD/MT {terms} {port}",
                        f" - {usd} USD per ton, {terms}",
                        f", price {usd:,} USD/MT {terms}",
                    )
                ),
                False,
            )
            d.say("\n", False)

    def items(self, d: Draft, s: Slots) -> None:
        with_rate = self.rng.random() < 0.5
        numbering = self.rng.choice(("{n}) ", "{n}. ", "- ", "* ", ""))
        for n, it in enumerate(s.items, start=1):
            one = Slots(items=[it])
            d.say(numbering.format(n=n), False)
            line = self.rng.choice(
                ("{product} - {qty}", "{product}: {qty}", "{product} {qty}", "{qty} {product}")
            )
            if with_rate:
                line += self.rng.choice((" @ {rate}", " at {rate}", ", rate {rate}"))
            self.render(d, line, one, noisy=False)
            d.say("\n", False)


def dedupe_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple[str, str]] = set()
    out = []
    for e in entities:
        key = (e["label"], e["text"])
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out
