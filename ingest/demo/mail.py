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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import default as default_policy
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any, BinaryIO

from ingest.demo import formats, identity, templates
from ingest.demo.catalogue import Product
from ingest.demo.pdf import tiny_pdf

IST = timezone(timedelta(hours=5, minutes=30))
OUR_DOMAIN = "pebbledemo.in"
OUR_COMPANY = "Pebble Demo Chemicals Pvt Ltd"
OUR_PAN = "AAKCP4821M"
OUR_GSTIN = identity.make_gstin(OUR_PAN, "27")
OUR_CIN = "U24100MH2011PTC219876"
MAILBOXES = ("sales", "accounts", "tenders", "qc")
STREAM_OF = {
    "price_enquiry": "crm",
    "sample_request": "crm",
    "new_business": "crm",
    "purchase_order": "erp",
    "order_status": "erp",
    "invoice_payment": "erp",
    "coa_request": "erp",
    "quality_complaint": "erp",
    "tender_notice": "tender",
    "newsletter_spam": "other",
    "auto_reply": "other",
}
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


class Draft:
    """Text being written by one sender, recording each entity as it is written."""

    def __init__(self, rng: random.Random, style: str) -> None:
        self.rng = rng
        self.style = style
        self.parts: list[str] = []
        self.entities: list[dict[str, Any]] = []

    def say(self, text: str, noisy: bool = True) -> None:
        """Append literal text; `noisy` text is what the sender types (caps style, typos)."""
        if noisy and text:
            if self.style == "caps":
                text = text.upper()
            text = typo(self.rng, text, TYPO_RATE[self.style])
        self.parts.append(text)

    def ent(self, label: str, text: str, value: Any, **extra: Any) -> None:
        self.parts.append(text)
        record: dict[str, Any] = {"label": label, "text": text, "value": value}
        record.update(extra)
        self.entities.append(record)

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
        else:
            d.say(str(getattr(s, name)), False)

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
        return self.rng.choices(("formal", "terse", "hinglish", "caps"), weights=(52, 25, 15, 8))[0]

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
        mailbox = rng.choices(*MAILBOX_CHOICE[intent])[0]
        slots.name = rng.choice(OUR_STAFF[mailbox])[0].removeprefix("Dr. ").split()[0]
        subj = Draft(rng, "caps" if style == "caps" else "formal")
        comp.render(subj, rng.choice(templates.SUBJECTS[intent]), slots, noisy=style == "caps")
        body = Draft(rng, style)
        base_style = "terse" if style == "caps" else style
        greeting = rng.choice(templates.GREETINGS[base_style])
        if greeting:
            comp.render(body, greeting, slots)
            body.say("\n\n", False)
        comp.render(body, rng.choice(templates.BODIES[intent][base_style]), slots)
        if rng.random() < 0.3:
            body.say(" " if rng.random() < 0.5 else "\n\n", False)
            body.say(rng.choice(templates.EXTRA_LINES[base_style]))
        body.say("\n\n", False)
        body.say(rng.choice(templates.CLOSINGS[base_style]))
        self.signature(body, contact, company, reg, gstin_typo=rng.random() < 0.12)
        subject = subj.text()
        text = body.text()
        entities = _dedupe(subj.entities + body.entities)
        forward = rng.random() < 0.06
        quoted = None
        if forward:
            # a colleague forwards the mail to us with a short note on top
            colleague = rng.choice(company.contacts)
            note = rng.choice(
                (
                    "Pls see below.",
                    "FYI and needful action.",
                    "Please find below mail for your reference.",
                    "Forwarding as discussed.",
                    "pls check and revert",
                )
            )
            quoted = (
                "---------- Forwarded message ---------\n"
                f"From: {formataddr((contact.name, contact.email))}\n"
                f"Date: {format_datetime(when - timedelta(hours=rng.randint(1, 20)))}\n"
                f"Subject: {subject}\nTo: {colleague.email}\n\n{text}"
            )
            sender_contact = colleague
            subject = "Fwd: " + subject
            text = f"{note}\n\n{colleague.name}"
            entities = _dedupe(subj.entities)
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
            attachments=attachments,
        )
        truth = self.truth(mid, when, intent, company_id, entities, sender_contact.email, "inbound")
        self.push(when, mailbox, raw, truth)
        if intent in templates.OUR_REPLIES and not forward and rng.random() < 0.35:
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
                subj.entities,
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
            self.auto_reply(reply_at, mailbox, contact, reply_subject, our_mid, subj_entities)
        elif r < 0.5:
            base = "terse" if style == "caps" else style
            follow_at = reply_at + timedelta(minutes=rng.randint(15, 60 * 30))
            f = Draft(rng, style)
            f.say(rng.choice(templates.FOLLOW_UPS[base]))
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
    ) -> None:
        """An out-of-office answer from a customer to one of our mails."""
        rng = self.rng
        at = when + timedelta(seconds=rng.randint(5, 300))
        s = Slots(
            name=rng.choice(("Mr. Sharma", "Ms. Priya", "our office", "Ramesh")),
            phone=identity.format_phone(rng, identity.mobile(rng)),
            date=(at - timedelta(days=rng.randint(0, 3))).strftime("%d.%m.%Y"),
            due_date=(at + timedelta(days=rng.randint(2, 12))).strftime("%d.%m.%Y"),
        )
        d = Draft(rng, "formal")
        self.composer.render(d, rng.choice(templates.OOO_BODIES), s, noisy=False)
        prefix = rng.choice(("Automatic reply: ", "Out of Office: ", "Auto: ", "Out of office - "))
        mid = self.message_id(contact.email.split("@")[1])
        raw = self.build(
            sender=(contact.name, contact.email),
            to=[(f"{mailbox}", f"{mailbox}@{OUR_DOMAIN}")],
            cc=None,
            subject=prefix + subject,
            body=d.text(),
            when=at,
            msgid=mid,
            in_reply_to=in_reply_to,
            extra_headers={
                "Auto-Submitted": "auto-replied",
                "X-Autoreply": "yes",
                "X-Auto-Response-Suppress": "All",
            },
        )
        self.push(
            at,
            mailbox,
            raw,
            self.truth(
                mid, at, "auto_reply", None, _dedupe(subj_entities), contact.email, "inbound"
            ),
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

    def bulk(self, when: datetime, mailbox: str, product: Product) -> None:
        """A newsletter or spam message (bulk headers, unsubscribe link)."""
        rng = self.rng
        name, address, subjects, bodies = rng.choice(templates.NEWSLETTERS)
        s = Slots(
            items=[Item(product, 0.0, round(product.base_price_per_kg * rng.uniform(0.9, 1.1), 1))]
        )
        subj = Draft(rng, "formal")
        self.composer.render(subj, rng.choice(subjects), s, noisy=False)
        d = Draft(rng, "formal")
        self.composer.render(d, rng.choice(bodies), s, noisy=False)
        d.say("\n\nTo stop receiving these emails, click unsubscribe.\n", False)
        domain = address.split("@")[1]
        mid = self.message_id(domain)
        headers = {
            "Precedence": "bulk",
            "List-Unsubscribe": f"<mailto:unsubscribe@{domain}>, <https://{domain}/u?id={rng.randrange(10**8)}>",
        }
        if rng.random() < 0.5:
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        raw = self.build(
            sender=(name, address),
            to=[(f"{mailbox}", f"{mailbox}@{OUR_DOMAIN}")],
            cc=None,
            subject=subj.text(),
            body=d.text(),
            when=when,
            msgid=mid,
            extra_headers=headers,
            layout=rng.choice(("html", "alternative")),
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
                address,
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
