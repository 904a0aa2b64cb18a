"""Focus documents -> Pebble's normalised records, reading fields through the tenant field map.

Parsing is separate from the network client so it can be tested on saved documents. Every
function here takes one ``{"Header", "Body", "Footer"}`` document and returns a JSON-ready
dict (dates as ISO strings, money in rupees, quantities as numbers); a missing required field
or an unreadable value raises :class:`FocusFieldError` naming the document and the field.

Dates: Focus 8 stores and serves a date as one integer, ``year * 65536 + month * 256 + day``
(e.g. 2025-11-14 -> 132713230). Integrations also meet ``YYYYMMDD`` integers, ISO strings
and ``dd/mm/yyyy``; :func:`parse_focus_date` accepts all of them.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from ingest.focus.errors import FocusFieldError
from ingest.focus.settings import INVOICES, QC_INSPECTIONS, SALES_ORDERS

# --- dates ----------------------------------------------------------------------------------

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


# --- documents -----------------------------------------------------------------------------

Record = dict[str, Any]


def to_number(value: Any) -> float | None:
    """A number from Focus's representations (``1,18,000.00``, ``(-)120``, ``""``); None if empty.

    Raises ValueError for text that is not a number.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, int | float):
        return _finite(float(value), value)
    text = str(value).strip().replace(",", "")
    if not text:
        return None
    negative = text.startswith("(-)") or (text.startswith("(") and text.endswith(")"))
    if negative:
        text = text.removeprefix("(-)").strip("() ")
    number = _finite(float(text), value)
    return -number if negative else number


def _finite(number: float, value: Any) -> float:
    """``number``, or ValueError for inf and NaN (``1e309``, ``"NaN"``): no amount is."""
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {value!r}")
    return number


