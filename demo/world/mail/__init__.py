"""Demo mail: composing messages with ground truth, and writing Maildir + mbox as they come.

A message is composed from independent parts (greeting, intent phrasing, product, quantity
and price mentions, identifiers, closing, signature), so that phrasing, slot values and
layout vary independently. Every entity the composer writes into the subject or the
sender's own text is recorded with its exact surface string; quoted or forwarded history
is never counted (see docs/world-format.md).

The parts: `compose` (slots, templates, the sender's noise), `render` (MIME, Maildir and
mbox, the shared plumbing), `customer` (customer mail and its threads), `automatic`
(auto-replies and bounces), `bulk` (newsletters, spam, tender alerts).
"""

from __future__ import annotations

from demo.world.mail.bulk import BulkMail
from demo.world.mail.compose import (
    IST,
    MAILBOXES,
    OUR_COMPANY,
    OUR_DOMAIN,
    OUR_GSTIN,
    STREAM_OF,
    Composer,
    Draft,
    Item,
    Slots,
    fillable,
    pick,
)
from demo.world.mail.customer import CustomerMail
from demo.world.mail.render import MailWriter, Outgoing, text_to_html


class Mailroom(CustomerMail, BulkMail):
    """Composes every kind of demo message and releases them in date order.

    Messages may be composed ahead of their date (a reply due tomorrow); they wait in a
    heap that only ever holds the next few days, so memory stays bounded at any scale.
    """


__all__ = [
    "IST",
    "MAILBOXES",
    "OUR_COMPANY",
    "OUR_DOMAIN",
    "OUR_GSTIN",
    "STREAM_OF",
    "Composer",
    "Draft",
    "Item",
    "MailWriter",
    "Mailroom",
    "Outgoing",
    "Slots",
    "fillable",
    "pick",
    "text_to_html",
]
