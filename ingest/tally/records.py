"""Turn Tally object elements into plain, normalised records (dicts).

Records use the business's words (``closing_qty``, ``party``, ``order_refs``) and Python
values (float, date, bool); every record carries ``guid``, ``master_id`` and ``alter_id``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from lxml import etree

from ingest.tally.errors import TallyParseError
from ingest.tally.parse import iter_elements
from ingest.tally.values import (
    clean_text,
    parse_bool,
    parse_date,
    parse_int,
    parse_number,
    parse_quantity,
    parse_rate,
)

Record = dict[str, Any]


def _text(elem: etree._Element, path: str) -> str | None:
    found = elem.find(path)
    return None if found is None else found.text


def _fields(elem: etree._Element) -> dict[str, str | None]:
    """Child tag -> text of its first occurrence (one pass; far cheaper than many finds)."""
    fields: dict[str, str | None] = {}
    for child in elem:
        fields.setdefault(child.tag, child.text)
    return fields


def _clean(elem: etree._Element, path: str) -> str | None:
    return clean_text(_text(elem, path))


def _name(elem: etree._Element) -> str | None:
    return clean_text(
        elem.get("NAME") or _text(elem, "NAME") or _text(elem, "LANGUAGENAME.LIST/NAME.LIST/NAME")
    )


def _ids(elem: etree._Element, fields: dict[str, str | None] | None = None) -> Record:
    f = _fields(elem) if fields is None else fields
    return {
        "guid": clean_text(f.get("GUID")) or clean_text(elem.get("REMOTEID")),
        "master_id": parse_int(f.get("MASTERID")),
        "alter_id": parse_int(f.get("ALTERID")),
    }


def _unique(values: Iterable[str | None]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if value:
            seen.setdefault(value, None)
    return list(seen)


def _gst_rate(elem: etree._Element) -> float | None:
    """The item's integrated GST rate from its latest GST details (else CGST + SGST)."""
    details = elem.findall("GSTDETAILS.LIST")
    scope = details[-1] if details else elem
    rates: dict[str, float] = {}
    for rate in scope.iter("RATEDETAILS.LIST"):
        head = (clean_text(_text(rate, "GSTRATEDUTYHEAD")) or "").lower()
        value = parse_number(_text(rate, "GSTRATE"))
        if value is not None:
            rates[head] = value
    for head in ("igst", "integrated tax"):
        if head in rates:
            return rates[head]
    halves = [v for k, v in rates.items() if k.startswith(("cgst", "sgst", "central", "state"))]
    if halves:
        return sum(halves)
    direct = _text(scope, "GSTRATE") if scope is not elem else _text(elem, "GSTRATE")
    return parse_number(direct)


def stock_item_record(elem: etree._Element) -> Record:
    """A stock item: ``name, parent, unit, closing_qty, rate, value, hsn, gst_rate, ...``.

    Tally writes stock values as debits (negative); ``value`` and ``opening_value`` are
    turned back into the positive worth of the stock on hand.
    """
    closing_qty, qty_unit = parse_quantity(_text(elem, "CLOSINGBALANCE"))
    opening_qty, _ = parse_quantity(_text(elem, "OPENINGBALANCE"))
    rate, rate_unit = parse_rate(_text(elem, "CLOSINGRATE"))
    value = parse_number(_text(elem, "CLOSINGVALUE"))
    opening_value = parse_number(_text(elem, "OPENINGVALUE"))
    hsn = next(
        (clean_text(h.text) for h in reversed(list(elem.iter("HSNCODE"))) if clean_text(h.text)),
        None,
    )
    return {
        "name": _name(elem),
        "parent": _clean(elem, "PARENT"),
        "unit": _clean(elem, "BASEUNITS") or qty_unit or rate_unit,
        "opening_qty": opening_qty,
        "opening_value": None if opening_value is None else -opening_value,
        "closing_qty": closing_qty,
        "rate": rate,
        "value": None if value is None else -value,
        "hsn": hsn,
        "gst_rate": _gst_rate(elem),
        **_ids(elem),
    }


def stock_group_record(elem: etree._Element) -> Record:
    """A stock group: ``name, parent`` (Tally's root ``&#4; Primary`` becomes "Primary")."""
    return {"name": _name(elem), "parent": _clean(elem, "PARENT"), **_ids(elem)}


def ledger_record(elem: etree._Element) -> Record:
    """A ledger (party master): name, parent, GSTIN(s), PAN, state, email, mobile."""
    registrations = elem.findall("LEDGSTREGDETAILS.LIST")
    registered = [clean_text(_text(r, "GSTIN")) for r in registrations]
    party_gstin = _clean(elem, "PARTYGSTIN")
    gstins = _unique([party_gstin, *registered])
    latest = next((g for g in reversed(registered) if g), None)
    state = _clean(elem, "LEDSTATENAME") or _clean(elem, "STATENAME")
    if state is None and registrations:
        state = _clean(registrations[-1], "STATE")
    return {
        "name": _name(elem),
        "parent": _clean(elem, "PARENT"),
        "gstin": party_gstin or latest,
        "gstins": gstins,
        "pan": _clean(elem, "INCOMETAXNUMBER"),
        "state": state,
        "email": _clean(elem, "EMAIL"),
        "mobile": _clean(elem, "LEDGERMOBILE") or _clean(elem, "LEDGERPHONE"),
        "address": _unique(clean_text(a.text) for a in elem.iterfind("ADDRESS.LIST/ADDRESS")),
        "opening_balance": parse_number(_text(elem, "OPENINGBALANCE")),
        **_ids(elem),
    }