def to_flag(value: Any) -> bool | None:
    """Pass/Fail, Yes/No, true/false, 1/0 as a bool; None if empty."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if text in {"pass", "passed", "yes", "y", "true", "1", "ok"}:
        return True
    if text in {"fail", "failed", "no", "n", "false", "0"}:
        return False
    raise ValueError(f"not a pass/fail value: {value!r}")


def _code(value: Any) -> str | None:
    """A status-like value as a lower-case code: ``"Partly Dispatched"`` -> ``partly_dispatched``."""
    if value is None or str(value).strip() == "":
        return None
    return re.sub(r"[\s\-]+", "_", str(value).strip().casefold())


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


class _Reader:
    """Reads canonical fields out of one document via the field map, with clear errors."""

    def __init__(self, document: Mapping[str, Any], fields: Mapping[str, str]) -> None:
        if not isinstance(document, Mapping) or not isinstance(document.get("Header"), Mapping):
            raise FocusFieldError("document has no Header object")
        check_storable(document)
        self.fields = fields
        self.header: Mapping[str, Any] = document["Header"]
        body = document.get("Body") or []
        footer = document.get("Footer") or []
        if not isinstance(body, list) or not all(isinstance(x, Mapping) for x in body):
            raise FocusFieldError("document Body is not a list of lines")
        self.body: list[Mapping[str, Any]] = body
        self.footer: dict[str, Any] = {}
        for part in footer if isinstance(footer, list) else [footer]:
            if isinstance(part, Mapping):
                self.footer.update(part)
        self.doc_no = self._doc_no()

    def _doc_no(self) -> str:
        name = self.fields["doc_no"]
        value = _text(self.header.get(name))
        if value is None:
            raise FocusFieldError(
                f"document header has no {name!r} (canonical doc_no); "
                "set FOCUS_FIELD_MAP if this tenant names it differently"
            )
        return value

    def get(self, canonical: str, source: Mapping[str, Any] | None = None) -> Any:
        return (self.header if source is None else source).get(self.fields[canonical])

    def required(self, canonical: str, source: Mapping[str, Any] | None = None) -> Any:
        name = self.fields[canonical]
        container = self.header if source is None else source
        if name not in container or container[name] in (None, ""):
            raise FocusFieldError(
                f"{self.doc_no}: missing field {name!r} (canonical {canonical}); "
                "set FOCUS_FIELD_MAP if this tenant names it differently"
            )
        return container[name]

    def convert(self, canonical: str, parse: Callable[[Any], Any], value: Any) -> Any:
        try:
            return parse(value)
        except (ValueError, TypeError, OverflowError):
            name = self.fields[canonical]
            raise FocusFieldError(f"{self.doc_no}: cannot read {name!r} = {value!r}") from None

    def date(self) -> str:
        value = self.required("date")
        return self.convert("date", parse_focus_date, value).isoformat()

    def number(self, canonical: str, source: Mapping[str, Any] | None = None) -> float | None:
        return self.convert(canonical, to_number, self.get(canonical, source))

    def lines(self) -> list[Record]:
        lines = []
        for number, line in enumerate(self.body, start=1):
            lines.append(
                {
                    "line_no": number,
                    "item_code": _text(self.get("item_code", line)),
                    "item_name": _text(self.get("item_name", line)),
                    "qty": self.number("quantity", line),
                    "unit": _text(self.get("unit", line)),
                    "rate": self.number("rate", line),
                    "amount": self.number("amount", line),
                }
            )
        return lines


def check_storable(document: Any) -> None:
    """Raise :class:`FocusFieldError` when ``document`` holds what PostgreSQL's jsonb and text
    cannot store: a NUL character, a lone surrogate (``"\\ud800"``), or a non-finite number
    (``1e309`` and ``NaN`` parse to inf and nan). Walks the document without recursion."""
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, float):
            if not math.isfinite(value):
                raise FocusFieldError(f"{path or 'document'}: not a finite number ({value!r})")
        elif isinstance(value, str):
            _check_text(path, value)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                key_text = str(key)
                _check_text(f"{path}/{key_text[:40]!r}", key_text)
                stack.append((f"{path}/{key_text[:40]!r}", item))
        elif isinstance(value, list | tuple):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(value))


def _check_text(path: str, text: str) -> None:
    if "\x00" in text:
        raise FocusFieldError(f"{path or 'document'}: text holds a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise FocusFieldError(
            f"{path or 'document'}: text is not valid Unicode (a lone surrogate)"
        ) from None


def normalise_sales_order(document: Mapping[str, Any], fields: Mapping[str, str]) -> Record:
    """A sales order: doc_no, date, customer, status, po_ref and its item lines."""
    r = _Reader(document, fields)
    lines = r.lines()
    return {
        "doc_no": r.doc_no,
        "date": r.date(),
        "customer_code": _text(r.get("customer_code")),
        "customer_name": _text(r.get("customer_name")),
        "gstin": _text(r.get("gstin")),
        "po_ref": _text(r.get("po_ref")),
        "status": _code(r.get("status")),
        "total": r.number("total", r.footer),
        "lines": lines,
    }


def normalise_invoice(document: Mapping[str, Any], fields: Mapping[str, str]) -> Record:
    """A dispatch/invoice: doc_no, date, order_no, customer, vehicle/LR, lines and totals."""
    r = _Reader(document, fields)
    return {
        "doc_no": r.doc_no,
        "date": r.date(),
        "order_no": _text(r.get("order_no")),
        "customer_code": _text(r.get("customer_code")),
        "customer_name": _text(r.get("customer_name")),
        "gstin": _text(r.get("gstin")),
        "vehicle_no": _text(r.get("vehicle_no")),
        "lr_no": _text(r.get("lr_no")),
        "lines": r.lines(),
        "taxable_value": r.number("taxable_value", r.footer),
        "gst_amount": r.number("gst_amount", r.footer),
        "total": r.number("total", r.footer),
    }


def normalise_qc_inspection(document: Mapping[str, Any], fields: Mapping[str, str]) -> Record:
    """A QC inspection: batch, product, per-parameter results against limits, verdict, COA."""
    r = _Reader(document, fields)
    params = []
    for line in r.body:
        raw_result = r.get("param_result", line)
        try:
            numeric_result = to_number(raw_result)
        except ValueError:
            numeric_result = None  # descriptive results ("White crystalline powder") stay text
        params.append(
            {
                "name": _text(r.get("param_name", line)),
                "unit": _text(r.get("param_unit", line)),
                "min": r.number("param_min", line),
                "max": r.number("param_max", line),
                "result": numeric_result if numeric_result is not None else _text(raw_result),
                "pass": r.convert("param_pass", to_flag, r.get("param_pass", line)),
            }
        )
    verdict = r.convert("qc_result", to_flag, r.get("qc_result"))
    return {
        "doc_no": r.doc_no,
        "date": r.date(),
        "batch_no": _text(r.get("batch_no")),
        "product_code": _text(r.get("product_code")),
        "product_name": _text(r.get("product_name")),
        "order_no": _text(r.get("order_no")),
        "params": params,
        "result": None if verdict is None else ("pass" if verdict else "fail"),
        "coa_status": _code(r.get("coa_status")),
    }


NORMALISERS: dict[str, Callable[[Mapping[str, Any], Mapping[str, str]], Record]] = {
    SALES_ORDERS: normalise_sales_order,
    INVOICES: normalise_invoice,
    QC_INSPECTIONS: normalise_qc_inspection,
}


def normalise(kind: str, document: Mapping[str, Any], fields: Mapping[str, str]) -> Record:
    """The normalised record of ``document``, a Focus document of voucher kind ``kind``."""
    return NORMALISERS[kind](document, fields)
