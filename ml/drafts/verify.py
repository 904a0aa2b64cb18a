"""The check an LLM draft must pass: every fact it states comes from our records.

`ungrounded(text, grounding)` lists what a draft asserts that the grounding facts do not
back; `check_draft(text, grounding)` turns that (and the form checks below) into the reason a
draft is rejected, or None. Read in the draft, after NFKC normalisation, with zero-width and
other invisible format characters removed and any script's digits read as digits:

- quantities and prices (read with the entity extractor, so `5 MT` equals `5,000 kg`,
  `Rs. 248/-` equals `248.00`), document, vehicle and LR numbers and other letter-digit
  codes, dates and times, and every other number;
- numbers written in words (`ml.drafts.numwords`: "ten percent", "fifty rupees per kg",
  "two lakh", "half a dozen", "nine eight two zero ..."), checked as the digits they spell;
- URLs (with a scheme, `www.`, a bare domain, "dot com" in words), email addresses, UPI ids
  (`name@bank`), IFSC codes, phone numbers (`phonenumbers`, region IN) and bank account
  numbers (runs of 9 to 18 digits, spaced or not).

Each must equal a fact's value, document number or date. Facts from the customer's own mail
(`Fact.from_customer`: the quantity asked for, a reference quoted) never count: an account
number, link, price or quantity the customer wrote cannot validate the draft. The form
checks reject placeholders (`[Your Name]`), HTML or Markdown markup, and any character
outside plain English text (other scripts, look-alike letters, zero-width and direction
controls): a draft is ASCII plus the rupee sign and typographic dashes and quotes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ml.drafts import grounding as g
from ml.drafts.formatting import IST, as_local_date
from ml.drafts.grounding import Fact, Grounding
from ml.drafts.numwords import with_digits
from ml.extract.measures import MASS_UNITS, MULTIPLIERS

#: Month names and abbreviations -> month number (also read by ml.tender).
MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )  # fmt: skip
    for m in names
}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_ORD = r"(?:st|nd|rd|th)?"
_DATE_PATTERNS = (
    re.compile(r"(?<![\w/.\-])(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?![\w/\-])"),
    re.compile(
        r"(?<![\w/.\-])(?P<d>\d{1,2})[./\-](?P<m>\d{1,2})[./\-](?P<y>\d{4}|\d{2})(?![\w/\-]|\.\d)"
    ),
    re.compile(
        rf"(?<![\w/.\-])(?P<d>\d{{1,2}}){_ORD}[\s\-]+(?:of\s+)?(?P<mon>{_MONTH})\b\.?"
        rf"(?:,?[\s\-]+(?P<y>\d{{4}}|'?\d{{2}})(?![\w/\-]))?",
        re.IGNORECASE,
    ),
    re.compile(
        rf"\b(?P<mon>{_MONTH})\b\.?\s+(?P<d>\d{{1,2}}){_ORD}(?:,?\s+(?P<y>\d{{4}}))?(?![\w/\-])",
        re.IGNORECASE,
    ),
)
_TIME = re.compile(r"(?<![\w.:])(?P<h>\d{1,2})[:.](?P<mi>\d{2})\s*(?P<ap>am|pm|hrs)?\b", re.I)
# A run of letters, digits and / - joined, holding at least one digit and one letter:
# vehicle and LR numbers, document numbers the extractor does not know ("MH04AB1234").
_CODE = re.compile(
    r"(?<![\w/\-])(?=[\w/\-]*\d)(?=[\w/\-]*[A-Za-z])[A-Za-z0-9]+(?:[/\-][A-Za-z0-9]+)*(?![\w])"
)
_NUMBER = re.compile(
    r"(?<![\w.])(?P<n>\d{1,3}(?:,\d{2})*,\d{3}|\d{1,3}(?:,\d{3})+|\d+)(?P<frac>\.\d+)?"
    r"(?:\s*(?P<mult>lakhs?|lacs?|crores?|cr)\b)?"
)
_LIST_MARKER = re.compile(r"^[ \t]*(\d{1,2})[.)][ \t]", re.MULTILINE)
_DIGITS = re.compile(r"\d+")
_CODE_LIKE = re.compile(r"\S*[/\-]\S*|\S*[A-Za-z]\d\S*|\S*\d[A-Za-z]\S*")
_MASS_UNITS = {u.lower(): f for u, f in MASS_UNITS.items()}

# -- links, addresses and payment details ---------------------------------------------------

_URL_END = r"[^\s<>\"'()\[\]{}]*[^\s<>\"'()\[\]{}.,;:!?]"
_URLS = (
    re.compile(rf"\b[a-z][a-z0-9+.\-]{{1,15}}://{_URL_END}", re.I),  # https://, hxxp://, upi://
    re.compile(rf"\bwww\d?\.{_URL_END}", re.I),
    # a bare domain: labels joined by dots, ending in letters ("pay-now.example.in/x"); any
    # script's letters, so a look-alike domain is still a domain
    re.compile(
        r"(?<![\w@.\-])(?:[^\W_](?:[\w\-]{0,61}[^\W_])?\.)+[^\W\d_]{2,24}(?![\w\-@])"
        rf"(?:/{_URL_END})?",
    ),
    # a domain in words: "example dot com", "example (dot) in"
    re.compile(
        r"\b[\w\-]+\s*[(\[]?\s*dot\s*[)\]]?\s*(?:com|in|net|org|co|io|info|biz|xyz|app)\b", re.I
    ),
)
_MAILBOX = re.compile(r"(?<![\w.+\-])[\w.+\-]{1,64}@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*")
#: Bank, a 0 (or an O written for it), then the branch; the branch part holds a digit.
_IFSC = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{4}[0Oo](?=[A-Za-z0-9]{0,5}\d)[A-Za-z0-9]{6}(?![\w])")
#: 9 to 18 digits, possibly grouped with single spaces or hyphens ("5010 0234 5678 90").
_ACCOUNT = re.compile(r"(?<![\w/\-.,])\d(?:[ \-]?\d){8,17}(?![\w/\-]|[.,]\d)")

# -- form ---------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\[[^\]\n]{1,60}\]|\{[^}\n]{1,60}\}|<[A-Z][^>\n]{1,40}>")
_MARKUP = re.compile(
    r"<\s*/?\s*[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?\s*>"  # HTML tags
    r"|\[[^\]\n]*\]\([^)\n]*\)"  # Markdown links
    r"|&(?:[a-z]+|#\d+|#x[0-9a-f]+);",  # HTML entities
    re.I,
)
#: What a plain-text reply may hold besides printable ASCII and line breaks.
_EXTRA_CHARS = frozenset("₹–—‘’“”•·°×…\u00a0")


def plain(text: str) -> str:
    """`text` as the checks read it: invisible format characters (zero-width, direction
    controls, soft hyphens) removed, NFKC-normalised (full-width letters and digits become
    ASCII), and digits of any script as ASCII digits."""
    visible = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    folded = unicodedata.normalize("NFKC", visible)
    return "".join(
        str(unicodedata.decimal(ch)) if not ch.isascii() and ch.isdecimal() else ch for ch in folded
    )


def odd_characters(text: str) -> list[str]:
    """Characters a plain-text reply should not hold, as `U+0430 CYRILLIC SMALL LETTER A`."""
    seen: dict[str, None] = {}
    for ch in text:
        if (" " <= ch <= "~") or ch in "\n\r\t" or ch in _EXTRA_CHARS:
            continue
        seen.setdefault(ch)
    return [f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed')}" for ch in seen]


def _norm(token: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", token.upper())


@dataclass
class _Allowed:
    quantities: list[float] = field(default_factory=list)
    prices: list[float] = field(default_factory=list)
    numbers: list[float] = field(default_factory=list)
    digit_runs: set[str] = field(default_factory=set)
    codes: set[str] = field(default_factory=set)
    dates: set[date] = field(default_factory=set)
    times: set[tuple[int, int]] = field(default_factory=set)
    #: Every text of the facts, lower-cased (a link or address must occur in one of them).
    texts: list[str] = field(default_factory=list)

    def add_code(self, text: str | None) -> None:
        """A document number, vehicle or LR number: its tokens and longer digit runs."""
        if not text:
            return
        self.texts.append(text.lower())
        self.codes.add(_norm(text))
        for m in _CODE.finditer(text):
            self.codes.add(_norm(m.group(0)))
        for m in _DIGITS.finditer(text):
            if len(m.group(0)) >= 3:
                self.digit_runs.add(m.group(0))
                self.digit_runs.add(m.group(0).lstrip("0") or "0")

    def add_label(self, text: str | None) -> None:
        """A label or product name: its codes, and plain numbers outside codes ("99.5%"),
        spelled ones included."""
        if not text:
            return
        self.add_code(text)
        for m in _NUMBER.finditer(_CODE_LIKE.sub(" ", with_digits(text)[0])):
            self.numbers.append(_value(m))

    def add_when(self, value: date | datetime) -> None:
        self.dates.add(as_local_date(value))
        if isinstance(value, datetime):
            self.dates.add(value.date())
            local = value.astimezone(IST) if value.tzinfo else value
            self.times.add((local.hour, local.minute))
            self.times.add((value.hour, value.minute))

    def has_text(self, found: str) -> bool:
        needle = found.lower()
        return any(needle in text for text in self.texts)

    def has_digits(self, digits: str) -> bool:
        if digits in self.digit_runs or (digits.lstrip("0") or "0") in self.digit_runs:
            return True
        return _close(float(digits), [*self.numbers, *self.quantities, *self.prices])


def _value(m: re.Match[str]) -> float:
    value = float(m.group("n").replace(",", "") + (m.group("frac") or ""))
    mult = m.group("mult")
    if mult:
        value *= MULTIPLIERS[mult.lower().rstrip(".")]
    return value


def _date(m: re.Match[str]) -> date | None:
    try:
        day = int(m.group("d"))
        month = int(m.group("m")) if "m" in m.groupdict() and m.group("m") else None
        if month is None:
            month = MONTHS[m.group("mon").lower().rstrip(".")]
        year_text = (m.group("y") or "").lstrip("'")
        year = int(year_text) if year_text else 1900  # 1900: "no year written"
        if year < 100:
            year += 2000
        return date(year, month, day)
    except (ValueError, KeyError, IndexError):
        return None


def grounding_facts(grounding: Grounding | Iterable[Fact]) -> list[Fact]:
    """The facts that may ground a draft: our records' facts, never the customer's mail."""
    facts = grounding.facts if isinstance(grounding, Grounding) else list(grounding)
    return [f for f in facts if not f.from_customer]


def allowed_values(grounding: Grounding | Iterable[Fact]) -> _Allowed:
    """Every figure and text a draft may contain, from the facts (values, documents, dates).
    Facts from the customer's own mail are left out."""
    allowed = _Allowed()
    for fact in grounding_facts(grounding):
        value, unit = fact.value, (fact.unit or "").strip()
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
            allowed.numbers.append(number)
            if unit.startswith("Rs"):
                allowed.prices.append(number)
                per = unit.removeprefix("Rs").lstrip("/").strip().lower()
                if per in _MASS_UNITS and _MASS_UNITS[per] != 1.0:
                    allowed.prices.append(number / _MASS_UNITS[per])
            else:
                allowed.quantities.append(number)
                factor = _MASS_UNITS.get(unit.lower())
                if factor:
                    allowed.quantities.append(number * factor)
        elif isinstance(value, datetime | date):
            allowed.add_when(value)
        elif value is not None:
            allowed.add_code(str(value))
        allowed.add_label(fact.label)
        allowed.add_label(fact.subject)
        allowed.add_code(fact.ref)
        if fact.as_of is not None:
            allowed.add_when(fact.as_of)
    return allowed


