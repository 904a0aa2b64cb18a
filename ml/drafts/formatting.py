"""How facts are written in a reply: Indian digit grouping, rupees, dates as `14 Nov 2025`."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from ml.drafts.grounding import Fact
from ml.indian_numbers import indian_grouping

IST = ZoneInfo("Asia/Kolkata")


def as_local_date(value: date | datetime) -> date:
    """The calendar date in India (timestamps from the warehouse are timezone-aware)."""
    if isinstance(value, datetime):
        return (value.astimezone(IST) if value.tzinfo else value).date()
    return value


def format_date(value: date | datetime) -> str:
    day = as_local_date(value)
    return f"{day.day:02d} {day.strftime('%b')} {day.year}"


def format_quantity(value: float, unit: str | None) -> str:
    return f"{indian_grouping(value, 3)} {unit or 'kg'}"


def format_rate(value: float, unit: str | None) -> str:
    """`Rs 248/kg` for a rate, `Rs 1,18,000` for an amount."""
    per = (unit or "").removeprefix("Rs").lstrip("/")
    money = f"Rs {indian_grouping(value)}"
    return f"{money}/{per}" if per else money


def format_fact(fact: Fact) -> str:
    """The fact's value as a reply writes it."""
    if isinstance(fact.value, int | float):
        if (fact.unit or "").startswith("Rs"):
            return format_rate(float(fact.value), fact.unit)
        return format_quantity(float(fact.value), fact.unit)
    if isinstance(fact.value, date):
        return format_date(fact.value)
    return str(fact.value)
