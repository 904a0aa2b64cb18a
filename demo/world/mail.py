"""Demo mail: composing messages with ground truth, and writing Maildir + mbox as they come.

A message is composed from independent parts (greeting, intent phrasing, product, quantity
and price mentions, identifiers, closing, signature), so that phrasing, slot values and
layout vary independently. Every entity the composer writes into the subject or the
sender's own text is recorded with its exact surface string; quoted or forwarded history
is never counted (see docs/world-format.md).
"""

from __future__ import annotations

import heapq
import html
import json
import random
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import default as default_policy
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any, BinaryIO

from demo.world import formats, identity, templates
from demo.world import templates_other as other
from demo.world.catalogue import Product
from demo.world.pdf import tiny_pdf
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
        "days city name company industry tender_id utr phone ourco usd_lines"
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
        if name in ("order", "invoice", "po", "gstin", "amount") and getattr(s, name) is None:
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


def _dedupe(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple[str, str]] = set()
    out = []
    for e in entities:
        key = (e["label"], e["text"])
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


def text_to_html(body: str, quoted: str | None) -> str:
    """The HTML a mail client would produce for `body` (and quoted history in a blockquote)."""
    paras = "".join(
        f"<p>{'<br>'.join(html.escape(line, quote=False) for line in para.splitlines())}</p>"
        for para in body.split("\n\n")
    )
    if quoted:
        q = "<br>".join(html.escape(line, quote=False) for line in quoted.splitlines())
        paras += f'<blockquote style="border-left:1px solid #ccc;padding-left:8px">{q}</blockquote>'
    return (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>'
        f'<body><div style="font-family:Calibri,Arial,sans-serif;font-size:11pt">{paras}</div></body></html>\n'
    )


@dataclass
class Outgoing:
    """A composed message waiting for its date to come."""

    when: datetime
    mailbox: str
    raw: bytes
    truth: dict[str, Any]


class MailWriter:
    """Appends messages to Maildir folders and mbox files, and truth to truth.jsonl, in order."""

    def __init__(self, root: Path, new_after: datetime) -> None:
        self.root = root
        self.new_after = new_after
        self.count = 0
        self.by_mailbox: dict[str, int] = dict.fromkeys(MAILBOXES, 0)
        for mb in MAILBOXES:
            for sub in ("cur", "new", "tmp"):
                (root / "maildir" / mb / sub).mkdir(parents=True, exist_ok=True)
        (root / "mbox").mkdir(parents=True, exist_ok=True)
        self.mboxes: dict[str, BinaryIO] = {
            mb: open(root / "mbox" / f"{mb}.mbox", "wb") for mb in MAILBOXES
        }
        self.truth = open(root / "truth.jsonl", "w", encoding="utf-8", newline="\n")

    def write(self, msg: Outgoing) -> None:
        self.count += 1
        self.by_mailbox[msg.mailbox] += 1
        epoch = int(msg.when.timestamp())
        if msg.when >= self.new_after:
            rel = f"maildir/{msg.mailbox}/new/{epoch}.{self.count:07d}.pebble"
        else:
            rel = f"maildir/{msg.mailbox}/cur/{epoch}.{self.count:07d}.pebble:2,S"
        (self.root / rel).write_bytes(msg.raw)
        sender = msg.truth.pop("_envelope_from")
        stamp = msg.when.astimezone(UTC).strftime("%a %b %d %H:%M:%S %Y")
        box = self.mboxes[msg.mailbox]
        box.write(f"From {sender} {stamp}\n".encode())
        # mboxrd quoting: any line that looks like a From_ line gains one more '>'
        box.write(re.sub(rb"(?m)^(>*From )", rb">\1", msg.raw))
        if not msg.raw.endswith(b"\n"):
            box.write(b"\n")
        box.write(b"\n")
        truth = {
            "message_id": msg.truth["message_id"],
            "mailbox": msg.mailbox,
            "file": f"mail/{rel}",
        }
        truth.update({k: v for k, v in msg.truth.items() if k != "message_id"})
        self.truth.write(json.dumps(truth, ensure_ascii=False) + "\n")

    def close(self) -> None:
        for fh in self.mboxes.values():
            fh.close()
        self.truth.close()


