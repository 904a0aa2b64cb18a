"""Fields of a Notice Inviting Tender, read from its text by labelled rules.

Each rule finds a label a procurement portal or a PSU notice uses ("Bid Submission End
Date", "Earnest Money Deposit", "NIT No.") and reads the value after it. Invariants:
- every FieldValue's evidence is `text[start:end]` exactly;
- a field is returned only when its value parsed; nothing is guessed from defaults;
- labels tolerate OCR's usual slips (spacing, case, `:` vs `.`), values never get rewritten
  beyond normalisation (amount in rupees, ISO datetime in IST, unit code).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher
from typing import Any

from ml.tender.model import FieldValue
from ml.tender.parsing import find_amount, find_datetime, iso_ist

_SEP = r"[\s:.\-–=]*"


def _label(*alts: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alts) + r")" + _SEP, re.IGNORECASE)


def _line_end(text: str, pos: int) -> int:
    n = text.find("\n", pos)
    return len(text) if n < 0 else n


def _value_window(text: str, m: re.Match[str], lines: int = 1) -> tuple[int, int]:
    """From the label's end to the end of its line (and `lines - 1` more lines)."""
    end = m.end()
    for _ in range(lines):
        end = _line_end(text, end + (1 if end < len(text) and text[end] == "\n" else 0))
    return m.end(), end


def _fv(text: str, start: int, end: int, value: Any, confidence: float) -> FieldValue:
    while end > start and text[end - 1].isspace():
        end -= 1
    return FieldValue(value, text[start:end], start, end, confidence)


# --- identifiers and names ------------------------------------------------------------------

TENDER_NO = _label(
    r"Tender\s*Reference\s*(?:Number|No\.?)",
    r"Tender\s*Ref\.?\s*No\.?",
    r"NIT\s*No\.?",
    r"N\.I\.T\.\s*No\.?",
    r"Bid\s*(?:Number|No\.?)",
    r"Tender\s*(?:Number|No\.?|ID)",
    r"Enquiry\s*No\.?",
    r"RFQ\s*No\.?",
)
_TOKEN = re.compile(r"[A-Z0-9][A-Za-z0-9/_\-.()]*[A-Za-z0-9)]")


def _tender_no(text: str, base: float) -> FieldValue | None:
    for m in TENDER_NO.finditer(text):
        t = _TOKEN.match(text, m.end())
        if t and sum(c.isdigit() for c in t.group()) >= 2:
            return _fv(text, m.start(), t.end(), t.group(), base)
    return None


ORG_LABEL = _label(
    r"Organisation\s*Chain",
    r"Organi[sz]ation\s*Name",
    r"Name\s*of\s*(?:the\s*)?Organi[sz]ation",
    r"Buyer\s*Organi[sz]ation",
    r"Organi[sz]ation",
)
_INVITES = re.compile(
    r"^(?:The\s+)?(?P<org>[A-Z][\w&.,() -]{3,80}?)\s*(?:,\s*[\w ]+)?\s+(?:hereby\s+)?invites?\b",
    re.MULTILINE,
)


def _organisation(text: str, base: float) -> FieldValue | None:
    m = ORG_LABEL.search(text)
    if m:
        s, e = _value_window(text, m)
        value = re.split(r"\s*[|\[\]{}»]{1,3}\s*", text[s:e].strip())[0]
        value = value.strip(" ,;")
        if len(value) >= 3:
            return _fv(text, m.start(), s + text[s:e].index(value) + len(value), value, base)
    m = _INVITES.search(text)
    if m:
        org = m.group("org").strip()
        return _fv(text, m.start("org"), m.start("org") + len(org), org, base * 0.9)
    return None


# --- items ------------------------------------------------------------------------------------

