"""The offline router: a question in plain words -> the tool calls that answer it, without
an LLM.

The entity extractor (:mod:`ml.extract`, over the stock master with its Tally aliases, as
mail is read) finds what the question names: GSTIN, PAN, CIN, order and invoice numbers,
products (``TiO2`` -> ``Titanium Dioxide Rutile``) and quantities. What is left once those,
the cue words and the filler words are taken out names the company ("for Sandhu
Plastics"), searched as the Company 360 search box does. A Focus customer code (``C00243``)
or a company key (``pan:AAACB1234C``) counts as a company too.

Which tool: cue words, the write verbs first ("create a task", "move deal") so a question
about tasks is never read as a read, then batch, waiting cards, receivables, prices, stock,
orders, and a bare company. A question with no cue word goes to the mail classifier
(:mod:`ml.classifier`, when a model has been trained): its intent picks the read tool
(:data:`INTENT_TOOLS`, e.g. ``invoice_payment`` -> receivables), never a write. Only the user's own question is routed: nothing a tool returns
is ever read back as an instruction.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ml.assistant.write_tools import DEFAULT_STAGES


@dataclass
class Route:
    """The tool calls for a question, or why none (``clarify``)."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    clarify: str | None = None


_WRITE_TASK = re.compile(
    r"^\s*(?:please\s+)?(?:create|add|make|open|new|set\s+up)\s+(?:a\s+|an\s+|new\s+)?"
    r"(?:follow[- ]up\s+)?task\b|^\s*(?:please\s+)?remind\s+me\b",
    re.I,
)
_WRITE_DEAL = re.compile(r"^\s*(?:please\s+)?(?:move|shift|advance|put)\b.*\bdeal\b", re.I)
_BATCH = re.compile(
    r"\bbatch(?:\s+(?:no\.?|number|#))?\s*[:#]?\s*([A-Za-z0-9][A-Za-z0-9/\-]{2,40})", re.I
)
_CUSTOMER_CODE = re.compile(r"\b[A-Z]{1,3}\d{3,8}\b")
_COMPANY_KEY = re.compile(r"\b(?:pan|gstin|name|group|focus|tally|prelead):[A-Za-z0-9@._\-]+", re.I)
_DEAL_ID = re.compile(r"\b(deal[:\-][A-Za-z0-9\-_]+)", re.I)
_DOMAIN = re.compile(r"\b[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.(?:com|in|co\.in|net|org|biz|info)\b", re.I)

CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("qc_batch", re.compile(r"\b(?:batch|qc|coa|quality|test results?|lab)\b", re.I)),
    ("waiting_cards", re.compile(r"\bwaiting\b|\bawaiting\b|\bpending reply\b", re.I)),
    ("receivables", re.compile(
        r"\b(?:receivables?|outstanding|overdue|dues?|owes?|owing|unpaid|payments?|invoices?"
        r"|ageing|aging|baki|udhaar)\b", re.I)),
    ("last_prices", re.compile(r"\b(?:prices?|rates?|bhav|quoted|last\s+sold|charged?)\b", re.I)),
    ("stock", re.compile(
        r"\b(?:stock|inventory|on\s+hand|available|availability|godown|maal|how\s+much)\b", re.I)),
    ("open_orders", re.compile(r"\b(?:orders?|SO|POs?|dispatch(?:es|ed)?)\b", re.I)),
    ("find_company", re.compile(r"\b(?:find|who\s+is|look\s*up|search|company|gstin|pan|cin)\b", re.I)),
)  # fmt: skip
#: Words that ask, not name: taken out before the rest is read as a company name.
FILLER = frozenset(
    """a an and any are about all as at by can could details do does for from get give have
    has how i in info information is it its last latest list lookup look me much many my of
    on our open pending please pls show status tell the their them there this to up us was we
    what whats what's which who whom with you your kitna kya hai ka ki ke batao dikhao
    customer customers company party find search who current currently still totals total
    results result sold selling recent
    """.split()
) | frozenset(
    "stock inventory hand available availability godown maal orders order so po pos dispatch "
    "dispatches dispatched receivable receivables outstanding overdue due dues owe owes owing "
    "unpaid payment payments invoice invoices ageing aging baki udhaar price prices rate rates "
    "bhav quoted charged charge cards card waiting awaiting reply replies mail mails qc coa "
    "quality test lab batch gstin pan cin".split()
)
#: The read tool a mail intent asks for (the classifier's labels, ml.taxonomy).
INTENT_TOOLS: dict[str, str] = {
    "price_enquiry": "last_prices",
    "purchase_order": "open_orders",
    "order_status": "open_orders",
    "invoice_payment": "receivables",
    "coa_request": "qc_batch",
    "quality_complaint": "qc_batch",
}
#: The classifier's confidence an intent needs to pick a tool.
MIN_INTENT_CONFIDENCE = 0.5
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def _spans_removed(text: str, spans: list[tuple[int, int]]) -> str:
    out, last = [], 0
    for start, end in sorted(spans):
        if start >= last:
            out.append(text[last:start])
            out.append(" ")
            last = end
    out.append(text[last:])
    return "".join(out)