def _close(value: float, candidates: Iterable[float]) -> bool:
    return any(abs(value - c) <= max(0.005, abs(c) * 1e-6) for c in candidates)


def _first_number(text: str) -> float | None:
    m = _NUMBER.search(text)
    return _value(m) if m else None


class _Findings:
    """Spans of the text already judged, and what was wrong, with where it was found."""

    def __init__(self) -> None:
        self.covered: list[tuple[int, int]] = []
        self.problems: list[tuple[int, int, str]] = []

    def free(self, start: int, end: int) -> bool:
        return not any(s < end and start < e for s, e in self.covered)

    def judge(self, start: int, end: int, ok: bool, what: str) -> None:
        self.covered.append((start, end))
        if not ok:
            self.problems.append((start, end, what))


def _contacts(text: str, allowed: _Allowed, found: _Findings) -> None:
    """Links, email addresses, UPI ids, IFSC codes, phone and account numbers."""
    import phonenumbers

    for m in _MAILBOX.finditer(text):
        kind = "email address" if "." in m.group(0).split("@", 1)[1] else "UPI id"
        found.judge(*m.span(), allowed.has_text(m.group(0)), f"{kind} {m.group(0)!r}")
    for pattern in _URLS:
        for m in pattern.finditer(text):
            if found.free(*m.span()):
                found.judge(*m.span(), allowed.has_text(m.group(0)), f"link {m.group(0)!r}")
    for m in _IFSC.finditer(text):
        if found.free(*m.span()):
            ok = _norm(m.group(0)) in allowed.codes
            found.judge(*m.span(), ok, f"IFSC code {m.group(0)!r}")
    dates = [m.span() for p in _DATE_PATTERNS for m in p.finditer(text)]

    def not_a_date(start: int, end: int) -> bool:
        return not any(s < end and start < e for s, e in dates)

    for match in phonenumbers.PhoneNumberMatcher(text, "IN"):
        span = (match.start, match.end)
        if found.free(*span) and not_a_date(*span):
            digits = re.sub(r"\D", "", match.raw_string)
            national = str(match.number.national_number)
            ok = allowed.has_digits(digits) or allowed.has_digits(national)
            found.judge(*span, ok, f"phone number {match.raw_string!r}")
    for m in _ACCOUNT.finditer(text):
        if found.free(*m.span()) and not_a_date(*m.span()):
            digits = re.sub(r"\D", "", m.group(0))
            found.judge(*m.span(), allowed.has_digits(digits), f"account number {m.group(0)!r}")


