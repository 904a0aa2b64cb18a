"""Tally's XML as the simulator writes it: names, padded numbers, dates, and the objects."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from xml.sax.saxutils import escape, quoteattr

COMPANY_NAME = "Pebble Demo Chemicals Pvt Ltd"
#: The demo company's home state: intra-state sales carry CGST + SGST, others IGST.
HOME_STATE_CODE = "27"
PRIMARY = "&#4; Primary"  # written raw: Tally's reserved-name marker, illegal in XML 1.0
MAIN_LOCATION = "&#4; Main Location"
NOT_APPLICABLE = "&#4; Not Applicable"
SALES_LEDGER = "Sales Account"
PURCHASE_LEDGER = "Purchase Account"
#: The trader restocks from this supplier whenever a dispatch would take stock below zero.
SUPPLIER_LEDGER = "Bharat Chemical Traders Pvt Ltd"
TAX_LEDGERS = {"CGST": "Output CGST", "SGST": "Output SGST", "IGST": "Output IGST"}
STATE_NAMES = {
    "01": "Jammu & Kashmir", "02": "Himachal Pradesh", "03": "Punjab", "04": "Chandigarh",
    "05": "Uttarakhand", "06": "Haryana", "07": "Delhi", "08": "Rajasthan",
    "09": "Uttar Pradesh", "10": "Bihar", "19": "West Bengal", "20": "Jharkhand",
    "21": "Odisha", "22": "Chhattisgarh", "23": "Madhya Pradesh", "24": "Gujarat",
    "27": "Maharashtra", "29": "Karnataka", "30": "Goa", "32": "Kerala",
    "33": "Tamil Nadu", "36": "Telangana", "37": "Andhra Pradesh",
}  # fmt: skip

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_GUID_NAMESPACE = uuid.UUID("5d1f4a8e-3c57-4b8e-9a51-7c0e6b2f9a10")


class TallyRequestError(Exception):
    """A request the simulated Tally answers with ``<LINEERROR>``."""


# --------------------------------------------------------------------------- rendering


def _num(value: float, decimals: int = 2) -> str:
    """Tally's number text: fixed decimals, ``-`` for negatives."""
    return f"{value:.{decimals}f}"


def _qty(value: float, unit: str) -> str:
    """A quantity as Tally writes it: space-padded, three decimals, unit inside."""
    return f" {value:.3f} {unit}"


def _rate(value: float, unit: str) -> str:
    return f"{value:.2f}/{unit}"


def _padded(value: int) -> str:
    return f" {value}"


def _tally_date(value: date) -> str:
    return value.strftime("%Y%m%d")


def _text(value: str) -> str:
    """Escape for element text; ``&#4;`` markers are kept raw as Tally writes them."""
    return escape(value).replace("&amp;#4;", "&#4;")


def _el(tag: str, value: str, type_: str | None = None) -> str:
    attr = f' TYPE="{type_}"' if type_ else ""
    return f"<{tag}{attr}>{_text(value)}</{tag}>"


def _list(tag: str, children: Iterable[str]) -> str:
    return f"<{tag}>{''.join(children)}</{tag}>"


@dataclass
class TallyObject:
    """One master or voucher: a Tally type, its name attribute and ordered field elements."""

    kind: str  # STOCKGROUP, STOCKITEM, LEDGER, VOUCHER, COMPANY
    name: str
    guid: str
    master_id: int
    alter_id: int
    fields: Callable[[], list[tuple[str, str]]]
    attrs: dict[str, str] = field(default_factory=dict)
    voucher_date: date | None = None
    voucher_type: str | None = None

    def render(self, fetch: set[str] | None) -> str:
        """The object's XML; ``fetch`` (upper-case field names) limits the fields sent."""
        parts = [
            ("GUID", _el("GUID", self.guid, "String")),
            ("MASTERID", _el("MASTERID", _padded(self.master_id), "Number")),
            ("ALTERID", _el("ALTERID", _padded(self.alter_id), "Number")),
        ]
        for tag, xml in self.fields():
            base = tag.removesuffix(".LIST")
            if fetch is None or "*" in fetch or base in fetch:
                parts.append((tag, xml))
        attrs = "".join(f" {key}={quoteattr(value)}" for key, value in self.attrs.items())
        name_attr = f" NAME={quoteattr(self.name)}" if self.name else ""
        name_attr = name_attr.replace("&amp;#4;", "&#4;")
        body = "".join(xml for _, xml in parts)
        return f"<{self.kind}{name_attr}{attrs}>{body}</{self.kind}>"