_UNITS = {
    "MT": "MT",
    "M.T.": "MT",
    "M.T": "MT",
    "METRIC TON": "MT",
    "METRIC TONS": "MT",
    "METRIC TONNE": "MT",
    "METRIC TONNES": "MT",
    "TONNE": "MT",
    "TONNES": "MT",
    "TON": "MT",
    "TONS": "MT",
    "KG": "KG",
    "KGS": "KG",
    "KGS.": "KG",
    "KILOGRAM": "KG",
    "KILOGRAMS": "KG",
    "KL": "KL",
    "KILOLITRE": "KL",
    "KILOLITRES": "KL",
    "LTR": "L",
    "LTRS": "L",
    "LITRE": "L",
    "LITRES": "L",
    "NOS": "NOS",
    "NOS.": "NOS",
    "NO.": "NOS",
    "BAGS": "BAGS",
    "BAG": "BAGS",
    "DRUMS": "DRUMS",
    "DRUM": "DRUMS",
    "CANS": "CANS",
}
_UNIT_RE = "|".join(
    re.escape(u).replace(r"\ ", r"\s+") for u in sorted(_UNITS, key=len, reverse=True)
)
ITEM_ROW = re.compile(
    r"^[ \t]*(?:(?P<sl>\d{1,3})[.)]?[ \t]+|[^\sA-Za-z0-9]{1,2}[ \t]+)?(?P<desc>[A-Za-z][^\n]*)[ \t]+"
    rf"(?P<qty>\d{{1,3}}(?:,\d{{2,3}})+(?:\.\d+)?|\d+(?:\.\d+)?)[ \t:;,|'_-]*(?P<unit>{_UNIT_RE})(?![A-Za-z])",
    re.IGNORECASE | re.MULTILINE,
)
TABLE_HEAD = re.compile(
    r"^[^\n]*(?:Description|Item|Material|Particulars)[^\n]*(?:Qty|Quantity)[^\n]*$",
    re.IGNORECASE | re.MULTILINE,
)


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9%]+", " ", s.lower()).strip()


def match_product(description: str, products: Sequence[str]) -> str | None:
    """Our product whose name the description contains (the longest such name)."""
    d = f" {_norm(description)} "
    best = None
    for name in products:
        n = _norm(name)
        if n and f" {n} " in d and (best is None or len(n) > len(_norm(best))):
            best = name
    if best is None:  # an OCR slip ("Alurninium"): the closest name over the same length
        head = d.strip()
        scored = [
            (
                max(
                    SequenceMatcher(None, head[: len(n) + extra], n).ratio()
                    for extra in (-1, 0, 1, 2)
                ),
                name,
            )
            for name in products
            if (n := _norm(name))
        ]
        ratio, name = max(scored, default=(0.0, None))
        if ratio >= 0.9:
            best = name
    return best


def _clean_description(raw: str) -> str:
    """Collapse spaces and drop OCR crumbs (a misread serial number, a stray mark) at the ends."""
    words = raw.split()
    while (
        len(words) > 1 and len(words[0]) <= 2 and not words[0].isdigit() and not words[0].isupper()
    ):
        words.pop(0)
    while len(words) > 1 and len(words[0]) == 1:
        words.pop(0)
    while len(words) > 1 and len(words[-1]) <= 2 and not words[-1].isalnum():
        words.pop()
    while len(words) > 1 and len(words[-1]) == 1 and words[-1].islower():
        words.pop()
    return " ".join(words).strip(" .,;:-|")


def _items(text: str, products: Sequence[str], base: float) -> FieldValue | None:
    head = TABLE_HEAD.search(text)
    if not head:
        return None
    items: list[dict[str, Any]] = []
    start = end = None
    pos = head.end() + 1
    misses = 0
    while pos < len(text) and misses < 3:
        line_end = _line_end(text, pos)
        m = ITEM_ROW.match(text, pos, line_end)
        if m and m.end() <= line_end:
            desc = _clean_description(m.group("desc"))
            unit = _UNITS.get(re.sub(r"\s+", " ", m.group("unit")).upper())
            if unit:
                items.append(
                    {
                        "description": desc,
                        "quantity": float(m.group("qty").replace(",", "")),
                        "unit": unit,
                        "product": match_product(desc, products),
                    }
                )
                start = m.start("desc") if start is None else start
                end = m.end()
                misses = 0
        elif text[pos:line_end].strip():
            misses += 1
        pos = line_end + 1
        if items and not m and re.match(r"\s*(?:[A-Z][A-Za-z ]+:|Total\b)", text[pos:line_end]):
            break
    if not items or start is None or end is None:
        return None
    return _fv(text, start, end, items, base)


