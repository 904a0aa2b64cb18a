"""A Tally Prime simulator speaking Tally's XML-over-HTTP export protocol.

It serves the demo world as the company "Pebble Demo Chemicals Pvt Ltd": stock groups and
stock items from the catalogue, one party ledger per customer GSTIN, Sales Order vouchers
from the Focus sales orders and Sales vouchers from the invoices. Answers reproduce the
quirks a real installation shows: UTF-16LE with a BOM, ``&#4;`` reserved names, space-padded
numbers, units inside quantities and rates, ``(-)`` negatives, negative debit amounts,
``YYYYMMDD`` dates, ``Yes``/``No`` flags and ``<LINEERROR>`` with HTTP 200.

Closing stock is opening stock plus purchases minus dispatches. The demo world records
no purchases, so whenever a dispatch would take an item below zero the trader restocks
first: a Purchase voucher from one supplier, dated the same day, refilling to about the
opening level.

Like Tally, it processes one request at a time. With a live interval it dispatches one open
sales order every interval (a new Sales voucher with new ALTERIDs; closing stock falls), so
incremental pulls see new data. Failure modes come from :class:`demo.sim.faults.Faults`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from demo.sim.faults import CONTROL_PATH, Faults
from ingest.tally.parse import sanitize

log = logging.getLogger(__name__)

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


# --------------------------------------------------------------------------- the company


def _guid(*parts: str) -> str:
    base = uuid.uuid5(_GUID_NAMESPACE, "|".join(parts))
    return f"{base}-{int(hashlib.sha1('|'.join(parts).encode()).hexdigest()[:8], 16) % 10**8:08d}"


def _iso(value: str) -> date:
    return date.fromisoformat(value[:10])


def _fy_start(value: date) -> date:
    return date(value.year if value.month >= 4 else value.year - 1, 4, 1)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


class TallyCompany:
    """The simulated company's books: masters, vouchers and the AlterID counters.

    Not thread-safe by itself; the server serialises access with one lock, as Tally does.
    """

    def __init__(self, world_dir: Path) -> None:
        world_dir = Path(world_dir)
        if not (world_dir / "catalogue.json").exists():
            raise ValueError(f"no demo world at {world_dir} (catalogue.json missing)")
        manifest_path = world_dir / "manifest.json"
        manifest = json.loads(manifest_path.read_text("utf-8")) if manifest_path.exists() else {}
        self.name: str = manifest.get("company", COMPANY_NAME)
        self.guid = _guid("company", self.name)
        catalogue = json.loads((world_dir / "catalogue.json").read_text("utf-8"))
        stock_path = world_dir / "stock.json"
        stock = json.loads(stock_path.read_text("utf-8")) if stock_path.exists() else []
        companies = _read_jsonl(world_dir / "companies.jsonl")
        orders = _read_jsonl(world_dir / "sales_orders.jsonl")
        invoices = _read_jsonl(world_dir / "invoices.jsonl")
        self._contacts: dict[str, dict[str, Any]] = {}
        for contact in _read_jsonl(world_dir / "contacts.jsonl"):
            self._contacts.setdefault(contact["company_id"], contact)

        dates = [_iso(o["date"]) for o in orders] + [_iso(i["date"]) for i in invoices]
        start = (
            _iso(manifest["start_date"])
            if "start_date" in manifest
            else min(dates, default=date.today())
        )
        self.books_from = _fy_start(start)
        self.last_voucher_date = max(dates, default=start)

        self._next_master_id = 0
        self._next_voucher_id = 0
        self._alter_id = 0
        self.alt_mst_id = 0
        self.alt_vch_id = 0
        self.groups: list[TallyObject] = []
        self.items: dict[str, dict[str, Any]] = {}
        self.item_objects: list[TallyObject] = []
        self.ledgers: list[TallyObject] = []
        self.vouchers: list[TallyObject] = []
        self._ledger_by_gstin: dict[str, str] = {}
        self._ledger_by_company: dict[str, str] = {}
        self._invoice_numbers: set[str] = set()
        self._purchase_serial = 0

        self._load_masters(catalogue, stock, companies)
        invoiced_orders = {inv.get("order_no") for inv in invoices}
        for order in orders:
            self._add_order(order)
        for invoice in invoices:
            self._add_sales(invoice)
        self.open_orders = [
            o for o in orders if o.get("status") == "open" and o["doc_no"] not in invoiced_orders
        ]
        self.open_orders.sort(key=lambda o: (o["date"], o["doc_no"]))

    # ids -------------------------------------------------------------------------------

    def _master_ids(self) -> tuple[int, int]:
        self._next_master_id += 1
        self._alter_id += 1
        self.alt_mst_id = self._alter_id
        return self._next_master_id, self._alter_id

    def _voucher_ids(self) -> tuple[int, int]:
        self._next_voucher_id += 1
        self._alter_id += 1
        self.alt_vch_id = self._alter_id
        return self._next_voucher_id, self._alter_id

    # masters ---------------------------------------------------------------------------

    def _load_masters(
        self, catalogue: list[dict], stock: list[dict], companies: list[dict]
    ) -> None:
        for group in sorted({p["stock_group"] for p in catalogue}):
            master_id, alter_id = self._master_ids()
            self.groups.append(
                TallyObject(
                    "STOCKGROUP", group, _guid("group", group), master_id, alter_id,
                    fields=lambda: [
                        ("PARENT", _el("PARENT", PRIMARY, "String")),
                        ("ISADDABLE", _el("ISADDABLE", "Yes", "Logical")),
                        ("BASEUNITS", _el("BASEUNITS", "kg", "String")),
                    ],
                    attrs={"RESERVEDNAME": ""},
                )
            )  # fmt: skip
        opening = {s["code"]: s for s in stock}
        for product in catalogue:
            code = product["code"]
            state = {
                "name": product["name"],
                "parent": product["stock_group"],
                "unit": product.get("unit") or "kg",
                "hsn": product.get("hsn", ""),
                "gst_rate": float(product.get("gst_rate", 18.0)),
                "opening_qty": float(opening.get(code, {}).get("opening_qty_kg", 0.0)),
                "opening_rate": float(
                    opening.get(code, {}).get("opening_rate", product.get("base_price_per_kg", 0))
                ),
                "purchased": 0.0,
                "dispatched": 0.0,
            }
            self.items[product["name"]] = state
            master_id, alter_id = self._master_ids()
            self.item_objects.append(
                TallyObject(
                    "STOCKITEM", product["name"], _guid("item", code), master_id, alter_id,
                    fields=lambda s=state: self._stock_item_fields(s),
                    attrs={"RESERVEDNAME": ""},
                )
            )  # fmt: skip
        for name, parent in (
            (SALES_LEDGER, "Sales Accounts"),
            (PURCHASE_LEDGER, "Purchase Accounts"),
            (SUPPLIER_LEDGER, "Sundry Creditors"),
            *((ledger, "Duties & Taxes") for ledger in TAX_LEDGERS.values()),
        ):
            master_id, alter_id = self._master_ids()
            self.ledgers.append(
                TallyObject(
                    "LEDGER", name, _guid("ledger", name), master_id, alter_id,
                    fields=lambda p=parent: [
                        ("PARENT", _el("PARENT", p, "String")),
                        ("ISBILLWISEON", _el("ISBILLWISEON", "No", "Logical")),
                    ],
                    attrs={"RESERVEDNAME": ""},
                )
            )  # fmt: skip
        for company in companies:
            gstins = company.get("gstins") or []
            for registration in gstins or [None]:
                self._add_party_ledger(company, registration, several=len(gstins) > 1)

    def _stock_item_fields(self, s: dict[str, Any]) -> list[tuple[str, str]]:
        unit = s["unit"]
        closing = s["opening_qty"] + s["purchased"] - s["dispatched"]
        rate = s["opening_rate"]
        half = s["gst_rate"] / 2
        rates = [("CGST", half), ("SGST/UTGST", half), ("IGST", s["gst_rate"]), ("Cess", 0.0)]
        gst = _list(
            "GSTDETAILS.LIST",
            [
                _el("APPLICABLEFROM", _tally_date(self.books_from), "Date"),
                _el("HSNCODE", s["hsn"], "String"),
                _el("TAXABILITY", "Taxable", "String"),
                _list(
                    "STATEWISEDETAILS.LIST",
                    [_el("STATENAME", NOT_APPLICABLE, "String")]
                    + [
                        _list(
                            "RATEDETAILS.LIST",
                            [
                                _el("GSTRATEDUTYHEAD", head, "String"),
                                _el(
                                    "GSTRATE", _padded(int(r)) if r == int(r) else f" {r}", "Number"
                                ),
                            ],
                        )
                        for head, r in rates
                    ],
                ),
            ],
        )
        # Stock is an asset: Tally writes its values as debits, i.e. negative.
        return [
            ("PARENT", _el("PARENT", s["parent"], "String")),
            ("CATEGORY", _el("CATEGORY", NOT_APPLICABLE, "String")),
            ("BASEUNITS", _el("BASEUNITS", unit, "String")),
            ("GSTAPPLICABLE", _el("GSTAPPLICABLE", "&#4; Applicable", "String")),
            ("ISBATCHWISEON", _el("ISBATCHWISEON", "No", "Logical")),
            ("OPENINGBALANCE", _el("OPENINGBALANCE", _qty(s["opening_qty"], unit), "Quantity")),
            ("OPENINGRATE", _el("OPENINGRATE", _rate(rate, unit), "Rate")),
            ("OPENINGVALUE", _el("OPENINGVALUE", _num(-s["opening_qty"] * rate), "Amount")),
            ("CLOSINGBALANCE", _el("CLOSINGBALANCE", _qty(closing, unit), "Quantity")),
            ("CLOSINGRATE", _el("CLOSINGRATE", _rate(rate, unit), "Rate")),
            ("CLOSINGVALUE", _el("CLOSINGVALUE", _num(-closing * rate), "Amount")),
            ("GSTDETAILS.LIST", gst),
        ]

    def _add_party_ledger(
        self, company: dict[str, Any], registration: dict[str, Any] | None, several: bool
    ) -> None:
        base_name = company["name"]
        state = (registration or {}).get("state") or STATE_NAMES.get(
            ((registration or {}).get("gstin") or "")[:2], ""
        )
        name = f"{base_name} ({state})" if several and state else base_name
        gstin = (registration or {}).get("gstin") or ""
        master_id, alter_id = self._master_ids()
        self._ledger_by_company.setdefault(company["company_id"], name)
        if gstin:
            self._ledger_by_gstin[gstin] = name
        address = (registration or {}).get("address") or ""
        city = (registration or {}).get("city") or ""
        contact = self._contacts.get(company["company_id"], {})
        email = contact.get("email") or ""
        mobile = contact.get("phone") or ""

        def fields() -> list[tuple[str, str]]:
            out = [
                ("PARENT", _el("PARENT", "Sundry Debtors", "String")),
                ("ISBILLWISEON", _el("ISBILLWISEON", "Yes", "Logical")),
                ("COUNTRYNAME", _el("COUNTRYNAME", "India", "String")),
                ("LEDSTATENAME", _el("LEDSTATENAME", state, "String")),
                ("INCOMETAXNUMBER", _el("INCOMETAXNUMBER", company.get("pan") or "", "String")),
                ("EMAIL", _el("EMAIL", email, "String")),
                ("LEDGERMOBILE", _el("LEDGERMOBILE", mobile, "String")),
                ("GSTREGISTRATIONTYPE", _el("GSTREGISTRATIONTYPE", "Regular" if gstin else "Unregistered", "String")),
                ("PARTYGSTIN", _el("PARTYGSTIN", gstin, "String")),
                ("OPENINGBALANCE", _el("OPENINGBALANCE", "0.00", "Amount")),
                ("ADDRESS.LIST", f'<ADDRESS.LIST TYPE="String">{_el("ADDRESS", address)}{_el("ADDRESS", city)}</ADDRESS.LIST>'),
            ]  # fmt: skip
            if gstin:
                out.append(
                    (
                        "LEDGSTREGDETAILS.LIST",
                        _list(
                            "LEDGSTREGDETAILS.LIST",
                            [
                                _el("APPLICABLEFROM", _tally_date(self.books_from), "Date"),
                                _el("GSTREGISTRATIONTYPE", "Regular", "String"),
                                _el("STATE", state, "String"),
                                _el("GSTIN", gstin, "String"),
                                _el("ISOTHTERRITORYASSESSEE", "No", "Logical"),
                            ],
                        ),
                    )
                )
            return out

        self.ledgers.append(
            TallyObject(
                "LEDGER", name, _guid("ledger", company["company_id"], gstin), master_id,
                alter_id, fields=fields, attrs={"RESERVEDNAME": ""},
            )
        )  # fmt: skip

    # vouchers --------------------------------------------------------------------------

    def _party(self, doc: dict[str, Any]) -> str:
        return (
            self._ledger_by_gstin.get(doc.get("gstin") or "")
            or self._ledger_by_company.get(doc.get("company_id") or "")
            or doc.get("customer_name")
            or "Cash"
        )

    def _unit_of(self, item_name: str, line: dict[str, Any]) -> str:
        item = self.items.get(item_name)
        return item["unit"] if item else (line.get("unit") or "kg")

    def _add_order(self, order: dict[str, Any]) -> None:
        self._add_voucher("Sales Order", order, order_no=order["doc_no"])

    def _add_sales(self, invoice: dict[str, Any]) -> TallyObject:
        for line in invoice.get("lines", []):
            item = self.items.get(line["product_name"])
            if item is not None:
                qty = float(line["qty_kg"])
                on_hand = item["opening_qty"] + item["purchased"] - item["dispatched"]
                if qty > on_hand:
                    self._restock(item, qty - on_hand, invoice)
                item["dispatched"] += qty
        self._invoice_numbers.add(invoice["doc_no"])
        return self._add_voucher("Sales", invoice, order_no=invoice.get("order_no") or "")

    def _restock(self, item: dict[str, Any], shortfall: float, invoice: dict[str, Any]) -> None:
        """Buy enough to cover ``shortfall`` and refill to about the opening level."""
        lot = math.ceil((shortfall + max(item["opening_qty"], 5000.0)) / 1000.0) * 1000.0
        rate = round(item["opening_rate"] * 0.96, 2)
        self._purchase_serial += 1
        fy = invoice["doc_no"].split("/")[1] if invoice["doc_no"].count("/") >= 2 else "25-26"
        doc = {
            "doc_no": f"PUR/{fy}/{self._purchase_serial:05d}",
            "date": invoice["date"],
            "lines": [
                {"product_name": item["name"], "qty_kg": lot, "unit": item["unit"],
                 "rate": rate, "amount": round(lot * rate, 2)}
            ],
        }  # fmt: skip
        item["purchased"] += lot
        self._add_voucher("Purchase", doc, order_no="")

    def _add_voucher(self, vtype: str, doc: dict[str, Any], order_no: str) -> TallyObject:
        master_id, alter_id = self._voucher_ids()
        guid = _guid("voucher", vtype, doc["doc_no"])
        vdate = _iso(doc["date"])
        purchase = vtype == "Purchase"
        party = SUPPLIER_LEDGER if purchase else self._party(doc)
        gstin = doc.get("gstin") or ""
        lines = doc.get("lines", [])
        taxable = round(sum(float(line["amount"]) for line in lines), 2)
        gst_amount = float(doc.get("gst_amount", 0.0)) if vtype == "Sales" else 0.0
        total = round(taxable + gst_amount, 2)
        cancelled = doc.get("status") == "cancelled"
        extra_text = {
            "BASICSHIPVESSELNO": doc.get("vehicle_no") or "",
            "BASICSHIPDOCUMENTNO": doc.get("lr_no") or "",
        }

        def fields() -> list[tuple[str, str]]:
            out = [
                ("DATE", _el("DATE", _tally_date(vdate), "Date")),
                ("VOUCHERTYPENAME", _el("VOUCHERTYPENAME", vtype, "String")),
                ("VOUCHERNUMBER", _el("VOUCHERNUMBER", doc["doc_no"], "String")),
                ("PARTYLEDGERNAME", _el("PARTYLEDGERNAME", party, "String")),
                ("PARTYGSTIN", _el("PARTYGSTIN", gstin, "String")),
                ("REFERENCE", _el("REFERENCE", doc.get("po_ref") or order_no, "String")),
                ("PERSISTEDVIEW", _el("PERSISTEDVIEW", "Invoice Voucher View", "String")),
                ("ISCANCELLED", _el("ISCANCELLED", "Yes" if cancelled else "No", "Logical")),
                ("ISOPTIONAL", _el("ISOPTIONAL", "No", "Logical")),
                ("ISINVOICE", _el("ISINVOICE", "Yes", "Logical")),
            ]
            if vtype == "Sales":
                out += [(tag, _el(tag, value, "String")) for tag, value in extra_text.items()]
                out.append(
                    (
                        "INVOICEORDERLIST.LIST",
                        _list(
                            "INVOICEORDERLIST.LIST",
                            [
                                _el("BASICORDERDATE", _tally_date(vdate), "Date"),
                                _el("BASICPURCHASEORDERNO", order_no, "String"),
                            ],
                        ),
                    )
                )
            if purchase:  # the supplier is credited, purchases debited (negative)
                entries = [_ledger_entry(party, total, deemed_positive=False, is_party=True)]
                entries.append(_ledger_entry(PURCHASE_LEDGER, -taxable, deemed_positive=True))
            else:
                entries = [_ledger_entry(party, -total, deemed_positive=True, is_party=True)]
                entries.append(_ledger_entry(SALES_LEDGER, taxable, deemed_positive=False))
            if gst_amount:
                if gstin[:2] == HOME_STATE_CODE:
                    half = round(gst_amount / 2, 2)
                    entries.append(_ledger_entry(TAX_LEDGERS["CGST"], half, False))
                    entries.append(_ledger_entry(TAX_LEDGERS["SGST"], gst_amount - half, False))
                else:
                    entries.append(_ledger_entry(TAX_LEDGERS["IGST"], gst_amount, False))
            out += [("LEDGERENTRIES.LIST", entry) for entry in entries]
            for line in lines:
                out.append(
                    (
                        "ALLINVENTORYENTRIES.LIST",
                        self._inventory_entry(line, order_no, vdate, inward=purchase),
                    )
                )
            return out

        voucher = TallyObject(
            "VOUCHER", "", guid, master_id, alter_id, fields=fields,
            attrs={"REMOTEID": guid, "VCHKEY": f"{guid}:{master_id:08d}", "VCHTYPE": vtype,
                   "ACTION": "Create", "OBJVIEW": "Invoice Voucher View"},
            voucher_date=vdate, voucher_type=vtype,
        )  # fmt: skip
        self.vouchers.append(voucher)
        return voucher

    def _inventory_entry(
        self, line: dict[str, Any], order_no: str, vdate: date, inward: bool = False
    ) -> str:
        name = line["product_name"]
        unit = self._unit_of(name, line)
        qty = _qty(float(line["qty_kg"]), unit)
        amount = _num(-float(line["amount"]) if inward else float(line["amount"]))
        ledger = PURCHASE_LEDGER if inward else SALES_LEDGER
        return _list(
            "ALLINVENTORYENTRIES.LIST",
            [
                _el("STOCKITEMNAME", name, "String"),
                _el("ISDEEMEDPOSITIVE", "Yes" if inward else "No", "Logical"),
                _el("RATE", _rate(float(line["rate"]), unit), "Rate"),
                _el("AMOUNT", amount, "Amount"),
                _el("ACTUALQTY", qty, "Quantity"),
                _el("BILLEDQTY", qty, "Quantity"),
                _list(
                    "BATCHALLOCATIONS.LIST",
                    [
                        _el("GODOWNNAME", MAIN_LOCATION, "String"),
                        _el("BATCHNAME", "Primary Batch", "String"),
                        _el("ORDERNO", order_no, "String"),
                        _el(
                            "ORDERDUEDATE",
                            f"{vdate.day}-{_MONTHS[vdate.month - 1]}-{vdate:%y}",
                            "Date",
                        ),
                        _el("AMOUNT", amount, "Amount"),
                        _el("ACTUALQTY", qty, "Quantity"),
                        _el("BILLEDQTY", qty, "Quantity"),
                    ],
                ),
                _list(
                    "ACCOUNTINGALLOCATIONS.LIST",
                    [_el("LEDGERNAME", ledger, "String"), _el("AMOUNT", amount, "Amount")],
                ),
            ],
        )

    def dispatch_one(self) -> str | None:
        """Dispatch the oldest open sales order: a new Sales voucher, stock reduced.

        Returns the new voucher number, or None when no order is open.
        """
        if not self.open_orders:
            return None
        order = self.open_orders.pop(0)
        fy = order["doc_no"].split("/")[1] if order["doc_no"].count("/") >= 2 else "25-26"
        serial = len(self._invoice_numbers) + 1
        number = f"INV/{fy}/{serial:05d}"
        while number in self._invoice_numbers:
            serial += 1
            number = f"INV/{fy}/{serial:05d}"
        vdate = max(_iso(order["date"]), self.last_voucher_date)
        self.last_voucher_date = vdate
        taxable = sum(float(line["amount"]) for line in order.get("lines", []))
        rates = [
            self.items.get(line["product_name"], {}).get("gst_rate", 18.0)
            for line in order.get("lines", [])
        ]
        gst = round(
            sum(
                float(ln["amount"]) * r / 100
                for ln, r in zip(order.get("lines", []), rates, strict=True)
            ),
            2,
        )
        invoice = {
            "doc_no": number,
            "date": vdate.isoformat(),
            "order_no": order["doc_no"],
            "company_id": order.get("company_id"),
            "customer_name": order.get("customer_name"),
            "gstin": order.get("gstin"),
            "po_ref": order["doc_no"],
            "lines": order.get("lines", []),
            "taxable_value": round(taxable, 2),
            "gst_amount": gst,
        }
        self._add_sales(invoice)
        return number

    # queries ---------------------------------------------------------------------------

    def company_object(self) -> TallyObject:
        def fields() -> list[tuple[str, str]]:
            return [
                ("BOOKSFROM", _el("BOOKSFROM", _tally_date(self.books_from), "Date")),
                ("STARTINGFROM", _el("STARTINGFROM", _tally_date(self.books_from), "Date")),
                ("LASTVOUCHERDATE", _el("LASTVOUCHERDATE", _tally_date(self.last_voucher_date), "Date")),
                ("STATENAME", _el("STATENAME", STATE_NAMES[HOME_STATE_CODE], "String")),
                ("ALTMSTID", _el("ALTMSTID", _padded(self.alt_mst_id), "Number")),
                ("ALTVCHID", _el("ALTVCHID", _padded(self.alt_vch_id), "Number")),
                ("ISINVENTORYON", _el("ISINVENTORYON", "Yes", "Logical")),
            ]  # fmt: skip

        return TallyObject("COMPANY", self.name, self.guid, 1, 1, fields=fields)

    def objects_of(self, type_name: str) -> list[TallyObject]:
        """Every object of a Tally object type (``StockItem``, ``Ledger``, ...)."""
        key = type_name.replace(" ", "").lower()
        if key == "stockitem":
            return list(self.item_objects)
        if key == "stockgroup":
            return list(self.groups)
        if key == "ledger":
            return list(self.ledgers)
        if key == "voucher":
            return list(self.vouchers)
        if key == "company":
            return [self.company_object()]
        raise TallyRequestError(f"Unknown object type '{type_name}' in collection definition")


def _ledger_entry(ledger: str, amount: float, deemed_positive: bool, is_party: bool = False) -> str:
    return _list(
        "LEDGERENTRIES.LIST",
        [
            _el("LEDGERNAME", ledger, "String"),
            _el("ISDEEMEDPOSITIVE", "Yes" if deemed_positive else "No", "Logical"),
            _el("ISPARTYLEDGER", "Yes" if is_party else "No", "Logical"),
            _el("AMOUNT", _num(amount), "Amount"),
        ],
    )


# --------------------------------------------------------------------------- requests

_FORMULA_ID = re.compile(r"^\$(alterid|masterid)\s*(>=|<=|==|=|>|<)\s*(\d+)$", re.IGNORECASE)
_FORMULA_VTYPE = re.compile(
    r'^(?:\$vouchertypename\s*=\s*"([^"]*)"|\$\$isequal:\$vouchertypename:"([^"]*)")$',
    re.IGNORECASE,
)
_OPS: dict[str, Callable[[int, int], bool]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "=": lambda a, b: a == b,
    "==": lambda a, b: a == b,
}


def compile_filter(formula: str) -> Callable[[TallyObject], bool]:
    """A predicate for the small formula language the simulator understands.

    Supported: ``$AlterID > N`` (any comparison, also ``$MasterID``), ``$VoucherTypeName =
    "Sales"`` or ``$$IsEqual:$VoucherTypeName:"Sales"``, joined with ``AND``.
    """
    predicates: list[Callable[[TallyObject], bool]] = []
    for clause in re.split(r"\s+and\s+", formula.strip(), flags=re.IGNORECASE):
        clause = clause.strip().strip("()").strip()
        if match := _FORMULA_ID.match(clause):
            attr = "alter_id" if match.group(1).lower() == "alterid" else "master_id"
            op, bound = _OPS[match.group(2)], int(match.group(3))
            predicates.append(lambda o, a=attr, op=op, b=bound: op(getattr(o, a), b))
        elif match := _FORMULA_VTYPE.match(clause):
            wanted = (match.group(1) or match.group(2) or "").lower()
            predicates.append(lambda o, w=wanted: (o.voucher_type or "").lower() == w)
        else:
            raise TallyRequestError(f"Could not evaluate formula '{formula}'")
    return lambda obj: all(p(obj) for p in predicates)


def parse_request_date(value: str) -> date:
    """A request date: ``YYYYMMDD``, ``YYYY-MM-DD``, ``d-MMM-yyyy`` or ``d-MMM-yy``."""
    text = value.strip()
    for fmt in ("%Y%m%d", "%Y-%m-%d", "%d-%b-%Y", "%d-%b-%y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise TallyRequestError(f"Invalid date '{value}'")


def _decode_request(body: bytes) -> tuple[str, bool]:
    """The request text and whether the client spoke UTF-8 (and asked for it)."""
    if body.startswith(b"\xff\xfe") or (len(body) > 1 and body[1] == 0 and body[0] != 0):
        return body.decode("utf-16-le", errors="replace").lstrip("\ufeff"), False
    if body.startswith(b"\xfe\xff") or (len(body) > 1 and body[0] == 0):
        return body.decode("utf-16-be", errors="replace").lstrip("\ufeff"), False
    text = body.decode("utf-8", errors="replace").lstrip("\ufeff")
    declares_utf8 = bool(re.match(r"\s*<\?xml[^>]*encoding=[\"']utf-?8", text, re.IGNORECASE))
    return text, declares_utf8


@dataclass
class ExportRequest:
    """What a Tally export envelope asks for."""

    request_type: str  # Collection | Data | Object
    report_id: str
    static: dict[str, str]
    collection_type: str | None = None
    fetch: set[str] | None = None
    filters: list[str] = field(default_factory=list)


def parse_request(text: str) -> ExportRequest:
    """Read an export envelope (raises TallyRequestError for anything Tally would refuse)."""
    from lxml import etree

    text = sanitize(text)
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    try:
        root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        raise TallyRequestError(f"Unknown Request, cannot be processed: {exc}") from None
    if root.tag.upper() != "ENVELOPE":
        raise TallyRequestError("Unknown Request, cannot be processed")

    def find_text(path: str) -> str:
        found = root.find(path)
        return (found.text or "").strip() if found is not None else ""

    tally_request = find_text("HEADER/TALLYREQUEST")
    request_type = find_text("HEADER/TYPE")
    report_id = find_text("HEADER/ID")
    if not report_id:  # the older "Export Data" form names the report in the body
        report_id = find_text(".//REQUESTDESC/REPORTNAME")
        request_type = request_type or "Data"
    if tally_request and not tally_request.lower().startswith("export"):
        raise TallyRequestError(f"Unsupported request '{tally_request}'")
    if not report_id:
        raise TallyRequestError("Unknown Request, cannot be processed")
    static: dict[str, str] = {}
    for holder in root.iter("STATICVARIABLES"):
        for child in holder:
            if isinstance(child.tag, str):
                static[child.tag.upper()] = (child.text or "").strip()
    request = ExportRequest(request_type or "Collection", report_id, static)
    for collection in root.iter("COLLECTION"):
        if collection.get("NAME", "").strip().lower() != report_id.lower():
            continue
        request.collection_type = (collection.findtext("TYPE") or "").strip()
        fetch_text = ",".join(f.text or "" for f in collection.findall("FETCH"))
        if fetch_text.strip():
            request.fetch = {
                part.strip().split(".")[0].upper() for part in fetch_text.split(",") if part.strip()
            }
        filter_names = [
            name.strip()
            for f in collection.findall("FILTER")
            for name in (f.text or "").split(",")
            if name.strip()
        ]
        formulas = {
            s.get("NAME", "").strip().lower(): (s.text or "").strip()
            for s in root.iter("SYSTEM")
            if s.get("TYPE", "").lower() == "formulae"
        }
        for name in filter_names:
            if name.lower() not in formulas:
                raise TallyRequestError(f"Could not find Formula '{name}'")
            request.filters.append(formulas[name.lower()])
    return request


_BUILTIN_COLLECTIONS = {
    "stockitem": "StockItem",
    "stockitems": "StockItem",
    "stockgroup": "StockGroup",
    "stockgroups": "StockGroup",
    "ledger": "Ledger",
    "ledgers": "Ledger",
    "voucher": "Voucher",
    "vouchers": "Voucher",
    "company": "Company",
    "listofcompanies": "Company",
}
_ACCOUNT_TYPES = {
    "stockitems": ["StockItem"],
    "stockgroups": ["StockGroup"],
    "ledgers": ["Ledger"],
    "allinventorymasters": ["StockGroup", "StockItem"],
    "allmasters": ["StockGroup", "StockItem", "Ledger"],
    "allaccountsmasters": ["Ledger"],
}


def _envelope_collection(objects: str) -> str:
    return (
        "<ENVELOPE>\r\n <HEADER>\r\n  <VERSION>1</VERSION>\r\n  <STATUS>1</STATUS>\r\n </HEADER>\r\n"
        f" <BODY>\r\n  <DESC>\r\n  </DESC>\r\n  <DATA>\r\n   <COLLECTION>{objects}</COLLECTION>\r\n"
        "  </DATA>\r\n </BODY>\r\n</ENVELOPE>\r\n"
    )


def _envelope_data(report: str, objects: list[str]) -> str:
    messages = "".join(f"<TALLYMESSAGE>{obj}</TALLYMESSAGE>\r\n" for obj in objects)
    return (
        "<ENVELOPE>\r\n <HEADER>\r\n  <TALLYREQUEST>Import Data</TALLYREQUEST>\r\n </HEADER>\r\n"
        " <BODY>\r\n  <IMPORTDATA>\r\n   <REQUESTDESC>\r\n"
        f"    <REPORTNAME>{_text(report)}</REPORTNAME>\r\n   </REQUESTDESC>\r\n"
        f"   <REQUESTDATA>\r\n{messages}   </REQUESTDATA>\r\n  </IMPORTDATA>\r\n </BODY>\r\n"
        "</ENVELOPE>\r\n"
    )


def lineerror(message: str) -> str:
    return f"<RESPONSE>\r\n <LINEERROR>{_text(message)}</LINEERROR>\r\n</RESPONSE>\r\n"


def answer(company: TallyCompany, request: ExportRequest) -> str:
    """The XML text Tally would export for ``request`` (raises TallyRequestError)."""
    fmt = request.static.get("SVEXPORTFORMAT", "$$SysName:XML")
    if fmt.split(":")[-1].strip().upper() != "XML":
        raise TallyRequestError(f"Export format '{fmt}' is not supported; use $$SysName:XML")
    wanted_company = request.static.get("SVCURRENTCOMPANY")
    if wanted_company and wanted_company.strip() != company.name:
        raise TallyRequestError(f"Could not find Company '{wanted_company}'")
    from_date = (
        parse_request_date(request.static["SVFROMDATE"])
        if request.static.get("SVFROMDATE")
        else None
    )
    to_date = (
        parse_request_date(request.static["SVTODATE"]) if request.static.get("SVTODATE") else None
    )
    predicates = [compile_filter(formula) for formula in request.filters]

    def keep(obj: TallyObject) -> bool:
        if obj.voucher_date is not None:
            if from_date and obj.voucher_date < from_date:
                return False
            if to_date and obj.voucher_date > to_date:
                return False
        return all(p(obj) for p in predicates)

    kind = request.request_type.strip().lower()
    key = request.report_id.replace(" ", "").lower()
    if kind == "collection":
        type_name = request.collection_type or _BUILTIN_COLLECTIONS.get(key)
        if not type_name:
            raise TallyRequestError(f"Could not find Collection '{request.report_id}'")
        objects = [o for o in company.objects_of(type_name) if keep(o)]
        return _envelope_collection("".join(o.render(request.fetch) for o in objects))
    if kind == "data":
        if key == "daybook":
            types = ["Voucher"]
        elif key == "listofaccounts":
            account_type = request.static.get("ACCOUNTTYPE", "All Masters").replace(" ", "").lower()
            if account_type not in _ACCOUNT_TYPES:
                raise TallyRequestError(
                    f"Unknown Account Type '{request.static.get('ACCOUNTTYPE')}'"
                )
            types = _ACCOUNT_TYPES[account_type]
        else:
            raise TallyRequestError(f"Could not find Report '{request.report_id}'")
        objects = [o for t in types for o in company.objects_of(t) if keep(o)]
        return _envelope_data(request.report_id, [o.render(None) for o in objects])
    raise TallyRequestError(f"Unsupported request type '{request.request_type}'")


# --------------------------------------------------------------------------- the server


class _Handler(BaseHTTPRequestHandler):
    server: _TallyHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "TallyPrime"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("tally-sim %s", format % args)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, payload: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up waiting (timeouts)

    def _send_json(self, status: int, data: dict[str, Any]) -> None:
        self._send(status, json.dumps(data).encode(), "application/json")

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        simulator = self.server.simulator
        if self.path == CONTROL_PATH:
            self._send_json(200, simulator.faults.snapshot())
            return
        if simulator.faults.mode == "down":
            self.close_connection = True
            return
        self._send(200, b"<RESPONSE>TallyPrime Server is Running</RESPONSE>", "text/xml")

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        simulator = self.server.simulator
        body = self._body()
        if self.path == CONTROL_PATH:
            self._send_json(*simulator.faults.handle_control(body))
            return
        if self.path == "/__dispatch":
            with simulator.lock:
                number = simulator.company.dispatch_one()
            self._send_json(200, {"dispatched": number})
            return
        faults = simulator.faults
        if faults.mode == "down":
            self.close_connection = True  # drop the connection without a byte, as a dead server
            return
        with simulator.lock:  # Tally answers one request at a time
            faults.pause()
            text, utf8 = _decode_request(body)
            charset_utf8 = "utf-8" in (self.headers.get("Content-Type") or "").lower()
            utf8 = utf8 or (charset_utf8 and not body.startswith((b"\xff\xfe", b"\xfe\xff")))
            mode = faults.mode
            if mode == "lineerror":
                xml = lineerror("Tally is busy: a report is open in the foreground")
            else:
                try:
                    xml = answer(simulator.company, parse_request(text))
                except TallyRequestError as exc:
                    xml = lineerror(str(exc))
            if mode == "malformed":
                # Broken markup at a character boundary, so it is malformed in any encoding.
                middle = len(xml) // 2
                xml = xml[:middle] + "<<garbled>>" + xml[middle:]
            if utf8:
                payload, content_type = xml.encode("utf-8"), "text/xml; charset=utf-8"
            else:
                payload = b"\xff\xfe" + xml.encode("utf-16-le")
                content_type = "text/xml; charset=utf-16"
            if mode == "truncated":
                payload = faults.mangle(payload)
        self._send(200, payload, content_type)


class _TallyHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    simulator: TallySimulator


class TallySimulator:
    """An in-process Tally Prime HTTP server over a demo world.

    ``TallySimulator(world_dir, port=0).start()`` returns the bound URL; ``stop()`` ends it.
    """

    def __init__(
        self,
        world_dir: Path | str,
        host: str = "127.0.0.1",
        port: int = 9000,
        live_interval_s: float | None = None,
        fault: str = "none",
        delay_s: float = 2.0,
    ) -> None:
        self.company = TallyCompany(Path(world_dir))
        self.host = host
        self.port = port
        self.live_interval_s = live_interval_s
        self.faults = Faults(fault, delay_s)
        self.lock = threading.Lock()
        self._server: _TallyHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> str:
        """Bind and serve in background threads; returns the base URL."""
        self._server = _TallyHTTPServer((self.host, self.port), _Handler)
        self._server.simulator = self
        serve = threading.Thread(target=self._server.serve_forever, name="tally-sim", daemon=True)
        serve.start()
        self._threads.append(serve)
        if self.live_interval_s:
            live = threading.Thread(target=self._live_loop, name="tally-sim-live", daemon=True)
            live.start()
            self._threads.append(live)
        return self.url

    def dispatch_one(self) -> str | None:
        """Dispatch one open order now (what the live loop does each interval)."""
        with self.lock:
            return self.company.dispatch_one()

    def _live_loop(self) -> None:
        assert self.live_interval_s is not None
        while not self._stopping.wait(self.live_interval_s):
            number = self.dispatch_one()
            if number:
                log.info("tally-sim dispatched %s", number)

    def wait(self) -> None:
        """Block until stopped (or interrupted)."""
        while not self._stopping.wait(0.5):
            pass

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    def __enter__(self) -> TallySimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
