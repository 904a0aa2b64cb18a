"""The simulated company's books: masters and vouchers from the demo world, AlterIDs, dispatches."""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from demo.sim.tally.objects import (
    _GUID_NAMESPACE,
    _MONTHS,
    COMPANY_NAME,
    HOME_STATE_CODE,
    MAIN_LOCATION,
    NOT_APPLICABLE,
    PRIMARY,
    PURCHASE_LEDGER,
    SALES_LEDGER,
    STATE_NAMES,
    SUPPLIER_LEDGER,
    TAX_LEDGERS,
    TallyObject,
    TallyRequestError,
    _el,
    _list,
    _num,
    _padded,
    _qty,
    _rate,
    _tally_date,
)

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
                "aliases": [a for a in product.get("aliases") or () if a != product["name"]],
                "pack": product.get("pack"),
                "pack_size_kg": product.get("pack_size_kg"),
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
        # The item's names: its own first, then its aliases (what customers write).
        names = _list(
            "LANGUAGENAME.LIST",
            [
                f'<NAME.LIST TYPE="String">'
                f"{''.join(_el('NAME', n) for n in [s['name'], *s['aliases']])}</NAME.LIST>",
                _el("LANGUAGEID", " 1033", "Number"),
            ],
        )
        # The standard pack as Tally's alternate unit: 1 <pack> = <size> <base unit>.
        pack = []
        if s["pack"] and s["pack_size_kg"] and s["pack"] != unit:
            pack = [
                ("ADDITIONALUNITS", _el("ADDITIONALUNITS", s["pack"], "String")),
                ("DENOMINATOR", _el("DENOMINATOR", f" {_num(s['pack_size_kg'])}", "Number")),
                ("CONVERSION", _el("CONVERSION", " 1", "Number")),
            ]
        # Stock is an asset: Tally writes its values as debits, i.e. negative.
        return [
            ("LANGUAGENAME.LIST", names),
            ("PARENT", _el("PARENT", s["parent"], "String")),
            ("CATEGORY", _el("CATEGORY", NOT_APPLICABLE, "String")),
            ("BASEUNITS", _el("BASEUNITS", unit, "String")),
            *pack,
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