# --- money -----------------------------------------------------------------------------------

EST_LABEL = _label(
    r"Tender\s*Value(?:\s*in\s*(?:Rs\.?|₹|INR))?",
    r"Estimated\s*(?:Bid\s*)?(?:Cost|Value)(?:\s*of\s*(?:the\s*)?(?:work|tender|supply))?"
    r"(?:\s*\((?:Rs\.?|₹|INR)\))?",
    r"Approx(?:imate|\.)?\s*(?:Cost|Value)",
    r"Value\s*of\s*(?:the\s*)?(?:Tender|Work)",
)
EMD_LABEL = _label(
    r"EMD\s*Amount(?:\s*in\s*(?:Rs\.?|₹|INR))?",
    r"Earnest\s*Money\s*Deposit(?:\s*\(EMD\))?",
    r"Earnest\s*Money",
    r"\bEMD\b(?:\s*\((?:Rs\.?|₹|INR)\))?",
)
FEE_LABEL = _label(
    r"Tender\s*Fee(?:\s*in\s*(?:Rs\.?|₹|INR))?",
    r"Cost\s*of\s*(?:the\s*)?(?:Tender|Bid)\s*Document(?:s)?",
    r"(?:Tender\s*|Bid\s*)?Document\s*(?:Cost|Fee)",
    r"Tender\s*Document\s*(?:Fee|Cost|Price)",
    r"Tender\s*Processing\s*Fee",
)


def _money(text: str, label: re.Pattern[str], base: float) -> FieldValue | None:
    for m in label.finditer(text):
        s, e = _value_window(text, m)
        head = text[s : min(e, s + 60)]
        if re.match(r"\s*(?:NA|N\.A\.|Nil|Not\s+Applicable)\b", head, re.IGNORECASE):
            continue
        found = find_amount(text, s, min(e, s + 60))
        if found is not None and found.value > 0:
            return _fv(text, m.start(), found.end, float(found.value), base)
    return None


_EMD_FORMS = (
    ("exempt for MSME", re.compile(r"exempt", re.IGNORECASE)),
    ("bank guarantee", re.compile(r"bank\s*guarantee|\bBG\b", re.IGNORECASE)),
    ("DD", re.compile(r"demand\s*draft|\bD\.?D\.?\b|banker'?s\s*cheque", re.IGNORECASE)),
    ("online", re.compile(r"online|e-?payment|NEFT|RTGS|net\s*banking|portal", re.IGNORECASE)),
)
EMD_MODE_LABEL = _label(
    r"EMD\s*(?:Payment\s*)?Mode",
    r"Mode\s*of\s*(?:payment\s*of\s*)?EMD",
    r"EMD\s*(?:Payment\s*)?(?:Form|Instrument)",
    r"Earnest\s*Money\s*Deposit(?:\s*\(EMD\))?",
    r"\bEMD\b",
)


def _emd_form(text: str, base: float) -> FieldValue | None:
    for m in EMD_MODE_LABEL.finditer(text):
        s, e = _value_window(text, m)
        for name, rx in _EMD_FORMS:
            f = rx.search(text, s, e)
            if f:
                return _fv(text, m.start(), f.end(), name, base * 0.9)
    return None


# --- dates -----------------------------------------------------------------------------------

