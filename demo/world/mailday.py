"""The demo world's daily mail, drawn from its masters and recent documents."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from demo.world import identity, masters
from demo.world.catalogue import PRODUCTS, product_by_code
from demo.world.mail import IST, Item, Mailroom, Slots
from demo.world.new_business import NewBusinessMail
from demo.world.pdf import tiny_pdf
from demo.world.timeline import DAILY, InvoiceRef, OrderRef, poisson

PO_MAIL_SHARE = 0.33
TENDER_BUYERS = (
    ("NTPC Limited", "Noida"),
    ("Bharat Petroleum Corporation Ltd", "Mumbai"),
    ("Delhi Jal Board", "Delhi"),
    ("Municipal Corporation of Greater Mumbai", "Mumbai"),
    ("Central Railway", "Mumbai"),
    ("Oil and Natural Gas Corporation Ltd", "Vadodara"),
    ("Bharat Heavy Electricals Ltd", "Bhopal"),
    ("Kerala Water Authority", "Kochi"),
    ("Gujarat Water Supply and Sewerage Board", "Gandhinagar"),
    ("Hindustan Aeronautics Ltd", "Bengaluru"),
    ("Indian Oil Corporation Ltd", "Panipat"),
    ("Chennai Metropolitan Water Supply", "Chennai"),
    ("Steel Authority of India Ltd", "Bhilai"),
)


class MailDays(NewBusinessMail):
    """The day's mail: customer mail about real orders and invoices, enquiries from customers
    and prospects, tender notices, bulk mail, automatic answers and bounces.

    Built on `ErpDays` (the documents it refers to); `demo.world.generate.World` owns both.
    """

    rng_mail: random.Random
    scale: float

    def contact_for(self, company: masters.Company, role: str) -> masters.Contact:
        fitting = [c for c in company.contacts if c.role == role]
        if fitting and self.rng_mail.random() < 0.8:
            return self.rng_mail.choice(fitting)
        return self.rng_mail.choice(company.contacts)

    def day_mail(self, day: date, room: Mailroom, new_orders: list[OrderRef]) -> None:
        rng = self.rng_mail
        midnight = datetime(day.year, day.month, day.day, tzinfo=IST)
        quiet = 0.15 if day.weekday() == 6 else 1.0
        s = self.scale * quiet
        for order in new_orders:
            if rng.random() < PO_MAIL_SHARE:
                self.po_mail(order, midnight, room)
        for intent in ("price_enquiry", "sample_request", "new_business"):
            for _ in range(poisson(rng, DAILY[intent] * s)):
                if intent == "new_business":
                    self.new_business_mail(midnight, room)
                else:
                    self.crm_mail(intent, midnight, room)
        for _ in range(poisson(rng, DAILY["order_status"] * s)):
            order = self.recent_orders.pick(rng, day, 1, 20)
            if order is not None:
                self.erp_mail("order_status", midnight, room, order, None)
        for intent, ages in (
            ("invoice_payment", (5, 70)),
            ("coa_request", (0, 12)),
            ("quality_complaint", (1, 25)),
        ):
            for _ in range(poisson(rng, DAILY[intent] * s)):
                inv = self.recent_invoices.pick(rng, day, *ages)
                if inv is not None:
                    self.erp_mail(intent, midnight, room, inv.order, inv)
        for _ in range(poisson(rng, DAILY["tender_notice"] * self.scale)):
            self.tender_mail(midnight, room)
        for _ in range(poisson(rng, DAILY["newsletter_spam"] * self.scale)):
            mailbox = rng.choices(("sales", "accounts", "tenders", "qc"), weights=(5, 2, 2, 1))[0]
            room.bulk(
                midnight + timedelta(minutes=rng.randrange(24 * 60)),
                mailbox,
                rng.sample(PRODUCTS, rng.choice((1, 1, 1, 2, 3))),
            )
        for _ in range(poisson(rng, DAILY["auto_ack"] * s)):
            self.auto_ack_mail(midnight, room)
        for _ in range(poisson(rng, DAILY["bounce"] * s)):
            company = self.companies[rng.randrange(len(self.companies))]
            contact = rng.choice(company.contacts)
            local, _, domain = contact.email.partition("@")
            bad = (
                f"{local[:-1] or local}x@{domain}"
                if rng.random() < 0.6
                else f"{local}@{domain.replace('.', '', 1)}.in"
            )
            room.bounce(
                room.business_time(midnight),
                rng.choices(("sales", "accounts"), weights=(7, 3))[0],
                bad,
                rng.choice(
                    (
                        "Quotation",
                        "Outstanding statement",
                        "Price revision w.e.f. 1st",
                        "Diwali greetings",
                        "Dispatch details",
                    )
                ),
            )

    def auto_ack_mail(self, midnight: datetime, room: Mailroom) -> None:
        """An automatic answer from a customer's mail system to one of our outgoing mails."""
        rng = self.rng_mail
        inv = self.recent_invoices.pick(rng, midnight.date(), 0, 20) if rng.random() < 0.6 else None
        if inv is not None:
            order = inv.order
            company = order.company
            slots = Slots(
                items=order.items, order=order.doc_no, invoice=inv.doc_no, po=order.po_ref
            )
        else:
            company = self.pick_company()
            slots = Slots(
                items=[
                    Item(p, 0.0, p.base_price_per_kg)
                    for p in map(product_by_code, company.products[:1])
                ]
            )
        contact = self.contact_for(company, "accounts" if inv is not None else "purchase")
        room.auto_ack(
            room.business_time(midnight),
            rng.choices(("sales", "accounts"), weights=(6, 4))[0],
            company,
            contact,
            slots,
        )

    def po_mail(self, order: OrderRef, midnight: datetime, room: Mailroom) -> None:
        rng = self.rng_mail
        company = order.company
        contact = self.contact_for(company, "purchase")
        amount = sum(it.qty_kg * it.rate for it in order.items)
        gstin = (order.reg.gstin, True)
        if rng.random() < 0.08:
            gstin = (identity.mistype_gstin(rng, order.reg.gstin), False)
        slots = Slots(
            items=order.items,
            po=order.po_ref,
            amount=amount,
            gstin=gstin,
            city=order.reg.city,
            company=company.name,
            date=(order.day + timedelta(days=rng.randint(2, 8))).strftime(
                rng.choice(("%d.%m.%Y", "%d/%m/%y", "%d %b", "%d-%m-%Y"))
            ),
        )
        attachments = None
        if rng.random() < 0.45:
            lines = [
                company.name,
                order.reg.address,
                f"GSTIN: {order.reg.gstin}",
                f"PO No: {order.po_ref}",
                f"Date: {order.day.strftime('%d.%m.%Y')}",
                "",
                "To: Pebble Demo Chemicals Pvt Ltd, Mumbai",
                "",
            ]
            lines += [
                f"{i}. {it.product.name}  {it.qty_kg:g} kg  @ Rs {it.rate:.2f}/kg"
                for i, it in enumerate(order.items, 1)
            ]
            name = rng.choice(
                (
                    f"PO_{order.po_ref.replace('/', '_')}.pdf",
                    "PO.pdf",
                    "Purchase Order.pdf",
                    "scan0001.pdf",
                    f"PO {order.po_ref.replace('/', '-')} (2).pdf",
                )
            )
            attachments = [(name, tiny_pdf("PURCHASE ORDER", lines), "application/pdf")]
        when = room.business_time(midnight, early=True)
        room.customer_mail(
            intent="purchase_order",
            when=when,
            company=company,
            contact=contact,
            reg=order.reg,
            slots=slots,
            company_id=company.company_id,
            attachments=attachments,
        )

    def crm_mail(self, intent: str, midnight: datetime, room: Mailroom) -> None:
        rng = self.rng_mail
        prospect_share = {"price_enquiry": 0.3, "sample_request": 0.35}[intent]
        if rng.random() < prospect_share:
            ident = masters.make_identity(rng)
            company = masters.Company(
                "",
                ident.name,
                None,
                ident.pan,
                ident.cin,
                ident.industry,
                ident.domain,
                ident.registrations,
                products=ident.products,
            )
            contact = masters.make_contact(rng, ident, "", "", "purchase", set())
            company.contacts.append(contact)
            company_id = None
        else:
            company = self.pick_company()
            contact = self.contact_for(
                company, "qc" if intent == "sample_request" and rng.random() < 0.3 else "purchase"
            )
            company_id = company.company_id
        reg = company.registrations[0]
        day = midnight.date()
        codes = rng.sample(
            company.products, k=min(len(company.products), rng.choices((1, 2, 3), (60, 28, 12))[0])
        )
        from demo.world.formats import pick_pack_count

        items = [
            Item(p, pick_pack_count(rng, p) * p.pack_size_kg, self.rate(p, day))
            for p in map(product_by_code, codes)
        ]
        gstin_valid = rng.random() > 0.1
        slots = Slots(
            items=items,
            city=reg.city,
            company=company.name,
            industry=company.industry,
            gstin=(
                reg.gstin if gstin_valid else identity.mistype_gstin(rng, reg.gstin),
                gstin_valid,
            ),
            days=str(rng.choice((3, 5, 7, 10, 15))),
        )
        room.customer_mail(
            intent=intent,
            when=room.business_time(midnight),
            company=company,
            contact=contact,
            reg=reg,
            slots=slots,
            company_id=company_id,
        )

    def erp_mail(
        self,
        intent: str,
        midnight: datetime,
        room: Mailroom,
        order: OrderRef,
        inv: InvoiceRef | None,
    ) -> None:
        rng = self.rng_mail
        company = order.company
        role = {
            "order_status": "purchase",
            "invoice_payment": "accounts",
            "coa_request": "qc",
            "quality_complaint": "qc",
        }[intent]
        contact = self.contact_for(company, role)
        items = order.items
        if intent == "quality_complaint":
            it = rng.choice(order.items)
            part = max(1, int(it.qty_kg / it.product.pack_size_kg * rng.uniform(0.1, 0.6)))
            items = [Item(it.product, part * it.product.pack_size_kg, it.rate)]
        elif intent == "coa_request":
            items = [rng.choice(order.items)]
        batch = ""
        if inv is not None:
            idx = order.items.index(items[0]) if items[0] in order.items else 0
            batch = inv.batches[min(idx, len(inv.batches) - 1)]
        amount = inv.total if inv is not None else sum(it.qty_kg * it.rate for it in order.items)
        if intent == "invoice_payment" and rng.random() < 0.2:
            amount = round(amount * 0.99, 2)  # paid net of TDS
        slots = Slots(
            items=items,
            order=order.doc_no,
            invoice=inv.doc_no if inv else None,
            po=order.po_ref,
            amount=amount,
            gstin=(order.reg.gstin, True),
            batch=batch,
            city=order.reg.city,
            company=company.name,
            date=(midnight.date() + timedelta(days=rng.randint(-3, 4))).strftime(
                rng.choice(("%d.%m.%Y", "%d/%m/%y", "%d %b", "%d-%m-%Y"))
            ),
            utr=f"{rng.choice(('HDFCR', 'SBIN', 'ICICR', 'UTIBR'))}{rng.randrange(10**11, 10**12)}",
        )
        attachments = None
        if intent == "invoice_payment" and rng.random() < 0.2:
            attachments = [
                (
                    "Payment_Advice.pdf",
                    tiny_pdf("PAYMENT ADVICE", [company.name, f"Amount: {amount:.2f}"]),
                    "application/pdf",
                )
            ]
        if intent == "quality_complaint" and rng.random() < 0.15:
            attachments = [
                (
                    "../../photos/IMG_2041.pdf",
                    tiny_pdf("REJECTION NOTE", [company.name, batch]),
                    "application/pdf",
                )
            ]
        room.customer_mail(
            intent=intent,
            when=room.business_time(midnight),
            company=company,
            contact=contact,
            reg=order.reg,
            slots=slots,
            company_id=company.company_id,
            attachments=attachments,
        )

    def tender_mail(self, midnight: datetime, room: Mailroom) -> None:
        rng = self.rng_mail
        buyer, city = rng.choice(TENDER_BUYERS)
        p = rng.choice(PRODUCTS)
        qty = (
            p.pack_size_kg * rng.randint(20, 400)
            if p.pack_size_kg < 1000
            else p.pack_size_kg * rng.randint(2, 30)
        )
        qty = round(qty / 1000) * 1000 or qty
        tender_id = rng.choice(
            (
                f"GEM/2025/B/{rng.randrange(6000000, 6999999)}",
                f"2025_{''.join(w[0] for w in buyer.split()[:3]).upper()}_{rng.randrange(100000, 999999)}_1",
                f"{''.join(w[0] for w in buyer.split()[:3]).upper()}/MM/{rng.randrange(1000, 9999)}/25-26",
            )
        )
        due = midnight + timedelta(days=rng.randint(7, 28))
        slots = Slots(
            items=[Item(p, float(qty), p.base_price_per_kg)],
            company=buyer,
            city=city,
            tender_id=tender_id,
            due_date=due.strftime(rng.choice(("%d-%m-%Y %H:%M", "%d.%m.%Y", "%d %B %Y"))),
            amount=float(round(qty * p.base_price_per_kg * 0.02, -3) or 5000),
        )
        room.tender(midnight + timedelta(minutes=rng.randrange(24 * 60)), slots)
