"""First-contact mail (intent `new_business`): who writes, from where, and what they want.

Each mail belongs to one family (`demo/world/templates_new_business.py`): a prospect who wants
to buy, a would-be distributor, an agency proposal, a supplier asking to be registered as our
vendor, a firm nobody knows (often from a free mail address), a tie-up proposal, or any of
these forwarded (the writer resending it, or a customer referring a friend's firm). Senders
are not in the customer master (neither by name nor by mail domain), except the customers
who forward a referral and a few buyers (a customer's new unit introducing itself).
"""

from __future__ import annotations

import random
import re
from datetime import datetime

from demo.world import identity, masters
from demo.world import templates_new_business as nb
from demo.world.catalogue import PRODUCTS, product_by_code
from demo.world.erp import ErpDays
from demo.world.formats import pick_pack_count
from demo.world.mail import Item, Mailroom, Slots
from demo.world.pdf import tiny_pdf

FAMILIES = tuple(nb.FAMILY_WEIGHTS)
#: What a forwarded introduction wraps.
FORWARDED = (
    "buyer",
    "distributorship",
    "agency",
    "vendor_registration",
    "unknown_company",
    "tie_up",
)
BD_DESIGNATIONS = (
    "Business Development Manager",
    "Marketing Manager",
    "Sales Head",
    "Manager - Business Development",
    "Sr. Marketing Executive",
)
SUPPLIER_DESIGNATIONS = ("Sales Manager", "Marketing Executive", "Accounts Executive", "Director")