START_LABEL = _label(
    r"Bid\s*Submission\s*Start\s*Date(?:\s*(?:&|and)\s*Time)?",
    r"Bid\s*Start\s*Date\s*(?:/|&|and)?\s*Time",
    r"Bid\s*Start\s*Date",
    r"(?:Document\s*)?(?:Download|Sale)\s*(?:/\s*Sale\s*)?Start\s*Date",
    r"Date\s*of\s*(?:sale|issue)\s*(?:/\s*download\s*)?of\s*(?:bid|tender)\s*documents?\s*:?\s*from",
    r"(?:Start|Commencement)\s*(?:date\s*)?of\s*(?:bid\s*)?submission",
    r"Submission\s*of\s*bids?\s*from",
)
END_LABEL = _label(
    r"Bid\s*Submission\s*End\s*Date(?:\s*(?:&|and)\s*Time)?",
    r"Bid\s*End\s*Date\s*(?:/|&|and)?\s*Time",
    r"Bid\s*End\s*Date",
    r"Last\s*date\s*(?:and|&)?\s*(?:time\s*)?(?:for|of)\s*(?:online\s*)?(?:submission|receipt)"
    r"\s*of\s*(?:bids?|tenders?|offers?|quotations?)",
    r"Last\s*date\s*(?:and|&)?\s*(?:time\s*)?(?:for|of)\s*(?:submission|receipt)",
    r"Closing\s*date(?:\s*(?:and|&)\s*time)?",
    r"Due\s*date(?:\s*(?:and|&)\s*time)?\s*(?:of|for)\s*submission",
    r"Bid\s*Due\s*Date",
)
OPEN_LABEL = _label(
    r"Bid\s*Opening\s*Date\s*(?:/|&|and)?\s*(?:Time)?",
    r"Date\s*(?:and|&)?\s*(?:time\s*)?of\s*(?:the\s*)?opening\s*of\s*(?:technical\s*|techno-commercial\s*)?"
    r"(?:bids?|tenders?)",
    r"(?:Technical\s*)?Bids?\s*(?:will|shall)\s*be\s*opened\s*on",
    r"Opening\s*Date(?:\s*(?:&|and)\s*Time)?",
    r"Tender\s*Opening\s*Date",
)
PREBID_LABEL = _label(
    r"Pre[\s-]*Bid\s*Meeting\s*(?:Date)?(?:\s*(?:&|and)\s*Time)?(?:\s*(?:&|and)\s*(?:Venue|Place))?",
    r"Pre[\s-]*Bid\s*Date\s*(?:and|&)?\s*Time",
    r"Pre[\s-]*Bid\s*Conference",
)
VENUE_LABEL = _label(
    r"Pre[\s-]*Bid\s*(?:Meeting\s*)?(?:Place|Venue|Address)",
    r"Venue\s*(?:of|for)\s*(?:the\s*)?Pre[\s-]*Bid\s*(?:Meeting)?",
)


def _date_field(text: str, label: re.Pattern[str], base: float) -> tuple[FieldValue, Any] | None:
    for m in label.finditer(text):
        s, e = _value_window(text, m, lines=2)
        found = find_datetime(text, s, min(e, s + 90))
        if found is not None:
            return _fv(text, m.start(), found.end, iso_ist(found.value), base), found
    return None


def _pre_bid(text: str, base: float) -> FieldValue | None:
    got = _date_field(text, PREBID_LABEL, base)
    if got is None:
        return None
    fv, found = got
    venue = None
    end = fv.end
    v = VENUE_LABEL.search(text)
    if v:
        s, e = _value_window(text, v)
        venue = text[s:e].strip(" .,") or None
        if venue:
            end = max(end, s + text[s:e].index(venue) + len(venue))
    else:
        after = text[found.end : found.end + 200]
        inline = re.match(
            r"\s*(?:hrs\.?)?\s*,?\s*(?:in|at)\s+(?:the\s+)?(?P<v>[^.\n]+(?:\n[^.\n]+)?)\.", after
        )
        if inline:
            venue = inline.group("v").strip(" .,")
            end = found.end + inline.end("v")
    if venue:
        venue = re.sub(r"\s+", " ", venue)
    start = min(fv.start, v.start()) if v and venue else fv.start
    end = max(end, fv.end)
    return _fv(text, start, end, {"at": fv.value, "venue": venue}, base)


