"""Reply drafts for price/availability enquiries and order-status mails.

`draft_reply(email, intent, grounding, llm)` writes the reply from the grounding's facts:
with an LLM writer the model writes the prose and `ml.drafts.verify.check_draft` verifies
every figure, link and payment detail in it against our records' facts; a draft that fails,
an LLM error or timeout, or no LLM at all gives the deterministic template instead. Both
only ever state grounded numbers and say plainly what is still to be confirmed. Other
intents get no draft (None).

The model never sees the customer's words outside the fenced, quoted mail: the facts it is
given and the plain draft it is shown leave out what came from the mail (the quantity asked
for, a reference quoted, the sender's name and subject line).

`requires_review` is set for every LLM draft, and otherwise when the confidence is below
`PEBBLE_REVIEW_THRESHOLD` (default 0.6), when a fact the reply needs is missing, when an
order quoted belongs to someone else, or when the LLM's draft was rejected.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ml.drafts import grounding as g
from ml.drafts.formatting import format_date, format_quantity, format_rate
from ml.drafts.grounding import Fact, Grounding
from ml.drafts.llm import LLMError, ReplyWriter, build_messages, check_draft

log = logging.getLogger(__name__)

SUPPORTED_INTENTS: tuple[str, ...] = ("price_enquiry", "order_status")
#: Share of confidence kept when the order was inferred (no reference in the mail).
INFERRED_ORDER_FACTOR = 0.6
#: Confidence when nothing ties the mail to a customer.
NO_COMPANY_WEIGHT = 0.5

_STATUS_WORDS: dict[str, str] = {
    "open": "is confirmed and under process; it has not been dispatched yet",
    "pending": "is confirmed and under process; it has not been dispatched yet",
    "confirmed": "is confirmed and under process; it has not been dispatched yet",
    "partly_dispatched": "has been partly dispatched",
    "partially_dispatched": "has been partly dispatched",
    "dispatched": "has been dispatched",
    "invoiced": "has been invoiced and dispatched",
    "delivered": "has been delivered",
    "closed": "is completed",
    "cancelled": "stands cancelled in our records",
    "on_hold": "is on hold at present",
}
_SHIPPED = {"partly_dispatched", "partially_dispatched", "dispatched", "invoiced", "delivered"}


@dataclass(frozen=True)
class Draft:
    """A reply draft with the facts it rests on.

    `source` is `"llm"` when the model's text passed the checks (such a draft always
    `requires_review`), else `"template"`;
    `rejected_reason` says why an LLM draft was not used (None when it was, or when no LLM
    was asked). `missing` lists what the reply needed but the warehouse did not have.
    """

    text: str
    facts: tuple[Fact, ...]
    confidence: float
    requires_review: bool
    source: Literal["llm", "template"]
    rejected_reason: str | None
    intent: str
    missing: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "facts": [f.to_dict() for f in self.facts],
            "confidence": self.confidence,
            "requires_review": self.requires_review,
            "source": self.source,
            "rejected_reason": self.rejected_reason,
            "intent": self.intent,
            "missing": list(self.missing),
            "notes": list(self.notes),
        }


def _review_threshold() -> float:
    from ml.settings import get_ml_settings

    return get_ml_settings().review_threshold


def _salutation(email: Mapping[str, Any]) -> str:
    name = " ".join(str(email.get("from_name") or "").replace('"', "").split())
    if name and not any(ch.isdigit() for ch in name) and "@" not in name and len(name) <= 40:
        return f"Dear {name},"
    return "Dear Sir/Madam,"


#: A subject worth echoing: words and light punctuation only (no digits, links or addresses).
_PLAIN_SUBJECT = re.compile(r"[A-Za-z][A-Za-z ,:;'&()?!\-]{0,79}")


def _subject_line(email: Mapping[str, Any]) -> str:
    subject = " ".join(str(email.get("subject") or "").split())
    if _PLAIN_SUBJECT.fullmatch(subject):
        return f'Thank you for your email regarding "{subject}".'
    return "Thank you for your email."


# -- price / availability ------------------------------------------------------------------


def _price_enquiry(
    grounding: Grounding, echo: bool = True
) -> tuple[list[str], list[Fact], list[str]]:
    """Paragraphs, facts used and facts missing for a price/availability reply. Without
    `echo`, nothing the customer wrote is repeated (the wording shown to an LLM)."""
    lines: list[str] = []
    used: list[Fact] = []
    missing: list[str] = []
    requested = grounding.of(g.REQUESTED_QTY)
    if not grounding.products:
        missing.append("the product asked about")
        lines.append(
            "Could you please confirm the product (with grade) and the quantity you require, "
            "so that we can send you our rate and availability."
        )
        return lines, used, missing
    if grounding.company is None:
        missing.append("the customer (for the customer's last rate)")
    single_request = requested[0] if len(requested) == 1 and len(grounding.products) == 1 else None
    for product in grounding.products:
        stock = grounding.first(g.STOCK, product)
        price = grounding.first(g.LAST_PRICE, product)
        parts: list[str] = []
        if stock is None:
            missing.append(f"stock of {product}")
            parts.append(
                f"We are checking the availability of {product} and will confirm it shortly."
            )
        elif _number(stock) <= 0:
            used.append(stock)
            parts.append(
                f"{product} is not in stock at present{_as_on(stock)}; "
                "we will let you know the expected availability shortly."
            )
        else:
            used.append(stock)
            have = f"We have {format_quantity(_number(stock), stock.unit)} of {product} in stock"
            stock_kg = _kg(stock)
            if single_request is not None and stock_kg is not None:
                used.append(single_request)
                want = f" of {format_quantity(_number(single_request), 'kg')}" if echo else ""
                if stock_kg >= _number(single_request):
                    parts.append(
                        f"{have}{_as_on(stock)}, so your requirement{want} can be supplied "
                        "from ready stock."
                    )
                else:
                    parts.append(
                        f"{have} at present{_as_on(stock)} against your requirement{want}; "
                        "we will confirm the schedule for the balance quantity shortly."
                    )
            else:
                parts.append(f"{have}{_as_on(stock)}.")
        if price is not None:
            used.append(price)
            basis = "invoiced" if "invoiced" in price.label else "agreed"
            doc = ""
            if price.ref:
                dated = f" dated {format_date(price.as_of)}" if price.as_of is not None else ""
                doc = f" ({_doc_word(price)} {price.ref}{dated})"
            parts.append(
                f"Our last {basis} rate to you for {product} was "
                f"{format_rate(_number(price), price.unit)}{doc}; "
                "we will confirm the current rate shortly."
            )
        else:
            if grounding.company is not None:
                missing.append(f"last rate of {product} for this customer")
            parts.append(f"We will confirm the rate for {product} shortly.")
        lines.append(" ".join(parts))
    return lines, used, missing


def _number(fact: Fact) -> float:
    """A numeric fact's value (0 for a fact without one)."""
    return float(fact.value) if isinstance(fact.value, int | float) else 0.0


