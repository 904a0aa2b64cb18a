"""Bulk mail: newsletters, cold pitches, spam and phishing, and tender notices."""

from __future__ import annotations

import re
from datetime import datetime

from demo.world import formats, nit, templates
from demo.world import templates_other as other
from demo.world.catalogue import Product
from demo.world.mail.compose import (
    MAILBOX_CHOICE,
    OUR_DOMAIN,
    Draft,
    Item,
    Slots,
    dedupe_entities,
    fillable,
    pick,
)
from demo.world.mail.render import MailroomBase


class BulkMail(MailroomBase):
    """Newsletters, cold pitches, spam, phishing, and tender alerts."""

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
                dedupe_entities(subj.entities + d.entities),
                sender[1],
                "inbound",
                template=chosen[0] if chosen else parts[0],
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
        body_template = rng.choice(templates.BODIES["tender_notice"]["formal"])
        self.composer.render(d, body_template, slots, noisy=False)
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
        truth = self.truth(
            mid,
            when,
            "tender_notice",
            None,
            dedupe_entities(subj.entities + d.entities),
            portal[1],
            "inbound",
            template=body_template,
        )
        # The notice PDF draws from its own random stream (seeded by the message id), so
        # attaching it never moves the world's main stream.
        nit_rng = nit.notice_rng(mid)
        if slots.items and nit_rng.random() < nit.NIT_SHARE:
            raw, truth["nit"] = nit.attach_notice(
                raw,
                nit_rng,
                tender_no=slots.tender_id,
                organisation=slots.company,
                city=slots.city,
                product=slots.items[0].product,
                qty_kg=slots.items[0].qty_kg,
                when=when,
                due_text=slots.due_date,
            )
        self.push(when, mailbox, raw, truth)