# --- eligibility and contact -----------------------------------------------------------------

_REGS = (
    ("MSME", re.compile(r"\bMSME\b|\bMSE\b|Udyam|Udyog\s*Aadha?ar", re.IGNORECASE)),
    ("NSIC", re.compile(r"\bNSIC\b", re.IGNORECASE)),
    ("GST", re.compile(r"\bGST(?:IN)?\b", re.IGNORECASE)),
    ("BIS", re.compile(r"\bBIS\b", re.IGNORECASE)),
    ("ISO 9001", re.compile(r"\bISO\s*[-:]?\s*9001", re.IGNORECASE)),
    ("PESO", re.compile(r"\bPESO\b", re.IGNORECASE)),
)
ELIG_HEAD = re.compile(
    r"^[^\n]{0,20}(?:Eligibility|Qualifying|Qualification|Pre[\s-]*qualification)\s*(?:Criteria|Requirements?|Conditions?)?[^\n]*$",
    re.IGNORECASE | re.MULTILINE,
)
SECTION_END = re.compile(
    r"^[^\n]{0,6}(?:General\s*Terms|Terms\s*and\s*Conditions|Tender\s*Inviting\s*Authority"
    r"|For\s*further\s*details|Buyer\s*Contact|Contact\s*(?:Details|Person|Information)|Schedule\s*of"
    r"|Sd/-|EMD\s*Detail|Special\s*Conditions|Instructions)",
    re.IGNORECASE | re.MULTILINE,
)
REG_LINE = re.compile(r"^[^\n]{0,6}Registrations?\s*(?:required|Required)[^\n]*$", re.MULTILINE)


def _eligibility(text: str, base: float) -> FieldValue | None:
    spans: list[tuple[int, int]] = []
    turnover = experience = None
    for m in re.finditer(r"turnover", text, re.IGNORECASE):
        s = m.start()
        e = _line_end(text, m.end())
        e2 = _line_end(text, e + 1) if e < len(text) else e
        found = find_amount(text, m.end(), e2, strict=True)
        if found is not None:
            turnover = float(found.value)
            spans.append((s, found.end))
            break
    for m in re.finditer(r"experience", text, re.IGNORECASE):
        ls = text.rfind("\n", 0, m.start()) + 1
        e = _line_end(text, m.end())
        y = re.search(r"(\d{1,2})\s*(?:\(\w+\)\s*)?years?(?:\s*\(s\))?", text[ls:e], re.IGNORECASE)
        if y:
            experience = int(y.group(1))
            spans.append((ls + y.start(), ls + y.end()))
            break
    regs: set[str] = set()
    regions: list[tuple[int, int]] = []
    head = ELIG_HEAD.search(text)
    if head:
        stop = SECTION_END.search(text, head.end())
        regions.append((head.start(), stop.start() if stop else min(len(text), head.end() + 1500)))
    regions += [(m.start(), m.end()) for m in REG_LINE.finditer(text)]
    for rs, re_ in regions:
        for name, rx in _REGS:
            f = rx.search(text, rs, re_)
            if f:
                regs.add(name)
                spans.append((f.start(), f.end()))
    if turnover is None and experience is None and not regs:
        return None
    start = min(s for s, _ in spans)
    end = max(e for _, e in spans)
    value = {
        "turnover_inr": turnover,
        "experience_years": experience,
        "registrations": sorted(regs),
    }
    return _fv(text, start, end, value, base * 0.85)


