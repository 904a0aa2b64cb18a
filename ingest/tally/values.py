"""Normalise Tally's value text: padded numbers, units in quantities and rates, ``(-)``
negatives, Indian thousands separators, ``YYYYMMDD`` / ``d-MMM-yy`` dates, ``Yes``/``No``."""

from __future__ import annotations

import re
from datetime import date, datetime

# "(-)" negative marker, optional currency, the number, then whatever follows (unit, /unit).
_NUMBER_TEXT = re.compile(
    r"\s*(\(-\))?\s*(?:(?:₹|rs\.?|inr)\s*)?([-+]?(?:\d[\d,]*(?:\.\d*)?|\.\d+))\s*(.*?)\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_DATE_FORMATS = ("%Y%m%d", "%d-%b-%y", "%d-%b-%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%Y")


def clean_text(text: str | None) -> str | None:
    """Text with control characters (Tally's ``&#4;`` marker) and outer spaces removed."""
    if text is None:
        return None
    if not text.isprintable():
        text = _CONTROL.sub("", text)
    cleaned = " ".join(text.split())
    return cleaned or None


def _split_number(text: str | None) -> tuple[float | None, str]:
    """The number at the start of ``text`` and the rest (unit, ``/unit``, ``Dr``/``Cr``)."""
    if text is None:
        return None, ""
    match = _NUMBER_TEXT.match(text)
    if match is None:
        if text.strip():
            raise ValueError(f"not a Tally number: {text!r}")
        return None, ""
    negative, digits, rest = match.groups()
    number = float(digits.replace(",", "") if "," in digits else digits)
    if rest:
        marker = rest[:2].lower()
        if marker in ("dr", "cr") and (len(rest) == 2 or not rest[2].isalpha()):
            number = -abs(number) if marker == "dr" else abs(number)
            rest = rest[2:].strip()
    return (-number if negative else number), rest


def parse_number(text: str | None) -> float | None:
    """``" 1,18,000.00"`` -> 118000.0, ``"(-)120.000"`` -> -120.0; None when empty.

    Units and rate denominators after the number are ignored; ``Dr`` makes it negative.
    Raises ValueError when the text holds no number at all.
    """
    return _split_number(text)[0]


def parse_int(text: str | None) -> int | None:
    """A space-padded integer such as ``" 22"``; None when empty."""
    number = parse_number(text)
    return None if number is None else int(number)


def parse_quantity(text: str | None) -> tuple[float | None, str | None]:
    """``" 500.000 kg"`` -> (500.0, "kg"); ``"500 kg = 20 Bag"`` -> (500.0, "kg")."""
    number, rest = _split_number(text)
    unit = rest.split("=", 1)[0].strip().split(" ")[0] if rest else ""
    return number, (unit or None)


def parse_rate(text: str | None) -> tuple[float | None, str | None]:
    """``"125.00/kg"`` -> (125.0, "kg"); ``"125.00"`` -> (125.0, None)."""
    number, rest = _split_number(text)
    unit = rest[1:].strip() if rest.startswith("/") else ""
    return number, (unit or None)


def parse_date(text: str | None) -> date | None:
    """``"20251114"``, ``"14-Nov-25"`` or ``"1-Apr-2025"`` as a date; None when empty.

    Raises ValueError for text that is no date in any Tally format.
    """
    if text is None or not text.strip():
        return None
    value = text.strip()
    if len(value) == 8 and value.isdigit():  # Tally's YYYYMMDD, the common case
        try:
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            raise ValueError(f"not a Tally date: {text!r}") from None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"not a Tally date: {text!r}")


def parse_bool(text: str | None) -> bool | None:
    """``Yes``/``No`` (also ``True``/``False``, ``1``/``0``); None when empty or unknown."""
    if text is None:
        return None
    value = text.strip().lower()
    if value in {"yes", "true", "1", "y"}:
        return True
    if value in {"no", "false", "0", "n"}:
        return False
    return None
