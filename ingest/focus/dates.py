"""Focus RT dates.

Focus 8 stores and serves a date as one integer, ``year * 65536 + month * 256 + day``
(e.g. 2025-11-14 -> 132713230). Integrations also meet ``YYYYMMDD`` integers, ISO strings
and ``dd/mm/yyyy``; :func:`parse_focus_date` accepts all of them.
"""

from __future__ import annotations

import datetime as dt
import re

_PACKED_MIN = 1900 * 65536  # anything this large cannot be a YYYYMMDD value


def encode_focus_date(day: dt.date) -> int:
    """The packed integer Focus uses for ``day``."""
    return day.year * 65536 + day.month * 256 + day.day


def parse_focus_date(value: object) -> dt.date:
    """A date from any representation Focus produces; raises ValueError if it is none of them."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a date: {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d+", text):
            value = int(text)
        else:
            for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%dT%H:%M:%S"):
                try:
                    return dt.datetime.strptime(text, pattern).date()
                except ValueError:
                    continue
            raise ValueError(f"not a date: {value!r}")
    if isinstance(value, int):
        if value >= _PACKED_MIN:
            return dt.date(value // 65536, (value // 256) % 256, value % 256)
        if 10_000_000 <= value <= 99_991_231:
            return dt.date(value // 10_000, (value // 100) % 100, value % 100)
    raise ValueError(f"not a date: {value!r}")


def format_query_date(day: dt.date) -> str:
    """A date as the List endpoint's ``fromDate``/``toDate`` query value (``YYYYMMDD``)."""
    return day.strftime("%Y%m%d")