def _figures(text: str, allowed: _Allowed, extractor: Any, found: _Findings) -> None:
    """Quantities, prices, documents, dates, times, codes and other numbers."""
    for e in extractor.extract(text, include_quoted=True):
        if not found.free(e.start, e.end):
            continue
        raw = _first_number(e.text)
        if e.label == "PRODUCT":
            found.judge(e.start, e.end, True, "")
        elif e.label == "QUANTITY":
            ok = isinstance(e.value, int | float) and _close(float(e.value), allowed.quantities)
            ok = ok or (raw is not None and _close(raw, allowed.quantities))
            found.judge(e.start, e.end, ok, f"quantity {e.text!r}")
        elif e.label == "PRICE":
            ok = isinstance(e.value, int | float) and _close(float(e.value), allowed.prices)
            ok = ok or (raw is not None and _close(raw, allowed.prices))
            found.judge(e.start, e.end, ok, f"price {e.text!r}")
        else:
            ok = _norm(str(e.value or e.text)) in allowed.codes or _norm(e.text) in allowed.codes
            found.judge(e.start, e.end, ok, f"{e.label.lower().replace('_', ' ')} {e.text!r}")

    allowed_day_month = {(d.day, d.month) for d in allowed.dates}
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            if not found.free(*m.span()):
                continue
            day = _date(m)
            if day is None:
                continue
            if day.year == 1900:
                ok = (day.day, day.month) in allowed_day_month
            else:
                ok = day in allowed.dates
            found.judge(*m.span(), ok, f"date {m.group(0).strip()!r}")
    for m in _TIME.finditer(text):
        if not found.free(*m.span()):
            continue
        hour, minute = int(m.group("h")), int(m.group("mi"))
        if hour > 23 or minute > 59:
            continue
        if (m.group("ap") or "").lower() == "pm" and hour < 12:
            hour += 12
        found.judge(*m.span(), (hour, minute) in allowed.times, f"time {m.group(0).strip()!r}")
    for m in _CODE.finditer(text):
        if found.free(*m.span()):
            ok = _norm(m.group(0)) in allowed.codes
            found.judge(*m.span(), ok, f"reference {m.group(0)!r}")
    markers = {m.start(1) for m in _LIST_MARKER.finditer(text)}
    for m in _NUMBER.finditer(text):
        if not found.free(*m.span()):
            continue
        if m.start() in markers and not m.group("frac"):
            continue  # "1. " numbering a list
        digits = m.group("n")
        plain_run = not m.group("frac") and not m.group("mult") and "," not in digits
        ok = (plain_run and digits in allowed.digit_runs) or _close(_value(m), allowed.numbers)
        found.judge(*m.span(), ok, f"number {m.group(0).strip()!r}")