class Mailroom:
    """Composes every kind of demo message and releases them in date order.

    Messages may be composed ahead of their date (a reply due tomorrow); they wait in a
    heap that only ever holds the next few days, so memory stays bounded at any scale.
    """

    def __init__(self, rng: random.Random, writer: MailWriter, end: datetime) -> None:
        self.rng = rng
        self.writer = writer
        self.end = end
        self.composer = Composer(rng)
        self.heap: list[tuple[datetime, int, Outgoing]] = []
        self.seq = 0
        self.mid_seq = 0

    # -- plumbing -----------------------------------------------------------------------

    def message_id(self, domain: str) -> str:
        self.mid_seq += 1
        token = "".join(self.rng.choice("0123456789ABCDEF") for _ in range(16))
        return f"<{token}.{self.mid_seq}@{domain}>"

    def push(self, when: datetime, mailbox: str, raw: bytes, truth: dict[str, Any]) -> None:
        if when > self.end:
            return  # falls after the world ends: never received
        self.seq += 1
        heapq.heappush(self.heap, (when, self.seq, Outgoing(when, mailbox, raw, truth)))

    def release_until(self, until: datetime) -> None:
        """Write every composed message dated before `until`."""
        while self.heap and self.heap[0][0] < until:
            self.writer.write(heapq.heappop(self.heap)[2])

    def style(self) -> str:
        return self.rng.choices(("formal", "terse", "hinglish", "caps"), weights=(48, 25, 19, 8))[0]

    # -- building blocks ----------------------------------------------------------------

    def signature(self, d: Draft, contact: Any, company: Any, reg: Any, gstin_typo: bool) -> None:
        """A sender's signature; customers often put GSTIN, PAN and CIN in it."""
        rng = self.rng
        d.say("\n\n", False)
        if d.style in ("terse", "hinglish") and rng.random() < 0.55:
            d.say(contact.name.split()[0] if rng.random() < 0.6 else contact.name, False)
            if rng.random() < 0.3:
                d.say("\n" + identity.format_phone(rng, contact.phone), False)
            return
        d.say(f"{contact.name}\n{contact.designation}\n{company.name}\n", False)
        if rng.random() < 0.5:
            d.say(reg.address + "\n", False)
        d.say(rng.choice(("Mob: ", "M: ", "Mobile: ", "Cell: ", "Ph: ", "Contact: ")), False)
        d.say(identity.format_phone(rng, contact.phone) + "\n", False)
        if rng.random() < 0.55:
            valid = not gstin_typo
            g = reg.gstin if valid else identity.mistype_gstin(rng, reg.gstin)
            d.say(rng.choice(("GSTIN: ", "GST No: ", "GSTIN/UIN: ", "GST: ", "GST No. ")), False)
            d.ent("GSTIN", g, g, valid=valid)
            d.say("\n", False)
        if rng.random() < 0.3:
            d.say(rng.choice(("PAN: ", "PAN No. ", "PAN - ")), False)
            d.ent("PAN", company.pan, company.pan)
            d.say("\n", False)
        if company.cin and rng.random() < 0.3:
            d.say("CIN: ", False)
            d.ent("CIN", company.cin, company.cin)
            d.say("\n", False)
        if rng.random() < 0.3:
            d.say(f"Web: www.{company.domain}\n", False)

    def our_signature(self, d: Draft, staff_name: str, mailbox: str) -> None:
        d.say(f"\n\nRegards,\n{staff_name}\n{OUR_COMPANY}\n", False)
        d.say("Office No. 402, Kailash Business Park, Vikhroli (W), Mumbai - 400079\n", False)
        d.say(f"Tel: +91 22 4970 {self.rng.randrange(1000, 9999)}\n", False)
        if self.rng.random() < 0.6:
            d.say("GSTIN: ", False)
            d.ent("GSTIN", OUR_GSTIN, OUR_GSTIN, valid=True)
            d.say("\n", False)
        if self.rng.random() < 0.2:
            d.say("CIN: ", False)
            d.ent("CIN", OUR_CIN, OUR_CIN)
            d.say("\n", False)

    def build(
        self,
        *,
        sender: tuple[str, str],
        to: list[tuple[str, str]],
        cc: list[tuple[str, str]] | None,
        subject: str,
        body: str,
        when: datetime,
        msgid: str,
        quoted: str | None = None,
        in_reply_to: str | None = None,
        references: list[str] | None = None,
        outlook: bool = False,
        attachments: list[tuple[str, bytes, str]] | None = None,
        extra_headers: dict[str, str] | None = None,
        layout: str | None = None,
    ) -> bytes:
        """Serialise one message with the standard library, as a mail client would."""
        rng = self.rng
        msg = EmailMessage(policy=default_policy)
        msg["From"] = formataddr(sender)
        msg["To"] = ", ".join(formataddr(a) for a in to)
        if cc:
            msg["Cc"] = ", ".join(formataddr(a) for a in cc)
        msg["Subject"] = subject
        msg["Date"] = format_datetime(when)
        msg["Message-ID"] = msgid
        if in_reply_to and not outlook:
            msg["In-Reply-To"] = in_reply_to
            msg["References"] = " ".join(references or [in_reply_to])
        if outlook:
            msg["Thread-Topic"] = re.sub(r"^(?:(?:RE|Re|FW|Fwd|Fw):\s*)+", "", subject)
        mailer = rng.choice(MAILERS)
        if mailer:
            msg["X-Mailer"] = mailer
        for k, v in (extra_headers or {}).items():
            msg[k] = v
        full_text = body if not quoted else f"{body}\n\n{quoted}"
        layout = layout or rng.choices(("plain", "alternative", "html"), weights=(55, 30, 15))[0]
        if layout == "plain":
            msg.set_content(full_text)
        elif layout == "alternative":
            msg.set_content(full_text)
            msg.add_alternative(text_to_html(body, quoted), subtype="html")
        else:
            msg.set_content(text_to_html(body, quoted), subtype="html")
        for filename, data, subtype in attachments or []:
            maintype, _, sub = subtype.partition("/")
            msg.add_attachment(data, maintype=maintype, subtype=sub, filename=filename)
        self.fix_boundaries(msg)
        return msg.as_bytes()

    def fix_boundaries(self, msg: Message) -> None:
        """Seeded MIME boundaries: the library would otherwise draw them from global random."""
        for part in msg.walk():
            if part.is_multipart():
                token = "".join(self.rng.choice("0123456789abcdef") for _ in range(24))
                part.set_boundary(f"----=_Part_{token}")

    def business_time(self, day: datetime, early: bool = False) -> datetime:
        """A time on `day` when people write mail (office hours, some late evenings)."""
        rng = self.rng
        if rng.random() < 0.9:
            minutes = rng.randrange(9 * 60 + 15, (13 if early else 19) * 60 + 30)
        else:
            minutes = rng.randrange(6 * 60, 23 * 60 + 50)
        return day + timedelta(minutes=minutes, seconds=rng.randrange(60))

    # -- customer mail -----------------------------------------------------------------

    def customer_mail(
        self,
        *,
        intent: str,
        when: datetime,
        company: Any,
        contact: Any,
        reg: Any,
        slots: Slots,
        company_id: str | None,
        attachments: list[tuple[str, bytes, str]] | None = None,
    ) -> None:
        """Compose one inbound message of `intent` and, sometimes, its thread."""
        rng = self.rng
        comp = self.composer
        style = self.style()
        base_style = "terse" if style == "caps" else style
        mailbox = rng.choices(*MAILBOX_CHOICE[intent])[0]
        slots.name = rng.choice(OUR_STAFF[mailbox])[0].removeprefix("Dr. ").split()[0]
        # how much the sender writes: the usual mail, one line, only a subject, a long letter
        shape = rng.choices(
            ("normal", "short", "subject_only", "long"),
            weights=(66, 16, 6, 12 if base_style == "formal" else 0),
        )[0]
        abbrev = rng.random() < (0.08 if base_style == "formal" else 0.6)
        lower = base_style != "formal" and rng.random() < 0.25
        subj = Draft(rng, "caps" if style == "caps" else "formal", abbrev=shape == "subject_only")
        if shape == "subject_only":
            subject_template = pick(rng, templates.SUBJECT_ONLY[intent], slots)
        elif rng.random() < 0.1:
            subject_template = pick(rng, templates.VAGUE_SUBJECTS, slots)
        else:
            subject_template = pick(rng, templates.SUBJECTS[intent], slots)
        comp.render(subj, subject_template, slots, noisy=style == "caps" or shape == "subject_only")
        body = Draft(rng, style, abbrev=abbrev, lower=lower)
        if shape == "subject_only":
            ending = rng.choice(("", "", "Sent from my iPhone", "pls", "?", "Sent from my Android"))
            if ending:
                body.say(ending, False)
            if rng.random() < 0.4:
                body.say(("\n\n" if ending else "") + contact.name.split()[0], False)
        else:
            if shape == "short":
                line_style = "formal" if base_style == "formal" and rng.random() < 0.3 else None
                line_style = line_style or ("hinglish" if base_style == "hinglish" else "terse")
                if rng.random() < 0.3:
                    comp.render(body, rng.choice(templates.GREETINGS[line_style]), slots)
                    body.say("\n\n" if rng.random() < 0.5 else " ", False)
                comp.render(body, pick(rng, templates.BODIES[intent][line_style], slots), slots)
                if rng.random() < 0.5:
                    body.say("\n\n", False)
                    body.say(rng.choice(templates.CLOSINGS["terse"]))
                body.say("\n\n" + contact.name.split()[0], False)
            else:
                greeting = rng.choice(templates.GREETINGS[base_style])
                if greeting:
                    comp.render(body, greeting, slots)
                    body.say("\n\n", False)
                if shape == "long":
                    comp.render(body, pick(rng, templates.PREAMBLES, slots), slots)
                    body.say(" " if rng.random() < 0.5 else "\n\n", False)
                comp.render(body, pick(rng, templates.BODIES[intent][base_style], slots), slots)
                if shape == "long":
                    for line in rng.sample(templates.LONG_CONTEXT, rng.choice((1, 2))):
                        body.say("\n\n", False)
                        body.say(line)
                extra = 2 if shape == "long" else (1 if rng.random() < 0.3 else 0)
                for line in rng.sample(templates.EXTRA_LINES[base_style], extra):
                    body.say(" " if rng.random() < 0.5 else "\n\n", False)
                    body.say(line)
                body.say("\n\n", False)
                body.say(rng.choice(templates.CLOSINGS[base_style]))
                self.signature(body, contact, company, reg, gstin_typo=rng.random() < 0.12)
        subject = subj.text()
        subj_entities = subj.entities
        text = body.text()
        entities = _dedupe(subj.entities + body.entities)
        wrapper = rng.random()
        forward = wrapper < 0.07
        on_top = not forward and shape != "subject_only" and wrapper < 0.17
        quoted = None
        in_reply_to = None
        outlook = False
        if forward:
            # a colleague forwards the mail to us with a short note on top
            colleague = rng.choice(company.contacts)
            note_style = rng.choice(("formal", "terse", "terse", "hinglish"))
            note = Draft(rng, note_style, abbrev=note_style != "formal")
            if rng.random() < 0.4:
                note.say(
                    rng.choice((f"Dear {slots.name},", f"{slots.name} ji,", "Hi,")) + "\n\n", False
                )
            note.say(rng.choice(templates.FORWARD_NOTES[note_style]))
            quoted = (
                "---------- Forwarded message ---------\n"
                f"From: {formataddr((contact.name, contact.email))}\n"
                f"Date: {format_datetime(when - timedelta(hours=rng.randint(1, 20)))}\n"
                f"Subject: {subject}\nTo: {colleague.email}\n\n{text}"
            )
            sender_contact = colleague
            subject = rng.choice(("Fwd: ", "Fw: ", "FW: ")) + subject
            text = f"{note.text()}\n\n{colleague.name}"
            entities = _dedupe(subj.entities)
        elif on_top:
            # typed on top of an earlier mail about something else: the new text sets the intent
            sender_contact = contact
            prior = rng.choice(
                [
                    k
                    for k in templates.PRIOR_SUBJECTS
                    if k != intent
                    and any(fillable(t, slots) for t in templates.PRIOR_SUBJECTS[k])
                    and any(fillable(t, slots) for t in templates.PRIOR_TEXTS[k])
                ]
            )
            psubj = Draft(rng, "formal")
            comp.render(
                psubj, pick(rng, templates.PRIOR_SUBJECTS[prior], slots), slots, noisy=False
            )
            ptext = Draft(rng, "formal")
            comp.render(ptext, pick(rng, templates.PRIOR_TEXTS[prior], slots), slots, noisy=False)
            staff = rng.choice(OUR_STAFF[mailbox])
            ptext.say(f"\n\nRegards,\n{staff[0]}\n{OUR_COMPANY}", False)
            outlook = rng.random() < 0.35
            quoted = self.quote(
                staff[0],
                f"{staff[1]}@{OUR_DOMAIN}",
                when - timedelta(days=rng.randint(1, 25), minutes=rng.randrange(600)),
                psubj.text(),
                ptext.text(),
                outlook,
            )
            subject = rng.choice(("Re: ", "RE: ", "Re: ", "re: ")) + psubj.text()
            subj_entities = psubj.entities
            entities = _dedupe(psubj.entities + body.entities)
            in_reply_to = self.message_id(OUR_DOMAIN)
        else:
            sender_contact = contact
        to_addr = (f"{mailbox.capitalize()} - {OUR_COMPANY.split()[0]}", f"{mailbox}@{OUR_DOMAIN}")
        to = [to_addr]
        cc = None
        if rng.random() < 0.25:
            staff = rng.choice(OUR_STAFF[mailbox])
            to = [(staff[0], f"{staff[1]}@{OUR_DOMAIN}")]
            cc = [to_addr]
        mid = self.message_id(company.domain if "." in company.domain else "mail.gmail.com")
        raw = self.build(
            sender=(sender_contact.name, sender_contact.email),
            to=to,
            cc=cc,
            subject=subject,
            body=text,
            when=when,
            msgid=mid,
            quoted=quoted,
            in_reply_to=in_reply_to,
            outlook=outlook,
            attachments=attachments,
        )
        truth = self.truth(mid, when, intent, company_id, entities, sender_contact.email, "inbound")
        self.push(when, mailbox, raw, truth)
        if intent in templates.OUR_REPLIES and not (forward or on_top) and rng.random() < 0.35:
            self.thread(
                intent,
                when,
                mailbox,
                company,
                sender_contact,
                slots,
                subject,
                text,
                mid,
                company_id,
                style,
                subj_entities,
            )

    def thread(
        self,
        intent: str,
        when: datetime,
        mailbox: str,
        company: Any,
        contact: Any,
        slots: Slots,
        subject: str,
        text: str,
        mid: str,
        company_id: str | None,
        style: str,
        subj_entities: list[dict[str, Any]],
    ) -> None:
        """Our reply (copied to the shared mailbox) and, sometimes, the customer's answer.

        Replies keep the original subject, so its entities are part of their visible text.
        """
        rng = self.rng
        staff = rng.choice(OUR_STAFF[mailbox])
        reply_at = when + timedelta(minutes=rng.randint(20, 60 * 26))
        d = Draft(rng, "formal")
        d.say(
            f"Dear {contact.name.split()[0]} ji,\n\n" if rng.random() < 0.4 else "Dear Sir,\n\n",
            False,
        )
        self.composer.render(d, rng.choice(templates.OUR_REPLIES[intent]), slots, noisy=False)
        self.our_signature(d, staff[0], mailbox)
        reply_subject = ("Re: " if rng.random() < 0.7 else "RE: ") + subject
        outlook = rng.random() < 0.3
        quoted = self.quote(contact.name, contact.email, when, subject, text, outlook)
        our_mid = self.message_id(OUR_DOMAIN)
        shared = (f"{mailbox.capitalize()} - Pebble", f"{mailbox}@{OUR_DOMAIN}")
        attachments = None
        if intent in ("price_enquiry", "coa_request") and rng.random() < 0.5:
            title = "QUOTATION" if intent == "price_enquiry" else "CERTIFICATE OF ANALYSIS"
            lines = [OUR_COMPANY, f"To: {company.name}"] + [
                f"{it.product.name}  HSN {it.product.hsn}  Rate {it.rate:.2f}/kg"
                for it in slots.items
            ]
            attachments = [
                (
                    f"{title.title().replace(' ', '_')}.pdf",
                    tiny_pdf(title, lines),
                    "application/pdf",
                )
            ]
        raw = self.build(
            sender=(staff[0], f"{staff[1]}@{OUR_DOMAIN}"),
            to=[(contact.name, contact.email)],
            cc=[shared],
            subject=reply_subject,
            body=d.text(),
            when=reply_at,
            msgid=our_mid,
            quoted=quoted,
            in_reply_to=mid,
            references=[mid],
            outlook=outlook,
            attachments=attachments,
        )
        truth = self.truth(
            our_mid,
            reply_at,
            intent,
            company_id,
            _dedupe(subj_entities + d.entities),
            f"{staff[1]}@{OUR_DOMAIN}",
            "outbound",
        )
        self.push(reply_at, mailbox, raw, truth)
        r = rng.random()
        if r < 0.12:
            self.auto_reply(
                reply_at, mailbox, contact, reply_subject, our_mid, subj_entities, company, slots
            )
        elif r < 0.5:
            base = "terse" if style == "caps" else style
            follow_at = reply_at + timedelta(minutes=rng.randint(15, 60 * 30))
            f = Draft(rng, style)
            f.say(
                rng.choice(
                    templates.FOLLOW_UPS[base]
                    + templates.FOLLOW_UPS_BY_INTENT.get(intent, {}).get(base, ())
                )
            )
            f.say(f"\n\n{contact.name.split()[0]}", False)
            fq = self.quote(
                staff[0],
                f"{staff[1]}@{OUR_DOMAIN}",
                reply_at,
                reply_subject,
                d.text() + "\n\n" + quoted,
                outlook,
            )
            fmid = self.message_id(company.domain if "." in company.domain else "mail.gmail.com")
            fsubj = reply_subject if outlook or rng.random() < 0.5 else "Re: " + subject
            raw = self.build(
                sender=(contact.name, contact.email),
                to=[(staff[0], f"{staff[1]}@{OUR_DOMAIN}")],
                cc=[shared],
                subject=fsubj,
                body=f.text(),
                when=follow_at,
                msgid=fmid,
                quoted=fq,
                in_reply_to=our_mid,
                references=[mid, our_mid],
                outlook=outlook,
            )
            self.push(
                follow_at,
                mailbox,
                raw,
                self.truth(
                    fmid,
                    follow_at,
                    intent,
                    company_id,
                    _dedupe(subj_entities + f.entities),
                    contact.email,
                    "inbound",
                ),
            )

    def quote(
        self, name: str, email: str, when: datetime, subject: str, text: str, outlook: bool
    ) -> str:
        """Quoted history as Gmail ('On ... wrote:' and '>') or Outlook ('-----Original Message-----') writes it."""
        if outlook:
            return (
                "-----Original Message-----\n"
                f"From: {name} <{email}>\nSent: {when.strftime('%A, %B %d, %Y %I:%M %p')}\n"
                f"Subject: {subject}\n\n{text}"
            )
        quoted = "\n".join(("> " + line) if line else ">" for line in text.splitlines())
        return f"On {when.strftime('%a, %d %b %Y at %H:%M')}, {name} <{email}> wrote:\n{quoted}"

    def truth(
        self,
        mid: str,
        when: datetime,
        intent: str,
        company_id: str | None,
        entities: list[dict[str, Any]],
        envelope_from: str,
        direction: str,
    ) -> dict[str, Any]:
        return {
            "message_id": mid,
            "date": when.isoformat(),
            "direction": direction,
            "stream": STREAM_OF[intent],
            "intent": intent,
            "company_id": company_id,
            "entities": entities,
            "_envelope_from": envelope_from,
        }

    # -- automated mail ----------------------------------------------------------------

    def auto_reply(
        self,
        when: datetime,
        mailbox: str,
        contact: Any,
        subject: str,
        in_reply_to: str,
        subj_entities: list[dict[str, Any]],
        company: Any = None,
        slots: Slots | None = None,
    ) -> None:
        """An automatic answer from a customer's side to one of our mails in a thread."""
        rng = self.rng
        kind = rng.choices(
            ("ooo", "holiday", "leave", "ticket", "noreply", "moved", "read"),
            weights=(50, 10, 10, 8, 6, 6, 10),
        )[0]
        at = when + timedelta(seconds=rng.randint(5, 300))
        self.automatic(
            at, mailbox, contact, company, subject, subj_entities, in_reply_to, slots, kind
        )

    def auto_ack(
        self, when: datetime, mailbox: str, company: Any, contact: Any, slots: Slots
    ) -> None:
        """An automatic answer to one of our outgoing mails (quotation, statement, invoice...)."""
        rng = self.rng
        kind = rng.choices(
            ("ooo", "holiday", "leave", "ticket", "ap", "noreply", "moved", "read", "delivered"),
            weights=(24, 10, 8, 13, 14 if slots.invoice else 0, 8, 7, 10, 6),
        )[0]
        if kind == "ap":
            mailbox = "accounts"
        ours = Draft(rng, "formal")
        self.composer.render(ours, pick(rng, other.OUR_SUBJECTS, slots), slots, noisy=False)
        self.automatic(
            when,
            mailbox,
            contact,
            company,
            ours.text(),
            ours.entities,
            self.message_id(OUR_DOMAIN),
            slots,
            kind,
        )

    def automatic(
        self,
        at: datetime,
        mailbox: str,
        contact: Any,
        company: Any,
        subject: str,
        subj_entities: list[dict[str, Any]],
        in_reply_to: str,
        slots: Slots | None,
        kind: str,
    ) -> None:
        """Compose one automatic reply of `kind` to our mail `subject` (see templates_other)."""
        rng = self.rng
        domain = contact.email.split("@")[1]
        first = contact.name.split()[0]
        holiday = next(
            (
                (name, datetime(at.year, *lo, tzinfo=IST), datetime(at.year, *hi, tzinfo=IST))
                for name, lo, hi in other.HOLIDAYS
                if datetime(at.year, *lo, tzinfo=IST) - timedelta(days=3)
                <= at
                <= datetime(at.year, *hi, 23, 59, tzinfo=IST)
            ),
            None,
        )
        if kind == "holiday" and holiday is None:
            kind = "ooo"
        fmt = rng.choice(("%d.%m.%Y", "%d/%m/%Y", "%d %B %Y", "%d-%b-%Y"))
        start = (
            holiday[1] if kind == "holiday" and holiday else at - timedelta(days=rng.randint(0, 3))
        )
        end = (
            holiday[2] + timedelta(days=1)
            if kind == "holiday" and holiday
            else at + timedelta(days=rng.randint(2, 12))
        )
        sent = at - timedelta(minutes=rng.randint(1, 600))
        base = slots or Slots()
        s = replace(
            base,
            name=rng.choice(
                ("Mr. Sharma", "Ms. Priya", "Ramesh", "our office", "Mr. Iyer", "Sunita")
            ),
            phone=identity.format_phone(rng, identity.mobile(rng)),
            date=start.strftime(fmt),
            due_date=end.strftime(fmt),
            company=company.name if company is not None else domain,
            extra={
                "alt_email": f"{rng.choice(('purchase', 'accounts', 'info', 'stores', first.lower() + '.new', 'admin'))}@{domain}",
                "ticket": rng.choice(
                    (
                        str(rng.randrange(10000, 999999)),
                        f"INC{rng.randrange(10**6, 10**7)}",
                        f"CS-{at.year}-{rng.randrange(10000, 99999)}",
                    )
                ),
                "subject": subject,
                "addr": contact.email if kind != "read" else f"{mailbox}@{OUR_DOMAIN}",
                "sent": sent.strftime("%A, %d %B %Y %I:%M %p"),
                "read_at": at.strftime("%A, %d %B %Y %I:%M %p"),
                "holiday": holiday[0] if holiday else "the festival",
            },
        )
        ooo_prefixes = (
            "Automatic reply: ",
            "Out of Office: ",
            "Auto: ",
            "Out of office - ",
            "Autoreply: ",
            "AutoReply: ",
            "Auto Response: ",
            "[Auto-Reply] ",
        )
        sender = (contact.name, contact.email)
        auto_headers = {
            "Auto-Submitted": "auto-replied",
            "X-Autoreply": "yes",
            "X-Auto-Response-Suppress": "All",
        }
        if kind == "ooo":
            subj_t = rng.choice(ooo_prefixes) + "{subject}"
            if rng.random() < 0.3:
                body_t = rng.choice(templates.OOO_BODIES)
            else:
                body_t = " ".join(
                    x
                    for x in (
                        rng.choice(other.OOO_OPENERS),
                        rng.choice(other.OOO_ABSENCE) + rng.choice(other.OOO_ACCESS),
                        rng.choice(other.OOO_ALT),
                    )
                    if x
                )
        elif kind == "holiday":
            subj_t = (
                rng.choice((*ooo_prefixes, "Office closed: ", "Holiday notice - ")) + "{subject}"
            )
            body_t = rng.choice(other.HOLIDAY_BODIES)
        elif kind == "leave":
            subj_t = (
                rng.choice(
                    ("Automatic reply: ", "On leave: ", "Leave notice - ", "Out of Office: ")
                )
                + "{subject}"
            )
            body_t = rng.choice(other.LEAVE_BODIES)
        elif kind == "ticket":
            subj_t = rng.choice(other.TICKET_SUBJECTS)
            body_t = rng.choice(other.TICKET_BODIES)
            sender = rng.choice(
                (
                    (f"{s.company} Support", f"helpdesk@{domain}"),
                    ("Customer Care", f"support@{domain}"),
                    ("Service Desk", f"servicedesk@{domain}"),
                )
            )
            auto_headers = rng.choice(
                ({"Auto-Submitted": "auto-generated"}, {"Precedence": "bulk"}, {})
            )
        elif kind == "ap":
            subj_t = pick(rng, other.AP_SUBJECTS, s)
            body_t = pick(rng, other.AP_BODIES, s)
            sender = rng.choice(
                (
                    ("Accounts Payable", f"ap.invoices@{domain}"),
                    ("Vendor Portal", f"noreply-vendorportal@{domain}"),
                    ("Accounts Dept", f"accounts@{domain}"),
                )
            )
            auto_headers = rng.choice(
                ({"Auto-Submitted": "auto-generated"}, {"Precedence": "bulk"}, {})
            )
        elif kind == "noreply":
            subj_t = (
                rng.choice(("Automatic reply: ", "Mailbox not monitored - ", "Auto: "))
                + "{subject}"
            )
            body_t = rng.choice(other.NOREPLY_BODIES)
            if rng.random() < 0.5:
                sender = ("No Reply", f"noreply@{domain}")
        elif kind == "moved":
            subj_t = (
                rng.choice(
                    ("Automatic reply: ", "Email ID changed: ", "Change of email address - ")
                )
                + "{subject}"
            )
            body_t = rng.choice(other.MOVED_BODIES)
        elif kind == "read":
            subj_t = rng.choice(("Read: ", "Read: ", "Read receipt: ")) + "{subject}"
            body_t = other.READ_BODY
            auto_headers = {}
        else:  # delivered
            subj_t = rng.choice(("Delivered: ", "Relayed: ")) + "{subject}"
            body_t = rng.choice(other.DELIVERED_BODIES)
            sender = ("Microsoft Outlook", f"postmaster@{domain}")
            auto_headers = {"Auto-Submitted": "auto-replied"} if rng.random() < 0.5 else {}
        if kind in ("ooo", "holiday", "leave", "moved", "noreply"):
            r = rng.random()
            if r < 0.2:
                auto_headers = {"Auto-Submitted": "auto-replied"}
            elif r < 0.32:
                auto_headers = {}
        sd = Draft(rng, "formal")
        self.composer.render(sd, subj_t, s, noisy=False)
        d = Draft(rng, "formal")
        self.composer.render(d, body_t, s, noisy=False)
        entities: list[dict[str, Any]] = []
        entities += subj_entities if "{subject}" in subj_t else sd.entities
        entities += (subj_entities if "{subject}" in body_t else []) + d.entities
        mid = self.message_id(domain)
        raw = self.build(
            sender=sender,
            to=[(f"{mailbox}", f"{mailbox}@{OUR_DOMAIN}")],
            cc=None,
            subject=sd.text(),
            body=d.text(),
            when=at,
            msgid=mid,
            in_reply_to=in_reply_to,
            extra_headers=auto_headers,
        )
        self.push(
            at,
            mailbox,
            raw,
            self.truth(mid, at, "auto_reply", None, _dedupe(entities), sender[1], "inbound"),
        )

    def bounce(self, when: datetime, mailbox: str, bad_address: str, subject: str) -> None:
        """A mailer-daemon delivery status notification for one of our mails."""
        rng = self.rng
        staff = rng.choice(OUR_STAFF[mailbox])
        orig_mid = self.message_id(OUR_DOMAIN)
        mid = self.message_id("mx.pebbledemo.in")
        code = rng.choice(
            (
                "550 5.1.1 <{a}>: Recipient address rejected: User unknown",
                "552 5.2.2 <{a}>: Mailbox full",
                "550 5.4.1 Recipient address rejected: Access denied",
                "554 5.7.1 <{a}>: Relay access denied",
            )
        ).format(a=bad_address)
        report = MIMEMultipart("report", report_type="delivery-status")
        report["From"] = formataddr(("Mail Delivery System", f"MAILER-DAEMON@mx.{OUR_DOMAIN}"))
        report["To"] = f"{staff[1]}@{OUR_DOMAIN}"
        report["Subject"] = rng.choice(
            (
                "Undelivered Mail Returned to Sender",
                "Delivery Status Notification (Failure)",
                "Mail delivery failed: returning message to sender",
            )
        )
        report["Date"] = format_datetime(when)
        report["Message-ID"] = mid
        report["Auto-Submitted"] = "auto-replied"
        report.attach(
            MIMEText(
                "This is the mail system at host mx.pebbledemo.in.\n\nI'm sorry to have to inform you that your "
                "message could not be delivered to one or more recipients.\n\n"
                f"<{bad_address}>: host mail.{bad_address.split('@')[1]} said: {code}\n",
                "plain",
                "us-ascii",
            )
        )
        dsn = Message()
        dsn.set_type("message/delivery-status")
        per_msg = Message()
        per_msg["Reporting-MTA"] = "dns; mx.pebbledemo.in"
        per_rcpt = Message()
        per_rcpt["Final-Recipient"] = f"rfc822; {bad_address}"
        per_rcpt["Action"] = "failed"
        per_rcpt["Status"] = code.split()[1]
        per_rcpt["Diagnostic-Code"] = f"smtp; {code}"
        dsn.set_payload([per_msg, per_rcpt])
        report.attach(dsn)
        headers = MIMEText(
            f"From: {formataddr((staff[0], f'{staff[1]}@{OUR_DOMAIN}'))}\nTo: {bad_address}\n"
            f"Subject: {subject}\nMessage-ID: {orig_mid}\nDate: {format_datetime(when - timedelta(seconds=40))}\n",
            "rfc822-headers",
            "us-ascii",
        )
        report.attach(headers)
        self.fix_boundaries(report)
        raw = report.as_bytes(policy=default_policy)
        self.push(
            when,
            mailbox,
            raw,
            self.truth(mid, when, "auto_reply", None, [], "MAILER-DAEMON", "inbound"),
        )

    def bulk(self, when: datetime, mailbox: str, products: list[Product]) -> None:
        """Bulk mail and spam: newsletters, exporters' cold pitches, service spam, trade-fair
        and webinar invitations, portal lead alerts, phishing (see templates_other)."""
        rng = self.rng
        names = list(other.BULK_KINDS)
        kind = rng.choices(names, weights=[other.BULK_KINDS[k][1] for k in names])[0]
        table, _, bulk_share, layouts = other.BULK_KINDS[kind]
        items = []
        for p in products:
            qty = formats.pick_pack_count(rng, p) * p.pack_size_kg
            if kind == "cold_cn":
                qty = p.pack_size_kg * max(1, round(20000 / p.pack_size_kg))
            items.append(Item(p, qty, round(p.base_price_per_kg * rng.uniform(0.85, 1.1), 1)))
        amount = {
            "service": rng.choice((rng.randrange(2, 15) * 1000 - 1, rng.randrange(5, 60) * 100000)),
            "fair": rng.randrange(40, 250) * 1000,
            "phish": rng.randrange(12000, 180000),
            "lottery": rng.choice((1.5, 2.5, 5, 25)) * 10**7,
        }.get(kind, 25000)
        person = rng.choice(
            ("Ravi Kumar", "Neha Sharma", "Amit Verma", "Pooja Singh", "Rahul Mishra")
        )
        sender_co = ""
        if kind == "news":
            sender = rng.choice(other.NEWS_SENDERS)
        elif kind == "cold_cn":
            first = rng.choice(other.CN_FIRST)
            x = rng.choice(other.CN_X)
            sender_co = rng.choice(other.CN_COMPANY).format(x=x)
            person = first
            address = rng.choice(
                (
                    f"{first.lower()}@{x.lower()}chem.com",
                    f"{first.lower()}{rng.randrange(10, 99)}@163.com",
                    f"{x.lower()}{rng.randrange(100, 999)}@126.com",
                    f"sales{rng.randrange(1, 9)}@{x.lower()}-chem.cn",
                )
            )
            sender = (rng.choice((first, f"{first} - {sender_co}", sender_co)), address)
        elif kind == "cold_in":
            person = rng.choice(other.IN_NAMES)
            x = rng.choice(other.IN_X)
            sender_co = rng.choice(other.IN_COMPANY).format(x=x)
            slug = re.sub(r"[^a-z]", "", x.lower())
            address = rng.choice(
                (
                    f"{person.split()[0].lower()}.{slug}@gmail.com",
                    f"sales@{slug}chemicals.in",
                    f"marketing@{slug}industries.com",
                )
            )
            sender = (rng.choice((person, sender_co)), address)
        elif kind == "service":
            sender = rng.choice(other.SERVICE_SENDERS)
            sender_co = sender[0]
        elif kind == "fair":
            fair, venue, dates = rng.choice(other.FAIRS)
            slug = re.sub(r"[^a-z0-9]", "", fair.lower())[:16]
            sender = (fair, f"invite@{slug}.org")
        elif kind == "webinar":
            sender = rng.choice(
                (
                    ("ChemBiz Academy", "learn@chembizacademy.in"),
                    ("Tax Mitra Consultants", "events@taxmitra-filing.in"),
                    ("Trade Promotion Council", "events@tpc-events.in"),
                )
            )
            sender_co = sender[0]
        elif kind == "portal":
            sender = rng.choice(other.PORTAL_SENDERS)
        elif kind == "phish":
            sender = rng.choice(other.PHISH_SENDERS)
        else:
            sender = rng.choice(other.LOTTERY_SENDERS)
            person = rng.choice(("James Williams", "David Brown", "Peter Okafor"))
        domain = sender[1].split("@")[1]
        extra = {
            "first": person.split()[0],
            "sender": person if kind not in ("portal", "news") else sender[0],
            "sender_co": sender_co or sender[0],
            "mailbox": f"{mailbox}@{OUR_DOMAIN}",
            "link": rng.choice(other.LINKS).format(n=rng.randrange(10**5, 10**6), domain=domain),
            "week": str(rng.randint(23, 48)),
            "webinar": rng.choice(other.WEBINARS),
            "when_text": rng.choice(
                (
                    "Saturday, 4 PM",
                    "this Friday at 11 AM",
                    "Wednesday, 3:30 PM IST",
                    "tomorrow, 5 PM",
                )
            ),
        }
        if kind == "fair":
            extra.update(fair=fair, venue=venue, fair_dates=dates)
        s = Slots(
            items=items,
            amount=float(amount),
            city=rng.choice(
                other.IN_CITY
                if kind == "cold_in"
                else (
                    "Mumbai",
                    "Pune",
                    "Surat",
                    "Ludhiana",
                    "Chennai",
                    "Kanpur",
                    "Indore",
                    "Rajkot",
                )
            ),
            extra=extra,
        )
        subj = Draft(rng, "formal")
        self.composer.render(subj, pick(rng, table["subjects"], s), s, noisy=False)
        d = Draft(rng, "formal")
        pitches = [t for t in table.get("pitches", table.get("offers", ())) if fillable(t, s)]
        chosen = rng.sample(pitches, k=1 if "offers" in table else rng.choice((1, 1, 2)))
        parts = [pick(rng, table["openers"], s)]
        if "intros" in table:
            parts.append(pick(rng, table["intros"], s))
        parts += chosen
        parts.append(pick(rng, table["ctas"], s))
        parts.append(pick(rng, table["signoffs"], s))
        sep = rng.choice(("\n\n", "\n\n", "\n"))
        for i, part in enumerate(p for p in parts if p):
            if i:
                d.say(sep, False)
            self.composer.render(d, part, s, noisy=False)
        headers: dict[str, str] = {}
        if rng.random() < bulk_share:
            headers["Precedence"] = "bulk"
            headers["List-Unsubscribe"] = (
                f"<mailto:unsubscribe@{domain}>, <https://{domain}/u?id={rng.randrange(10**8)}>"
            )
            if rng.random() < 0.5:
                headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
            d.say(
                rng.choice(
                    (
                        "\n\nTo stop receiving these emails, click unsubscribe.\n",
                        "\n\nYou are receiving this mail because you registered with us. Unsubscribe | Manage preferences\n",
                        f"\n\nThis email was sent to {mailbox}@{OUR_DOMAIN}. If you no longer wish to receive these emails, unsubscribe here.\n",
                    )
                ),
                False,
            )
        elif kind in ("service", "cold_in") and rng.random() < 0.4:
            d.say("\n\nIf you do not wish to receive such mails, reply REMOVE.\n", False)
        mid = self.message_id(domain)
        raw = self.build(
            sender=sender,
            to=[(f"{mailbox}", f"{mailbox}@{OUR_DOMAIN}")],
            cc=None,
            subject=subj.text(),
            body=d.text(),
            when=when,
            msgid=mid,
            extra_headers=headers,
            layout=rng.choice(layouts),
        )
        self.push(
            when,
            mailbox,
            raw,
            self.truth(
                mid,
                when,
                "newsletter_spam",
                None,
                _dedupe(subj.entities + d.entities),
                sender[1],
                "inbound",
            ),
        )

    def tender(self, when: datetime, slots: Slots) -> None:
        """A tender notice from a portal alert service or a buyer's purchase department."""
        rng = self.rng
        portal = rng.choice(
            (
                ("GeM Tender Alerts", "alerts@gemtenderalerts.in"),
                ("TenderTiger", "noreply@tendertiger-mail.com"),
                ("Tender Detail", "alerts@tenderdetail-notify.com"),
                ("CPPP eProcurement", "eprocure-noreply@cppp-alerts.in"),
                (
                    f"Purchase Dept - {slots.company}",
                    f"purchase@{re.sub(r'[^a-z]', '', slots.company.lower())[:14]}.co.in",
                ),
            )
        )
        subj = Draft(rng, "formal")
        self.composer.render(
            subj, rng.choice(templates.SUBJECTS["tender_notice"]), slots, noisy=False
        )
        d = Draft(rng, "formal")
        self.composer.render(
            d, rng.choice(templates.BODIES["tender_notice"]["formal"]), slots, noisy=False
        )
        d.say("\n\nThis is a system generated alert. Please do not reply.\n", False)
        mailbox = rng.choices(*MAILBOX_CHOICE["tender_notice"])[0]
        mid = self.message_id(portal[1].split("@")[1])
        headers = {"Precedence": "bulk"} if "alert" in portal[1] or "noreply" in portal[1] else {}
        raw = self.build(
            sender=portal,
            to=[(mailbox, f"{mailbox}@{OUR_DOMAIN}")],
            cc=None,
            subject=subj.text(),
            body=d.text(),
            when=when,
            msgid=mid,
            extra_headers=headers,
        )
        self.push(
            when,
            mailbox,
            raw,
            self.truth(
                mid,
                when,
                "tender_notice",
                None,
                _dedupe(subj.entities + d.entities),
                portal[1],
                "inbound",
            ),
        )

    def close(self) -> None:
        """Release everything still waiting (all of it falls within the world's dates)."""
        while self.heap:
            self.writer.write(heapq.heappop(self.heap)[2])