# OCR often breaks a local part after its dot ("suresh. patel@"): the space is allowed there
EMAIL_RE = re.compile(
    r"[A-Za-z0-9_%+-]+(?:\.[ ]?[A-Za-z0-9_%+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
PHONE_RE = re.compile(r"(?:\+91[\s-]?)?(?:0\d{2,4}[\s-]?\d{6,8}|[6-9]\d{4}\s?\d{5})(?!\d)")
NAME_LABEL = _label(
    r"Contact\s*Person",
    r"Contact\s*Officer",
    r"(?:For\s*further\s*(?:details|information|clarification)[^:\n]{0,20}contact)",
    r"Name\s*of\s*(?:the\s*)?(?:Contact|Officer)",
    r"(?<=\n)Name(?!\s*of\b)",
)
_HONORIFIC = re.compile(r"^(?:(?:Shri|Smt|Sri|Mr|Mrs|Ms|Dr|Kum)\.?\s*/?\s*)+", re.IGNORECASE)
PHONE_LABEL = _label(
    r"Phone", r"Ph\.?", r"Tel(?:ephone)?\.?", r"Mobile", r"Mob\.?", r"Contact\s*No\.?"
)


def _contact(text: str, base: float) -> FieldValue | None:
    name = email = phone = None
    spans: list[tuple[int, int]] = []
    m = NAME_LABEL.search(text)
    if m:
        s, e = _value_window(text, m)
        raw = text[s:e]
        raw = raw[len(raw) - len(raw.lstrip(" :;,._-|")) :]
        s = e - len(raw)
        cut = re.split(r"[,;(]|\s{2,}|\bPhone\b|\bEmail\b|\bDesignation\b", raw)[0]
        hon = _HONORIFIC.match(cut.strip())
        clean = cut.strip()[hon.end() :] if hon else cut.strip()
        clean = clean.strip(" .:-")
        if 2 <= len(clean) <= 60 and re.search(r"[A-Za-z]{2}", clean):
            name = clean
            pos = s + raw.index(clean)
            spans.append((pos, pos + len(clean)))
    search_from = m.start() if m else 0
    em = EMAIL_RE.search(text, search_from) or EMAIL_RE.search(text)
    if em:
        raw_email = em.group().strip(".")
        email = raw_email.replace(" ", "")
        spans.append((em.start(), em.start() + len(raw_email)))
    for pm in PHONE_LABEL.finditer(text, search_from):
        ph = PHONE_RE.search(text, pm.end(), min(len(text), pm.end() + 60))
        if ph:
            phone = ph.group().strip()
            spans.append((ph.start(), ph.start() + len(phone)))
            break
    if not (name or email or phone):
        return None
    start = min(s for s, _ in spans)
    end = max(e for _, e in spans)
    return _fv(text, start, end, {"name": name, "email": email, "phone": phone}, base * 0.9)


def extract_fields(
    text: str, products: Sequence[str] = (), *, base: float = 0.9
) -> dict[str, FieldValue]:
    """Every field the notice's text states, keyed by field name (absent ones left out).

    `products` are our catalogue names; an item whose description contains one gets it as
    its `product`. `base` is the confidence of a clean read (lower for OCR text).
    """
    out: dict[str, FieldValue | None] = {
        "tender_no": _tender_no(text, base),
        "organisation": _organisation(text, base),
        "items": _items(text, products, base),
        "estimated_value_inr": _money(text, EST_LABEL, base),
        "emd_amount_inr": _money(text, EMD_LABEL, base),
        "emd_form": _emd_form(text, base),
        "tender_fee_inr": _money(text, FEE_LABEL, base),
        "bid_start": (_date_field(text, START_LABEL, base) or (None,))[0],
        "bid_end": (_date_field(text, END_LABEL, base) or (None,))[0],
        "bid_opening": (_date_field(text, OPEN_LABEL, base) or (None,))[0],
        "pre_bid_meeting": _pre_bid(text, base),
        "eligibility": _eligibility(text, base),
        "contact": _contact(text, base),
    }
    return {k: v for k, v in out.items() if v is not None}