def _inventory_line(line_no: int, entry: etree._Element) -> Record:
    f = _fields(entry)
    qty, qty_unit = parse_quantity(f.get("ACTUALQTY"))
    billed_qty, billed_unit = parse_quantity(f.get("BILLEDQTY"))
    rate, rate_unit = parse_rate(f.get("RATE"))
    order_no = godown = None
    for allocation in entry.iterchildren("BATCHALLOCATIONS.LIST"):
        godown = godown or clean_text(allocation.findtext("GODOWNNAME"))
        order_no = order_no or clean_text(allocation.findtext("ORDERNO"))
    return {
        "line_no": line_no,
        "item": clean_text(f.get("STOCKITEMNAME")),
        "qty": qty if qty is not None else billed_qty,
        "unit": qty_unit or billed_unit or rate_unit,
        "billed_qty": billed_qty,
        "rate": rate,
        "rate_unit": rate_unit,
        "amount": parse_number(f.get("AMOUNT")),
        "order_no": order_no,
        "godown": godown,
    }


def voucher_record(elem: etree._Element) -> Record:
    """A voucher with its inventory ``lines`` and ``ledger_entries``.

    Amounts keep Tally's sign (debits negative); ``total`` is the party's amount as a
    positive figure.
    """
    f = _fields(elem)
    entries = list(elem.iterchildren("ALLINVENTORYENTRIES.LIST")) or list(
        elem.iterchildren("INVENTORYENTRIES.LIST")
    )
    lines = [_inventory_line(i, entry) for i, entry in enumerate(entries, start=1)]
    ledger_entries = []
    for entry in elem.iterchildren("LEDGERENTRIES.LIST", "ALLLEDGERENTRIES.LIST"):
        ef = _fields(entry)
        ledger_entries.append(
            {
                "ledger": clean_text(ef.get("LEDGERNAME")),
                "amount": parse_number(ef.get("AMOUNT")),
                "is_party": parse_bool(ef.get("ISPARTYLEDGER")),
            }
        )
    party = clean_text(f.get("PARTYLEDGERNAME")) or clean_text(f.get("PARTYNAME"))
    party_amounts = [
        e["amount"]
        for e in ledger_entries
        if e["amount"] is not None and (e["is_party"] or (party and e["ledger"] == party))
    ]
    order_refs = _unique(
        [
            *(
                clean_text(o.findtext("BASICPURCHASEORDERNO"))
                for o in elem.iterchildren("INVOICEORDERLIST.LIST")
            ),
            *(line["order_no"] for line in lines),
        ]
    )
    return {
        "voucher_type": clean_text(f.get("VOUCHERTYPENAME")) or clean_text(elem.get("VCHTYPE")),
        "number": clean_text(f.get("VOUCHERNUMBER")),
        "date": parse_date(f.get("DATE")),
        "party": party,
        "party_gstin": clean_text(f.get("PARTYGSTIN")),
        "reference": clean_text(f.get("REFERENCE")),
        "order_refs": order_refs,
        "is_cancelled": bool(parse_bool(f.get("ISCANCELLED"))),
        "is_optional": bool(parse_bool(f.get("ISOPTIONAL"))),
        "total": abs(party_amounts[0]) if party_amounts else None,
        "vehicle_no": clean_text(f.get("BASICSHIPVESSELNO")),
        "lr_no": clean_text(f.get("BASICSHIPDOCUMENTNO")),
        "lines": lines,
        "ledger_entries": ledger_entries,
        **_ids(elem, f),
    }


def company_record(elem: etree._Element) -> Record:
    """The company: name, books_from, last_voucher_date and highest AltMstId / AltVchId."""
    return {
        "name": _name(elem),
        "books_from": parse_date(_text(elem, "BOOKSFROM")),
        "last_voucher_date": parse_date(_text(elem, "LASTVOUCHERDATE")),
        "alt_mst_id": parse_int(_text(elem, "ALTMSTID")),
        "alt_vch_id": parse_int(_text(elem, "ALTVCHID")),
        **_ids(elem),
    }


#: collection name -> (Tally object tag, record builder)
COLLECTIONS: dict[str, tuple[str, Callable[[etree._Element], Record]]] = {
    "stock-items": ("STOCKITEM", stock_item_record),
    "stock-groups": ("STOCKGROUP", stock_group_record),
    "ledgers": ("LEDGER", ledger_record),
    "vouchers": ("VOUCHER", voucher_record),
    "company": ("COMPANY", company_record),
}


def iter_records(source: bytes | BinaryIO | Iterable[bytes], collection: str) -> Iterator[Record]:
    """Normalised records of one collection from an export (a stream, bytes or chunks).

    Raises TallyParseError for a value that is not what its field promises (with the
    object's name), as well as for malformed documents; TallyResponseError for LINEERROR.
    """
    if collection not in COLLECTIONS:
        raise ValueError(
            f"unknown collection {collection!r}; expected one of {', '.join(COLLECTIONS)}"
        )
    tag, build = COLLECTIONS[collection]
    for elem in iter_elements(source, tags=(tag,)):
        try:
            yield build(elem)
        except ValueError as exc:
            label = elem.get("NAME") or _text(elem, "VOUCHERNUMBER") or _text(elem, "GUID") or "?"
            raise TallyParseError(f"{tag} {label!r}: {exc}") from None


def read_file_records(path: Path, collection: str) -> Iterator[Record]:
    """:func:`iter_records` over a saved export in UTF-16 or UTF-8."""
    with Path(path).open("rb") as handle:
        yield from iter_records(handle, collection)