def _company(ident: masters.Identity) -> masters.Company:
    """A company outside the master (no company id)."""
    return masters.Company(
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


def _as_supplier(rng: random.Random, ident: masters.Identity) -> None:
    """Turn a fresh identity into a chemical maker's: its name, domain and what it makes."""
    stem = ident.name.split()[0]
    ident.name = f"{stem} {rng.choice(nb.SUPPLIER_WORDS)}" + (" Pvt Ltd" if ident.cin else "")
    if ident.domain not in masters.FREE_MAIL:
        slug = re.sub(r"[^a-z0-9]", "", ident.name.lower().removesuffix(" pvt ltd"))[:18]
        ident.domain = slug + rng.choice((".com", ".in", ".co.in"))
    ident.products = tuple(p.code for p in rng.sample(PRODUCTS, rng.choice((1, 2, 3))))


class NewBusinessMail(ErpDays):
    """Composes the day's first-contact mail. Mixed into the world with its ERP days."""

    rng_mail: random.Random
    _master_taken: set[str] | None = None

    def new_business_mail(self, midnight: datetime, room: Mailroom) -> None:
        rng = self.rng_mail
        family = rng.choices(FAMILIES, weights=[nb.FAMILY_WEIGHTS[f] for f in FAMILIES])[0]
        kind = rng.choice(FORWARDED) if family == "intro_forward" else family
        company, contact, company_id = self.first_contact_sender(kind)
        reg = company.registrations[0]
        slots = self.first_contact_slots(company, reg, midnight, priced=kind == "buyer")
        forward_by = None
        notes = None
        if family == "intro_forward":
            if rng.random() < 0.5:
                forward_by, notes = contact, nb.FORWARD_NOTES["resend"]
            else:
                # a customer passes on a friend's introduction: the mail comes from the customer
                referrer = self.pick_company()
                forward_by, notes = rng.choice(referrer.contacts), nb.FORWARD_NOTES["referral"]
                company_id = referrer.company_id
        attachments = None
        if kind == "vendor_registration" and rng.random() < 0.35:
            lines = [company.name, reg.address, f"GSTIN: {reg.gstin}", f"PAN: {company.pan}"]
            lines.append(f"Udyam: {slots.extra['udyam']}")
            name = rng.choice(("Vendor_Registration_Form.pdf", "Vendor Form.pdf", "KYC.pdf"))
            attachments = [(name, tiny_pdf("VENDOR REGISTRATION", lines), "application/pdf")]
        elif kind in ("distributorship", "agency", "tie_up") and rng.random() < 0.2:
            profile = tiny_pdf("COMPANY PROFILE", [company.name, reg.address, reg.city])
            attachments = [("Company_Profile.pdf", profile, "application/pdf")]
        room.customer_mail(
            intent="new_business",
            when=room.business_time(midnight),
            company=company,
            contact=contact,
            reg=reg,
            slots=slots,
            company_id=company_id,
            attachments=attachments,
            family=family,
            kind=kind,
            forward_by=forward_by,
            forward_notes=notes,
        )

    def master_names_and_domains(self) -> set[str]:
        """Names and own mail domains of the customer master (free mail excluded)."""
        if self._master_taken is None:
            self._master_taken = {c.name for c in self.companies} | {
                c.domain for c in self.companies if c.domain not in masters.FREE_MAIL
            }
        return self._master_taken

    def first_contact_sender(
        self, kind: str
    ) -> tuple[masters.Company, masters.Contact, str | None]:
        """The writer of a first contact of `kind`, their company, and its id (None outside
        the customer master)."""
        rng = self.rng_mail
        if kind == "buyer" and rng.random() < 0.15:
            # a customer's new plant or new buyer introduces itself
            company = self.pick_company()
            buyers = [c for c in company.contacts if c.role == "purchase"]
            return company, rng.choice(buyers or company.contacts), company.company_id
        # a first contact is not a customer already: neither its name nor its mail domain
        taken = self.master_names_and_domains()
        for _ in range(20):
            ident = masters.make_identity(rng)
            if kind == "vendor_registration":
                _as_supplier(rng, ident)
            if ident.name not in taken and ident.domain not in taken:
                break
        else:  # a very large world: make it distinct
            ident.name = f"New {ident.name}"
            ident.domain = f"new{ident.domain}"
        if kind == "unknown_company" and rng.random() < 0.6:
            ident.domain = rng.choice(masters.FREE_MAIL)
        role = "owner" if rng.random() < 0.5 else "purchase"
        contact = masters.make_contact(rng, ident, "", "", role, set())
        if role != "owner" and kind in ("distributorship", "agency", "tie_up"):
            contact.designation = rng.choice(BD_DESIGNATIONS)
        elif role != "owner" and kind == "vendor_registration":
            contact.designation = rng.choice(SUPPLIER_DESIGNATIONS)
        company = _company(ident)
        company.contacts.append(contact)
        return company, contact, None

    def first_contact_slots(
        self,
        company: masters.Company,
        reg: masters.Registration,
        midnight: datetime,
        priced: bool,
    ) -> Slots:
        """What a first contact may mention: products, identifiers, region, how they found us.

        Only a buyer's mail may quote today's rate; the others carry the list price unused.
        """
        rng = self.rng_mail
        codes = rng.sample(
            company.products, k=min(len(company.products), rng.choices((1, 2, 3), (60, 28, 12))[0])
        )
        day = midnight.date()
        items = [
            Item(
                p,
                pick_pack_count(rng, p) * p.pack_size_kg,
                self.rate(p, day) if priced else p.base_price_per_kg,
            )
            for p in map(product_by_code, codes)
        ]
        gstin_valid = rng.random() > 0.1
        gstin = reg.gstin if gstin_valid else identity.mistype_gstin(rng, reg.gstin)
        udyam = f"UDYAM-{reg.state.cin_code}-{rng.randint(1, 40):02d}-{rng.randrange(10**7):07d}"
        return Slots(
            items=items,
            city=reg.city,
            company=company.name,
            industry=company.industry,
            gstin=(gstin, gstin_valid),
            pan=company.pan,
            days=str(rng.choice((3, 5, 7, 10, 15))),
            extra={
                "region": rng.choice(nb.REGIONS),
                "udyam": udyam,
                "principal": rng.choice(nb.PRINCIPALS),
                "source": rng.choice(nb.SOURCES),
                "since": str(rng.randint(1988, 2022)),
                "line": rng.choice(nb.FOREIGN_LINES),
            },
        )
