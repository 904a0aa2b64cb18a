"""Automated mail: auto-replies and acknowledgements to our mails, and bounces."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import default as default_policy
from email.utils import format_datetime, formataddr
from typing import Any

from demo.world import identity, templates
from demo.world import templates_other as other
from demo.world.mail.compose import IST, OUR_DOMAIN, OUR_STAFF, Draft, Slots, dedupe_entities, pick
from demo.world.mail.render import MailroomBase


class AutomaticMail(MailroomBase):
    """Automatic answers (out of office, tickets, read receipts) and delivery failures."""

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
            self.truth(
                mid,
                at,
                "auto_reply",
                None,
                dedupe_entities(entities),
                sender[1],
                "inbound",
                template=body_t,
            ),
        )

    def bounce(self, when: datetime, mailbox: str, bad_address: str, subject: str) -> None:
        """A mailer-daemon delivery status notification for one of our mails."""
        rng = self.rng
        staff = rng.choice(OUR_STAFF[mailbox])
        orig_mid = self.message_id(OUR_DOMAIN)
        mid = self.message_id("mx.pebbledemo.in")
        code_template = rng.choice(
            (
                "550 5.1.1 <{a}>: Recipient address rejected: User unknown",
                "552 5.2.2 <{a}>: Mailbox full",
                "550 5.4.1 Recipient address rejected: Access denied",
                "554 5.7.1 <{a}>: Relay access denied",
            )
        )
        code = code_template.format(a=bad_address)
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
            self.truth(
                mid,
                when,
                "auto_reply",
                None,
                [],
                "MAILER-DAEMON",
                "inbound",
                template=code_template,
            ),
        )
