"""Customer masters of the demo world: company groups, companies (with GSTINs per state) and contacts.

Masters are held in memory while the world is generated (mail and orders pick customers from
them); everything proportional to time (orders, mail) is streamed instead.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from demo.world import identity as idn

DESIGNATIONS = {
    "purchase": (
        "Purchase Manager",
        "Sr. Purchase Executive",
        "Purchase Executive",
        "Head - Procurement",
        "Purchase Officer",
        "Manager - Purchase & Stores",
    ),
    "accounts": ("Accounts Manager", "Accounts Executive", "Finance Manager", "Accountant", "CFO"),
    "qc": (
        "QC Manager",
        "QA/QC Executive",
        "Head - Quality",
        "Lab In-charge",
        "Quality Assurance Officer",
    ),
    "owner": ("Director", "Managing Director", "Partner", "Proprietor", "CEO"),
    "production": ("Production Manager", "Plant Head", "Store In-charge", "Works Manager"),
}
FREE_MAIL = ("gmail.com", "yahoo.co.in", "rediffmail.com", "gmail.com", "hotmail.com", "yahoo.com")
LEGAL_FORMS = (
    # (suffix variants, PAN holder type, CIN type or None, weight)
    (("Pvt Ltd", "Private Limited", "Pvt. Ltd."), "C", "PTC", 50),
    (("Limited", "Ltd"), "C", "PLC", 8),
    (("LLP",), "F", None, 8),
    (("& Co.", "Enterprises", "Traders", "Corporation"), "F", None, 14),
    (("", "Industries", "Enterprises"), "P", None, 20),
)


@dataclass(slots=True)
class Contact:
    """A person at a customer who writes to us."""

    contact_id: str
    company_id: str
    name: str
    email: str
    phone: str
    designation: str
    role: str


@dataclass(slots=True)
class Registration:
    """One GST registration of a company (one state)."""

    gstin: str
    state: idn.State
    city: str
    address: str


@dataclass(slots=True)
class Company:
    """A customer company with its registrations, contacts and buying habits."""

    company_id: str
    name: str
    group_id: str | None
    pan: str
    cin: str | None
    industry: str
    domain: str
    registrations: list[Registration]
    contacts: list[Contact] = field(default_factory=list)
    products: tuple[str, ...] = ()
    weight: float = 1.0

    def record(self) -> dict[str, object]:
        """The companies.jsonl record (key order fixed)."""
        return {
            "company_id": self.company_id,
            "name": self.name,
            "group_id": self.group_id,
            "pan": self.pan,
            "cin": self.cin,
            "industry": self.industry,
            "domain": self.domain,
            "gstins": [
                {
                    "gstin": r.gstin,
                    "state_code": r.state.gst_code,
                    "state": r.state.name,
                    "city": r.city,
                    "address": r.address,
                }
                for r in self.registrations
            ],
        }


def contact_record(c: Contact) -> dict[str, object]:
    """The contacts.jsonl record (key order fixed)."""
    return {
        "contact_id": c.contact_id,
        "company_id": c.company_id,
        "name": c.name,
        "email": c.email,
        "phone": c.phone,
        "designation": c.designation,
    }


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass(slots=True)
class Identity:
    """A business identity (customer or prospect) before contacts are attached."""

    name: str
    pan: str
    cin: str | None
    industry: str
    domain: str
    registrations: list[Registration]
    products: tuple[str, ...]
    owner: tuple[str, str]


def make_identity(
    rng: random.Random, stem: str | None = None, multi_state: float = 0.12
) -> Identity:
    """A fresh business identity: legal name, PAN, CIN where a company, GSTINs per state."""
    industry = rng.choice(idn.INDUSTRY_NAMES)
    words, nic, products = idn.INDUSTRIES[industry]
    suffixes, holder, cin_kind, _ = rng.choices(LEGAL_FORMS, weights=[f[3] for f in LEGAL_FORMS])[0]
    owner = idn.person_name(rng)
    if stem is None:
        stem = owner[1] if rng.random() < 0.25 else rng.choice(idn.NAME_STEMS)
    suffix = rng.choice(suffixes)
    name = " ".join(part for part in (stem, rng.choice(words), suffix) if part)
    initial = (owner[1] if holder == "P" else name)[0].upper()
    pan = idn.make_pan(rng, holder, initial)
    home = idn.weighted_state(rng)
    states = [home]
    if rng.random() < multi_state:
        for _ in range(rng.randint(1, 3)):
            s = idn.weighted_state(rng)
            if s not in states:
                states.append(s)
    registrations = []
    for st in states:
        city = rng.choice(st.cities)
        registrations.append(
            Registration(idn.make_gstin(pan, st.gst_code), st, city, idn.address(rng, city, st))
        )
    cin = None
    if cin_kind is not None:
        listed = cin_kind == "PLC" and rng.random() < 0.5
        cin = idn.make_cin(rng, listed, nic, home, rng.randint(1972, 2022), cin_kind)
    if holder == "P" and rng.random() < 0.6:
        domain = rng.choice(FREE_MAIL)
    else:
        base = _slug(" ".join(name.split()[:2]))[:18]
        domain = base + rng.choice((".com", ".in", ".co.in", ".com", ".net"))
    prefs = tuple(rng.sample(products, k=min(len(products), rng.randint(2, 5))))
    return Identity(name, pan, cin, industry, domain, registrations, prefs, owner)


def make_contact(
    rng: random.Random, ident: Identity, company_id: str, contact_id: str, role: str, used: set[str]
) -> Contact:
    """A contact of `ident` in `role`, with an email address unique within `used`."""
    first, last = idn.person_name(rng)
    if role == "owner":
        first, last = ident.owner
    designation = rng.choice(DESIGNATIONS[role])
    if ident.domain in FREE_MAIL:
        local = rng.choice(
            (f"{first}.{last}", f"{first}{last}{rng.randint(1, 99)}", f"{first[0]}{last}")
        )
    elif rng.random() < 0.15 and role in ("purchase", "accounts", "qc"):
        local = {"purchase": "purchase", "accounts": "accounts", "qc": "qc"}[role]
    else:
        local = rng.choice(
            (f"{first}.{last}", f"{first}", f"{first[0]}{last}", f"{first}{last[0]}")
        )
    local = local.lower().replace(" ", "")
    email = f"{local}@{ident.domain}"
    n = 2
    while email in used:
        email = f"{local}{n}@{ident.domain}"
        n += 1
    used.add(email)
    return Contact(
        contact_id, company_id, f"{first} {last}", email, idn.mobile(rng), designation, role
    )


def generate_masters(
    rng: random.Random, n_companies: int, n_groups: int
) -> tuple[list[dict[str, str]], list[Company]]:
    """Groups and companies with their contacts (about three per company)."""
    groups = []
    group_stems = rng.sample(idn.NAME_STEMS, k=min(n_groups, len(idn.NAME_STEMS)))
    for i in range(n_groups):
        stem = group_stems[i % len(group_stems)]
        if i >= len(group_stems):
            stem = f"{stem} {idn.LAST_NAMES[i % len(idn.LAST_NAMES)]}"
        groups.append({"group_id": f"G{i + 1:04d}", "name": f"{stem} Group"})
    companies: list[Company] = []
    used_emails: set[str] = set()
    used_names: set[str] = set()
    contact_seq = 0
    for i in range(n_companies):
        group = None
        stem = None
        if groups and rng.random() < 0.1:
            group = rng.choice(groups)
            stem = group["name"].removesuffix(" Group")
        ident = make_identity(rng, stem=stem)
        while ident.name in used_names:
            ident = make_identity(rng, stem=stem)
        used_names.add(ident.name)
        cid = f"C{i + 1:05d}"
        company = Company(
            company_id=cid,
            name=ident.name,
            group_id=group["group_id"] if group else None,
            pan=ident.pan,
            cin=ident.cin,
            industry=ident.industry,
            domain=ident.domain,
            registrations=ident.registrations,
            products=ident.products,
            # a few large buyers place most orders, as in any trading book
            weight=rng.paretovariate(1.5),
        )
        roles = ["purchase"]
        extra = rng.choices((1, 2, 3, 4), weights=(35, 40, 20, 5))[0]
        roles += rng.choices(
            ("purchase", "accounts", "qc", "owner", "production"),
            weights=(25, 25, 18, 18, 14),
            k=extra,
        )
        for role in roles:
            contact_seq += 1
            company.contacts.append(
                make_contact(rng, ident, cid, f"P{contact_seq:06d}", role, used_emails)
            )
        companies.append(company)
    return groups, companies