def company_words(text: str) -> str:
    """What is left of ``text`` once filler and cue words are out: a company's name, or ''."""
    words = re.findall(r"[A-Za-z0-9&.'\-]+", text)
    kept = [w for w in words if w.lower().strip(".'") not in FILLER]
    rest = " ".join(kept).strip(" .'-")
    return rest if len(re.sub(r"[^A-Za-z]", "", rest)) >= 3 else ""


def due_day(text: str, today: date) -> date:
    """The day a task is due, from the question: an ISO date, today, tomorrow, a weekday
    (the next one), "in N days"; tomorrow when it says none."""
    lowered = text.lower()
    m = _ISO_DATE.search(text)
    if m:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            pass
    if re.search(r"\btoday\b|\baaj\b", lowered):
        return today
    m = re.search(r"\bin\s+(\d{1,3})\s+days?\b", lowered)
    if m:
        return today + timedelta(days=int(m.group(1)))
    if re.search(r"\bnext\s+week\b", lowered):
        return today + timedelta(days=7)
    for n, name in enumerate(_WEEKDAYS):
        if re.search(rf"\b{name}\b", lowered):
            ahead = (n - today.weekday()) % 7 or 7
            return today + timedelta(days=ahead)
    return today + timedelta(days=1)


def _task_title(text: str) -> str:
    title = _WRITE_TASK.sub("", text, count=1)
    title = re.sub(r"^\s*(?:to|:|-|that|for\s+me\s+to)\s+", "", title, flags=re.I)
    title = _ISO_DATE.sub("", title)
    title = re.sub(
        r"\b(?:due|by|on)?\s*(?:today|tomorrow|next\s+week|in\s+\d{1,3}\s+days?|"
        + "|".join(_WEEKDAYS)
        + r")\b",
        "",
        title,
        flags=re.I,
    )
    title = re.sub(r"\s+(?:due|by|on)\s*$", "", title.strip(), flags=re.I)
    return " ".join(title.split()).strip(" .,:;-") or "Follow up"