def products_of(grounding: Grounding | Iterable[Fact]) -> tuple[Any, ...]:
    """The products a draft may name: the grounding's stock master entries, else the
    product names in the facts (stock, rates, order lines)."""
    if isinstance(grounding, Grounding) and grounding.product_refs:
        return grounding.product_refs
    names: dict[str, None] = {}
    for fact in grounding_facts(grounding):
        name = fact.label if fact.kind == g.ORDER_ITEM else fact.subject
        if fact.kind in (g.STOCK, g.LAST_PRICE, g.ORDER_ITEM) and name and "/" not in name:
            names.setdefault(name)  # ("/": a document number, not a product)
    return tuple(names)


def ungrounded(
    text: str,
    grounding: Grounding | Iterable[Fact],
    extractor: Any | None = None,
    *,
    products: Iterable[Any] | None = None,
) -> list[str]:
    """Each fact stated in `text` that the grounding does not back, as a short description
    (empty: every figure, link and payment detail in it comes from the facts).

    Quantities and prices are read by the entity extractor over `products` (the stock
    master's entries, for names and pack sizes; default: `products_of(grounding)`). A
    figure written in words is named with its digits and its words:
    `number '10' (written 'ten')`.
    """
    if not isinstance(grounding, Grounding):
        grounding = list(grounding)
    if extractor is None:
        from ml.extract import get_extractor

        extractor = get_extractor(products_of(grounding) if products is None else products)
    allowed = allowed_values(grounding)
    text, spelled = with_digits(plain(text))
    found = _Findings()
    _contacts(text, allowed, found)
    _figures(text, allowed, extractor, found)
    problems = []
    for start, end, what in sorted(found.problems):
        words = [n.text for s, e, n in spelled if s < end and start < e]
        problems.append(what + (f" (written {' '.join(words)!r})" if words else ""))
    return problems


#: The name this check had when it read only digits; it now reads everything above.
verify_numbers = ungrounded


def check_draft(
    text: str, grounding: Grounding | Iterable[Fact], *, products: Iterable[Any] | None = None
) -> str | None:
    """Why an LLM draft cannot be used, or None: facts not in the grounding, a placeholder,
    markup, or characters outside plain text. Several reasons are joined with "; "."""
    reasons = []
    problems = ungrounded(text, grounding, products=products)
    if problems:
        shown = ", ".join(problems[:6]) + (" ..." if len(problems) > 6 else "")
        reasons.append(f"draft has facts not in the grounding: {shown}")
    markup = _MARKUP.search(plain(text))
    if markup:
        reasons.append(f"draft has markup {markup.group(0)[:60]!r}")
    placeholder = _PLACEHOLDER.search(plain(text))
    if placeholder and not (markup and markup.start() <= placeholder.start() < markup.end()):
        reasons.append(f"draft has a placeholder {placeholder.group(0)!r}")
    odd = odd_characters(text)
    if odd:
        shown = ", ".join(odd[:4]) + (" ..." if len(odd) > 4 else "")
        reasons.append(f"draft has characters outside plain text: {shown}")
    return "; ".join(reasons) or None