def _as_on(fact: Fact) -> str:
    return f" (as on {format_date(fact.as_of)})" if fact.as_of is not None else ""


def _doc_word(fact: Fact) -> str:
    source = fact.source.lower()
    if "invoice" in source or "sales voucher" in source:
        return "invoice"
    if "quotation" in source:
        return "quotation"
    return "order"


def _kg(fact: Fact) -> float | None:
    from ml.extract.measures import MASS_UNITS

    factor = MASS_UNITS.get((fact.unit or "kg").strip().lower())
    if factor is None or not isinstance(fact.value, int | float):
        return None
    return float(fact.value) * factor


# -- order status -------------------------------------------------------------------------


def _order_status(
    grounding: Grounding, echo: bool = True
) -> tuple[list[str], list[Fact], list[str]]:
    """Paragraphs, facts used and facts missing for an order-status reply (see `echo` in
    `_price_enquiry`)."""
    lines: list[str] = []
    used: list[Fact] = []
    missing: list[str] = []
    for ref in grounding.of(g.UNRESOLVED_REF):
        used.append(ref)
        quoted = f"your reference {ref.value}" if echo else "the reference you quoted"
        lines.append(
            f"We could not find an order against {quoted} in our records; "
            "we are checking this and will revert shortly."
        )
        missing.append(f"an order for {'reference ' + str(ref.value) if echo else quoted}")
    shown = [o for o in grounding.orders if o not in grounding.order_mismatch]
    for doc_no in grounding.order_mismatch:
        missing.append(f"confirmation that {doc_no} is the customer's order")
        lines.append(
            f"We could not match order {doc_no} with your account; we are checking this "
            "and will revert shortly."
        )
    if not shown and not lines:
        missing.append("the order asked about")
        lines.append(
            "Could you please share our sales order number or your PO reference, so that we "
            "can check the status and share the dispatch details."
        )
    for doc_no in shown:
        status = grounding.first(g.ORDER_STATUS, doc_no)
        if status is None:
            missing.append(f"status of {doc_no}")
            continue
        used.append(status)
        po = grounding.first(g.ORDER_PO, doc_no)
        code = str(status.value or "unknown")
        words = _STATUS_WORDS.get(code, f"is marked '{code.replace('_', ' ')}' in our records")
        head = f"our order {doc_no}"
        if po is not None:
            used.append(po)
            head += f" (your PO {po.value})"
        if status.as_of is not None:
            head += f" dated {format_date(status.as_of)}"
        sentence = (
            f"We believe your query is about {head}, which {words}."
            if grounding.order_inferred
            else f"Please note that {head} {words}."
        )
        parts = [sentence]
        if code in _SHIPPED:
            invoices = grounding.of(g.INVOICE, doc_no)
            vehicles = grounding.of(g.VEHICLE, doc_no)
            lrs = grounding.of(g.LR, doc_no)
            for inv in invoices:
                used.append(inv)
                detail = f"Invoice {inv.value}"
                if inv.as_of is not None:
                    detail += f" dated {format_date(inv.as_of)}"
                vehicle = next((v for v in vehicles if v.ref == inv.ref), None)
                lr = next((x for x in lrs if x.ref == inv.ref), None)
                extras = []
                if vehicle is not None:
                    used.append(vehicle)
                    extras.append(f"vehicle no. {vehicle.value}")
                if lr is not None:
                    used.append(lr)
                    extras.append(f"LR no. {lr.value}")
                if extras:
                    detail += ": " + ", ".join(extras)
                parts.append(detail + ".")
            if not invoices:
                missing.append(f"invoice and dispatch details of {doc_no}")
            if not vehicles or not lrs:
                if invoices:
                    missing.append(f"vehicle/LR details of {doc_no}")
                parts.append("We will share the vehicle number and LR copy shortly.")
        elif code in ("open", "pending", "confirmed"):
            parts.append(
                "We will share the dispatch details (vehicle number and LR) as soon as "
                "the material is dispatched."
            )
        elif code == "cancelled":
            parts.append("Please let us know if you would like us to book the order afresh.")
        elif code not in _STATUS_WORDS:
            missing.append(f"a known status for {doc_no}")
        lines.append(" ".join(parts))
    return lines, used, missing


