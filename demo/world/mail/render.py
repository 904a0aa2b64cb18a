"""Message plumbing: MIME rendering, Maildir + mbox writing, and the Mailroom's shared parts."""

from __future__ import annotations

import hashlib
import heapq
import html
import json
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage, Message
from email.policy import default as default_policy
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any, BinaryIO

from demo.world import identity
from demo.world.mail.compose import (
    MAILBOXES,
    MAILERS,
    OUR_CIN,
    OUR_COMPANY,
    OUR_GSTIN,
    STREAM_OF,
    Composer,
    Draft,
)
from demo.world.masters import FREE_MAIL


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


class MailroomBase:
    """What every kind of demo message needs: ids, dates, signatures, MIME, release in order.

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
        if rng.random() < 0.3 and company.domain not in FREE_MAIL:
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
        family: str | None = None,
        template: str | None = None,
    ) -> dict[str, Any]:
        """A message's ground truth; `family` (new-business mail only) names its kind.

        `template` is the main phrasing the text was written from; its short hash is recorded
        so that a training split can keep every mail of one phrasing on one side.
        """
        truth: dict[str, Any] = {
            "message_id": mid,
            "date": when.isoformat(),
            "direction": direction,
            "stream": STREAM_OF[intent],
            "intent": intent,
        }
        if family is not None:
            truth["family"] = family
        if template is not None:
            truth["template"] = hashlib.sha256(template.encode()).hexdigest()[:12]
        truth.update(company_id=company_id, entities=entities, _envelope_from=envelope_from)
        return truth

    def close(self) -> None:
        """Release everything still waiting (all of it falls within the world's dates)."""
        while self.heap:
            self.writer.write(heapq.heappop(self.heap)[2])
