"""Who sees what of a company on the Company 360 page: the one policy the query layer
(``app.company.queries``) enforces and the page's tabs follow.

Every role may open the page and find a company; what each sees of it:

- marketing: overview, contacts, orders, activity;
- sales: everything, mail only of the crm and tender streams;
- ops: everything, mail only of the erp stream;
- qc: overview, contacts, orders, QC and complaints, activity;
- manager and admin: everything, every stream.

- **mail** (emails and cards) shows only the cards of the role's streams
  (:data:`pebble.roles.ROLE_STREAMS`, the same rule as the Kanban and the card page): sales
  never sees an erp card, ops never a crm one. Marketing and qc see no mail at all: no
  subject, no snippet, no card; quoted prices found in mail follow the same streams.
- **receivables** (invoices, outstanding, overdue) and **prices** (last prices, quoted
  prices) are money: sales, ops, manager and admin. Where a role lacks receivables, the
  overview's risk score shows its total and its non-money inputs (QC complaints, GSTIN
  issues) only; the overdue amount, overdue invoices and payment days are withheld.
- **qc**: QC batches, out-of-spec results, QC alerts and complaints. Complaint *cards* are
  mail: sales/ops/manager/admin see those of their streams with subject and link; qc sees
  that a complaint card exists (when, status) without its subject.
- **activity** is the timeline from ``marts.activity_stream``, cut to the event kinds of
  the sections the role sees (mail events only for cards of its streams; orders; invoices
  and payments; QC; prelead decisions for marketing, manager and admin; company merges
  for everyone).

The query functions check this themselves (:func:`require_section` raises
:class:`pebble.auth.NotAllowed`), so hiding a tab is never the guard.
"""

from __future__ import annotations

from dataclasses import dataclass

from pebble.auth import NotAllowed, User
from pebble.roles import ROLE_STREAMS, ROLES

#: The page's tabs, in order.
SECTIONS: tuple[str, ...] = (
    "overview",
    "contacts",
    "mail",
    "orders",
    "receivables",
    "prices",
    "qc",
    "activity",
)
SECTION_TITLES: dict[str, str] = {
    "overview": "Overview",
    "contacts": "Contacts",
    "mail": "Emails and cards",
    "orders": "Orders",
    "receivables": "Invoices and receivables",
    "prices": "Prices",
    "qc": "QC and complaints",
    "activity": "Activity",
}

ROLE_SECTIONS: dict[str, tuple[str, ...]] = {
    "marketing": ("overview", "contacts", "orders", "activity"),
    "sales": SECTIONS,
    "ops": SECTIONS,
    "qc": ("overview", "contacts", "orders", "qc", "activity"),
    "manager": SECTIONS,
    "admin": SECTIONS,
}
#: Roles that see prelead events (lead lists and their decisions) in the timeline.
PRELEAD_ROLES: tuple[str, ...] = ("marketing", "manager", "admin")
#: Every role opens the page.
PAGE_ROLES: tuple[str, ...] = ROLES

if set(ROLE_SECTIONS) != set(ROLES):
    raise RuntimeError("every role needs its company sections")

#: activity_stream event types by the section that must be visible to see them.
EVENT_SECTIONS: dict[str, str] = {
    "EmailReceived": "mail",
    "EmailClassified": "mail",
    "EntitiesExtracted": "mail",
    "CardMoved": "mail",
    "CardAssigned": "mail",
    "CardReclassified": "mail",
    "ReplyDrafted": "mail",
    "ReplySent": "mail",
    "OrderPlaced": "orders",
    "OrderDispatched": "orders",
    "InvoiceRaised": "receivables",
    "PaymentReceived": "receivables",
    "QCResultRecorded": "qc",
    "COAIssued": "qc",
}
PRELEAD_EVENTS: tuple[str, ...] = (
    "PreleadLoaded",
    "PreleadApproved",
    "PreleadRejected",
    "PreleadMerged",
)
COMPANY_EVENTS: tuple[str, ...] = ("CompanyMerged", "CompanySplit")


@dataclass(frozen=True)
class Access:
    """What one role sees of a company."""

    role: str
    sections: tuple[str, ...]
    #: The mail streams whose cards (and mail-derived facts) the role sees; () for none.
    card_streams: tuple[str, ...]

    def sees(self, section: str) -> bool:
        return section in self.sections

    @property
    def money(self) -> bool:
        """Receivables and the risk inputs made of them."""
        return self.sees("receivables")

    @property
    def complaint_subjects(self) -> bool:
        """Complaint cards with their subject (else only that they exist)."""
        return self.sees("mail")

    def event_types(self) -> tuple[str, ...]:
        """The activity_stream event types the role's timeline holds."""
        types = [t for t, section in EVENT_SECTIONS.items() if self.sees(section)]
        if self.role in PRELEAD_ROLES:
            types.extend(PRELEAD_EVENTS)
        types.extend(COMPANY_EVENTS)
        return tuple(types)


def access_for(user: User) -> Access:
    sections = ROLE_SECTIONS[user.role]
    streams = ROLE_STREAMS[user.role] if "mail" in sections else ()
    return Access(user.role, sections, tuple(streams))


def require_section(user: User | None, section: str) -> Access:
    """The user's access if their role sees ``section`` of a company, else NotAllowed."""
    if section not in SECTIONS:
        raise ValueError(f"unknown company section {section!r}")
    if user is None:
        raise NotAllowed("sign in to see a company")
    access = access_for(user)
    if not access.sees(section):
        raise NotAllowed(
            f"{user.name} signs in as {user.role}, which does not see a company's "
            f"{SECTION_TITLES[section].lower()}"
        )
    return access
