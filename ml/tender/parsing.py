"""Indian amounts and dates as tender notices write them.

Amounts: `Rs. 12,34,567.00`, `Rs.23,700/-`, `INR 1,18,000`, `₹ 5 Lakh`, `12.5 lakhs`,
`1.2 Crore`, plain `36800`. Dates: `05-Jan-2026 10:00 AM`, `05-01-2026 15:00:00`,
`05/01/2026 at 3:00 PM`, `05.01.2026 at 15:00 hrs`, `5th January 2026`, `1500 hrs`.
Every finder returns the match span so callers can cite their evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from ml.drafts.verify import MONTHS

_MULT = {"lakh": 1e5, "lakhs": 1e5, "lac": 1e5, "lacs": 1e5, "crore": 1e7, "crores": 1e7, "cr": 1e7}

# A currency mark: Rs., INR, ₹, and the shapes OCR makes of ₹ (a stray "%" or "=" or "Z").
_CUR = r"(?:Rs\.?|INR|₹|Rupees)"
_NUM = r"\d{1,3}(?:,\d{2,3})+(?:\.\d{1,2})?|\d+(?:\.\d+)?"
AMOUNT_RE = re.compile(
    rf"(?P<cur>{_CUR}\s*)?(?P<num>{_NUM})(?:\s*/-)?"
    r"(?:\s*(?P<mult>lakhs?|lacs?|crores?|cr\b)\.?(?:\s*\(s\))?)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Found:
    value: object
    start: int
    end: int


def find_amount(
    text: str, start: int = 0, end: int | None = None, *, strict: bool = False
) -> Found | None:
    """The first amount in text[start:end]. `strict` demands a currency mark, a lakh/crore
    word or a number of at least four digits (so "(For 3 Years)" is not an amount)."""
    end = len(text) if end is None else end
    for m in AMOUNT_RE.finditer(text, start, end):
        raw = m.group("num").replace(",", "")
        digits = len(raw.split(".")[0])
        if strict and not (m.group("cur") or m.group("mult") or digits >= 4):
            continue
        if not m.group("cur") and not m.group("mult") and digits <= 2 and "." not in raw:
            continue  # a clause number or a count, never a rupee amount
        value = float(raw)
        if m.group("mult"):
            value *= _MULT[m.group("mult").lower().rstrip(".")]
        s = m.start("cur") if m.group("cur") else m.start("num")
        return Found(round(value, 2), s, m.end())
    return None


_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
DATE_RE = re.compile(
    r"(?P<d>\d{1,2})(?:st|nd|rd|th)?\s*(?P<sep>[-/.]|\s)\s*"
    rf"(?P<m>\d{{1,2}}|(?:{_MONTH_RE})\.?)\s*[-/.,]?\s*(?P<y>\d{{4}}|\d{{2}}\b)",
    re.IGNORECASE,
)
TIME_RE = re.compile(
    r"(?P<h>\d{1,2})\s*[:.]\s*(?P<mi>\d{2})(?:\s*[:.]\s*\d{2})?\s*(?P<ap>[AaPp]\.?\s?[Mm]\.?)?"
    r"|(?P<hh>[0-2]\d)(?P<mm>[0-5]\d)\s*(?=hrs|hours|Hrs|HRS)",
)


def find_datetime(text: str, start: int = 0, end: int | None = None) -> Found | None:
    """The first date in text[start:end] with the time that follows it within a few words
    (`at`, `upto`, `,`); value is a naive datetime (IST), 00:00 when no time is written."""
    end = len(text) if end is None else end
    for m in DATE_RE.finditer(text, start, end):
        month_raw = m.group("m").rstrip(".").lower()
        month = int(month_raw) if month_raw.isdigit() else MONTHS.get(month_raw)
        if m.group("sep").isspace() and month_raw.isdigit():
            continue  # "05 01 2026" is too loose to trust
        year = int(m.group("y"))
        year += 2000 if year < 100 else 0
        try:
            day = datetime(year, month or 0, int(m.group("d")))
        except ValueError:
            continue
        stop = m.end()
        window = text[m.end() : min(end, m.end() + 24)]
        t = re.match(r"[\s,]*(?:at|upto|up to|by|till|from|\(|-)?\s*", window, re.IGNORECASE)
        tm = TIME_RE.match(window, t.end() if t else 0)
        if tm:
            if tm.group("hh"):
                hour, minute = int(tm.group("hh")), int(tm.group("mm"))
            else:
                hour, minute = int(tm.group("h")), int(tm.group("mi"))
                ap = (tm.group("ap") or "").replace(".", "").replace(" ", "").lower()
                if ap == "pm" and hour < 12:
                    hour += 12
                elif ap == "am" and hour == 12:
                    hour = 0
            if hour < 24 and minute < 60:
                day = day.replace(hour=hour, minute=minute)
                stop = m.end() + tm.end()
        return Found(day, m.start(), stop)
    return None


def iso_ist(dt: datetime) -> str:
    """A naive IST datetime as ISO 8601 with the +05:30 offset."""
    return dt.replace(tzinfo=None).isoformat(timespec="seconds") + "+05:30"