# -- assembling ---------------------------------------------------------------------------


def template_text(email: Mapping[str, Any], paragraphs: Iterable[str]) -> str:
    """The reply around `paragraphs`; an empty `email` gives the neutral greeting."""
    body = "\n\n".join(paragraphs)
    return (
        f"{_salutation(email)}\n\n{_subject_line(email)}\n\n{body}\n\n"
        "Please feel free to contact us for any further information.\n\n"
        "Warm regards,\nSales Team"
    )


def _confidence(intent: str, grounding: Grounding, used: list[Fact], missing: list[str]) -> float:
    weight = grounding.company.weight if grounding.company is not None else NO_COMPANY_WEIGHT
    needed = len({(f.kind, f.subject) for f in used}) + len(missing)
    coverage = 1.0 if needed == 0 else 1.0 - len(missing) / needed
    confidence = weight * coverage
    if intent == "order_status" and grounding.order_inferred:
        confidence *= INFERRED_ORDER_FACTOR
    if intent == "order_status" and grounding.order_mismatch:
        confidence = min(confidence, 0.3)
    return round(max(0.0, min(1.0, confidence)), 3)


def draft_reply(
    email: Mapping[str, Any],
    intent: str,
    grounding: Grounding,
    llm: ReplyWriter | None = None,
    *,
    threshold: float | None = None,
) -> Draft | None:
    """The reply draft for a price enquiry or order-status mail; None for other intents."""
    if intent == "price_enquiry":
        write = _price_enquiry
    elif intent == "order_status":
        write = _order_status
    else:
        return None
    paragraphs, used, missing = write(grounding)
    used = list(dict.fromkeys(used))
    text = template_text(email, paragraphs)
    confidence = _confidence(intent, grounding, used, missing)
    if threshold is None:
        threshold = _review_threshold()

    source: Literal["llm", "template"] = "template"
    rejected: str | None = None
    if llm is not None:
        # What the model is shown: our records' facts, in wording that repeats nothing
        # from the mail (the mail itself goes in as fenced, quoted data).
        guide, _, guide_missing = write(grounding, echo=False)
        try:
            messages = build_messages(email, used, guide_missing, template_text({}, guide))
            answer = llm.write(messages)
        except LLMError as exc:
            rejected = f"LLM unavailable: {exc}"
        except Exception as exc:  # a writer must never lose the draft
            rejected = f"LLM failed: {type(exc).__name__}"
        else:
            rejected = check_draft(answer, used, products=grounding.product_refs)
            if rejected is None:
                text, source = answer, "llm"
        if rejected:
            log.info("drafts: LLM draft not used (%s); template instead", rejected)

    mismatch = intent == "order_status" and bool(grounding.order_mismatch)
    requires_review = (
        source == "llm" or confidence < threshold or bool(missing) or mismatch or bool(rejected)
    )
    return Draft(
        text=text,
        facts=tuple(used),
        confidence=confidence,
        requires_review=requires_review,
        source=source,
        rejected_reason=rejected,
        intent=intent,
        missing=tuple(missing),
        notes=tuple(grounding.notes),
    )