class Router:
    """Routes questions with the entity extractor over one stock master."""

    def __init__(
        self,
        products: tuple[Any, ...] = (),
        intent_of: Callable[[str], tuple[str, float] | None] | None = None,
    ) -> None:
        from ml.extract import get_extractor

        self.products = products
        self.extractor = get_extractor(products)
        #: (intent, confidence) of a question, or None: the trained mail classifier.
        self.intent_of = intent_of if intent_of is not None else classifier_intent

    def route(self, question: str, *, today: date | None = None) -> Route:
        question = " ".join((question or "").split())[:1000]
        if not question:
            return Route(clarify="Ask a question, e.g. 'stock of <product>'.")
        today = today or date.today()
        entities = self.extractor.extract(question, include_quoted=True)
        batch = _BATCH.search(question)
        found: dict[str, list[Any]] = {}
        for e in entities:
            found.setdefault(e.label, []).append(e)
        spans = [(e.start, e.end) for e in entities]
        company = self._company(question, found, spans)

        if _WRITE_TASK.search(question):
            args: dict[str, Any] = {
                "title": _task_title(question),
                "due_on": due_day(question, today).isoformat(),
            }
            if company:
                args["company"] = company
            return Route([("create_task", args)])
        if _WRITE_DEAL.search(question):
            stage = next(
                (s for s in DEFAULT_STAGES if re.search(rf"\b{s.replace('_', '[ _]')}\b", question, re.I)),
                None,
            )  # fmt: skip
            m = re.search(r"\bto\s+([a-z_ ]+?)\s*$", question, re.I)
            stage = stage or (m.group(1).strip().replace(" ", "_").lower() if m else None)
            if not stage:
                return Route(clarify="Which stage should the deal move to?")
            deal = _DEAL_ID.search(question)
            args = {"to": stage}
            if deal:
                args["deal"] = deal.group(1)
            elif company:
                args["company"] = company
            else:
                return Route(clarify="Which deal? Name its id or its company.")
            return Route([("move_deal", args)])

        products = [str(e.value) for e in found.get("PRODUCT", []) if e.value]
        orders = [str(e.value) for e in found.get("ORDER_NO", []) if e.value]
        tool = next((name for name, cue in CUES if cue.search(question)), None)
        if tool is None and not batch:
            guess = self.intent_of(question)
            if guess and guess[1] >= MIN_INTENT_CONFIDENCE:
                tool = INTENT_TOOLS.get(guess[0])
        if batch and (tool == "qc_batch" or tool is None or "batch" in question.lower()):
            return Route([("qc_batch", {"batch_no": batch.group(1)})])
        if tool == "qc_batch":
            return Route(clarify="Which batch? Ask e.g. 'QC results of batch <batch no>'.")
        if tool == "waiting_cards":
            return Route([("waiting_cards", {"company": company} if company else {})])
        if tool in ("receivables", "last_prices", "open_orders") and not company:
            what = {"receivables": "receivables", "last_prices": "last prices",
                    "open_orders": "open orders"}[tool]  # fmt: skip
            if tool == "last_prices" and products:
                return Route([("stock", {"product": products[0]})])
            return Route(clarify=f"Whose {what}? Name the company (name, code or GSTIN).")
        if tool == "receivables":
            return Route([("receivables", {"company": company})])
        if tool == "last_prices":
            args = {"company": company}
            if products:
                args["product"] = products[0]
            return Route([("last_prices", args)])
        if tool == "stock" or (tool is None and products and not company):
            if not products:
                return Route(clarify="Which product? Ask e.g. 'stock of <product>'.")
            return Route([("stock", {"product": p}) for p in dict.fromkeys(products)])
        if tool == "open_orders" or orders:
            if not company:
                return Route(clarify="Whose orders? Name the company (name, code or GSTIN).")
            args = {"company": company}
            if orders:
                args["order_no"] = orders[0]
            return Route([("open_orders", args)])
        if company:
            return Route([("find_company", {"query": company})])
        return Route(
            clarify="I can answer about companies, open orders, receivables, last prices, "
            "stock, cards waiting on a customer and QC batches, and create tasks or move deals."
        )

    def _company(
        self, question: str, found: dict[str, list[Any]], spans: list[tuple[int, int]]
    ) -> str | None:
        for label in ("GSTIN", "PAN", "CIN"):
            if found.get(label):
                return str(found[label][0].value)
        key = _COMPANY_KEY.search(question)
        if key:
            return key.group(0)
        code = next(
            (m.group(0) for m in _CUSTOMER_CODE.finditer(question)
             if not any(s <= m.start() < e for s, e in spans)),
            None,
        )  # fmt: skip
        if code:
            return code
        domain = _DOMAIN.search(question)
        if domain:
            return domain.group(0).lower()
        rest = _spans_removed(question, spans)
        rest = _BATCH.sub(" ", rest)
        rest = _DEAL_ID.sub(" ", rest)
        rest = _ISO_DATE.sub(" ", rest)
        # a task's or deal's own words are not a company: the name follows "for|about|with|of"
        if _WRITE_TASK.search(question) or _WRITE_DEAL.search(question):
            m = re.search(r"\b(?:for|about|with|of|from|call|ring|email|mail)\s+(.+)$", rest, re.I)
            if not m:
                return None
            rest = re.sub(r"\b(?:to|deal|stage|task)\b.*$", "", m.group(1), flags=re.I)
            rest = re.sub(
                r"\b(?:about|regarding|re|today|tomorrow|next|week|by|on|due|in)\b.*$", "", rest,
                flags=re.I,
            )  # fmt: skip
        words = company_words(rest)
        return words or None


def classifier_intent(question: str) -> tuple[str, float] | None:
    """The trained mail classifier's intent for ``question`` and its confidence; None when
    no model has been trained (or it cannot be loaded)."""
    try:
        from ml.classifier import load_classifier

        (found,) = load_classifier().classify([("", question)])
    except Exception:  # no trained model here: the cue words alone route
        return None
    return found.intent, found.confidence
