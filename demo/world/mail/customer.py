"""Customer mail and its threads: the first message, forwards, our reply, their answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime, formataddr
from typing import Any

from demo.world import templates
from demo.world import templates_new_business as nb
from demo.world.mail.automatic import AutomaticMail
from demo.world.mail.compose import (
    MAILBOX_CHOICE,
    OUR_COMPANY,
    OUR_DOMAIN,
    OUR_STAFF,
    Draft,
    Slots,
    dedupe_entities,
    fillable,
    pick,
)
from demo.world.pdf import tiny_pdf


@dataclass(frozen=True, slots=True)
class Phrasebook:
    """The phrasings one message draws from: subjects, bodies by style, our replies."""

    subjects: tuple[str, ...]
    subject_only: tuple[str, ...]
    bodies: dict[str, tuple[str, ...]]
    replies: tuple[str, ...]
    mailboxes: tuple[tuple[str, ...], tuple[int, ...]]


def phrasebook(intent: str, family: str | None = None) -> Phrasebook:
    """The phrasings for `intent`, or for one family of new-business mail."""
    if family is None or family == "buyer":
        replies = nb.BUYER_REPLIES if family == "buyer" else templates.OUR_REPLIES.get(intent, ())
        return Phrasebook(
            templates.SUBJECTS[intent],
            templates.SUBJECT_ONLY[intent],
            templates.BODIES[intent],
            replies,
            MAILBOX_CHOICE[intent],
        )
    book: Any = nb.FAMILIES[family]
    return Phrasebook(
        book["subjects"],
        book["subject_only"],
        book["bodies"],
        book["replies"],
        book.get("mailboxes", MAILBOX_CHOICE[intent]),
    )


class CustomerMail(AutomaticMail):
    """Inbound customer mail: forwards, mail typed on top of old threads, our replies."""

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
        family: str | None = None,
        kind: str | None = None,
        forward_by: Any = None,
        forward_notes: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        """Compose one inbound message of `intent` and, sometimes, its thread.

        `family` picks the phrasings of one kind of new-business mail (`kind`, when it
        differs: a forwarded introduction) and is recorded in the truth. With `forward_by`, that contact forwards the mail to us with one of
        `forward_notes` on top (the writer resending it, or a customer referring a friend).
        """
        rng = self.rng
        comp = self.composer
        book = phrasebook(intent, kind or family)
        style = self.style()
        base_style = "terse" if style == "caps" else style
        mailbox = rng.choices(*book.mailboxes)[0]
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
            subject_template = pick(rng, book.subject_only, slots)
            main_template = subject_template
        elif rng.random() < 0.1:
            subject_template = pick(rng, templates.VAGUE_SUBJECTS, slots)
        else:
            subject_template = pick(rng, book.subjects, slots)
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
                main_template = pick(rng, book.bodies[line_style], slots)
                comp.render(body, main_template, slots)
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
                main_template = pick(rng, book.bodies[base_style], slots)
                comp.render(body, main_template, slots)
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
        entities = dedupe_entities(subj.entities + body.entities)
        wrapper = rng.random()
        # a first contact has no earlier mail to reply on top of, and no colleague who got it
        first_contact = (kind or family) not in (None, "buyer")
        forward = forward_by is not None or (not first_contact and wrapper < 0.07)
        on_top = not (forward or first_contact) and shape != "subject_only" and wrapper < 0.17
        quoted = None
        in_reply_to = None
        outlook = False
        if forward:
            # a colleague forwards the mail to us with a short note on top
            colleague = forward_by or rng.choice(company.contacts)
            note_style = rng.choice(("formal", "terse", "terse", "hinglish"))
            note = Draft(rng, note_style, abbrev=note_style != "formal")
            if rng.random() < 0.4:
                note.say(
                    rng.choice((f"Dear {slots.name},", f"{slots.name} ji,", "Hi,")) + "\n\n", False
                )
            note.say(rng.choice((forward_notes or templates.FORWARD_NOTES)[note_style]))
            # a writer resending their own mail had sent it to us; a colleague had received it
            first_to = f"{mailbox}@{OUR_DOMAIN}" if colleague is contact else colleague.email
            quoted = (
                "---------- Forwarded message ---------\n"
                f"From: {formataddr((contact.name, contact.email))}\n"
                f"Date: {format_datetime(when - timedelta(hours=rng.randint(1, 20)))}\n"
                f"Subject: {subject}\nTo: {first_to}\n\n{text}"
            )
            sender_contact = colleague
            subject = rng.choice(("Fwd: ", "Fw: ", "FW: ")) + subject
            text = f"{note.text()}\n\n{colleague.name}"
            entities = dedupe_entities(subj.entities)
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
            entities = dedupe_entities(psubj.entities + body.entities)
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
        domain = company.domain if "." in company.domain else "mail.gmail.com"
        if forward_by is not None:
            domain = sender_contact.email.partition("@")[2]
        mid = self.message_id(domain)
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
        truth = self.truth(
            mid,
            when,
            intent,
            company_id,
            entities,
            sender_contact.email,
            "inbound",
            family,
            template=main_template,
        )
        self.push(when, mailbox, raw, truth)
        if book.replies and not (forward or on_top) and rng.random() < 0.35:
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
                book.replies,
                family,
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
        replies: tuple[str, ...],
        family: str | None = None,
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
        reply_template = rng.choice(replies)
        self.composer.render(d, reply_template, slots, noisy=False)
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
            dedupe_entities(subj_entities + d.entities),
            f"{staff[1]}@{OUR_DOMAIN}",
            "outbound",
            family,
            template=reply_template,
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
            follow_template = rng.choice(
                templates.FOLLOW_UPS[base]
                + templates.FOLLOW_UPS_BY_INTENT.get(intent, {}).get(base, ())
            )
            f.say(follow_template)
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
                    dedupe_entities(subj_entities + f.entities),
                    contact.email,
                    "inbound",
                    family,
                    template=follow_template,
                ),
            )
