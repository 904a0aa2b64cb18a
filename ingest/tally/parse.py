"""Tally XML exports -> plain, normalised records, streaming in bounded memory.

Three layers, bottom up:

- **values**: Tally's value text: padded numbers, units in quantities and rates, ``(-)``
  negatives, Indian thousands separators, ``YYYYMMDD`` / ``d-MMM-yy`` dates, ``Yes``/``No``.
- **elements**: Tally answers in UTF-16 (with or without a BOM) or UTF-8, and its output is
  not valid XML 1.0: reserved names carry ``&#4;`` and other control characters appear as
  references or raw. The stream is decoded in chunks, cleaned of those characters,
  re-encoded as UTF-8 and fed to an incremental lxml parser; each object element
  (STOCKITEM, LEDGER, VOUCHER, ...) is handed out as it completes and then freed, so memory
  stays flat however large the export is. A document declaring a DOCTYPE is refused: its
  entities would be dropped from element text without a word.
- **records**: object elements become dicts in the business's words (``closing_qty``,
  ``party``, ``order_refs``) with Python values (float, date, bool); every record carries
  ``guid``, ``master_id`` and ``alter_id``. A record holding a value that cannot be read is
  handed to ``on_reject`` (with its XML) and skipped, so one bad value never costs the rest.
"""

from __future__ import annotations

import codecs
import io
import math
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from lxml import etree

from ingest.tally.errors import TallyParseError, TallyResponseError

Record = dict[str, Any]
#: ``on_reject(collection, label, reason, xml_bytes)``: a record that could not be read.
OnReject = Callable[[str, str, str, bytes], None]

# --- values -------------------------------------------------------------------------------

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
    if not math.isfinite(number):  # hundreds of digits: no amount or quantity is that large
        raise ValueError(f"number out of range: {text[:40]!r}...")
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


#: Tally's ids (MasterID, AlterID) land in bigint columns.
_BIGINT_MAX = (1 << 63) - 1


def parse_int(text: str | None) -> int | None:
    """A space-padded integer such as ``" 22"``; None when empty. Raises ValueError for a
    value outside PostgreSQL's bigint range."""
    number = parse_number(text)
    if number is None:
        return None
    if abs(number) > _BIGINT_MAX:
        raise ValueError(f"integer out of range: {(text or '')[:40]!r}")
    return int(number)


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


# --- elements -----------------------------------------------------------------------------

OBJECT_TAGS = ("STOCKITEM", "STOCKGROUP", "LEDGER", "VOUCHER", "COMPANY")
#: Other master types found in "All Masters" style exports: freed, never handed out.
_SKIPPED_TAGS = (
    "TALLYMESSAGE",
    "GROUP",
    "UNIT",
    "GODOWN",
    "CURRENCY",
    "VOUCHERTYPE",
    "COSTCENTRE",
    "COSTCATEGORY",
    "STOCKCATEGORY",
)
CHUNK_SIZE = 4 << 20

# Character references to code points XML 1.0 forbids (everything below 0x20 except
# tab, LF and CR); Tally writes &#4; before reserved names.
_ILLEGAL_REF = re.compile(
    r"&#(?:[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F])|0*(?:[0-8]|1[1-24-9]|2[0-9]|3[01]));"
)
_RAW_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
#: The first element tag: where the prolog (declaration, comments, DOCTYPE) ends.
_ROOT_START = re.compile(r"<[A-Za-z_:]")
_DOCTYPE = re.compile(r"<!DOCTYPE", re.IGNORECASE)


def detect_encoding(head: bytes) -> tuple[str, int]:
    """(codec, BOM length) from a document's first bytes: BOM first, then the NUL pattern."""
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    if len(head) >= 2:
        if head[0] != 0 and head[1] == 0:
            return "utf-16-le", 0
        if head[0] == 0 and head[1] != 0:
            return "utf-16-be", 0
    return "utf-8", 0


def sanitize(text: str) -> str:
    """Text with illegal character references and raw control characters removed."""
    if "&#" in text:
        text = _ILLEGAL_REF.sub("", text)
    if _RAW_CONTROL.search(text):
        text = _RAW_CONTROL.sub("", text)
    return text


class _Cleaner:
    """Decode chunks to sanitised text, holding back a reference split across chunks."""

    def __init__(self, codec: str) -> None:
        self._decoder = codecs.getincrementaldecoder(codec)(errors="replace")
        self._carry = ""
        self._first = True

    def feed(self, data: bytes, final: bool = False) -> str:
        text = self._carry + self._decoder.decode(data, final)
        self._carry = ""
        if not final:
            amp = text.rfind("&", max(0, len(text) - 16))
            if amp != -1 and ";" not in text[amp:]:
                text, self._carry = text[:amp], text[amp:]
        if self._first and text:
            # The declaration names the original encoding; the parser now sees UTF-8.
            text = _XML_DECLARATION.sub("", text.lstrip("\ufeff"), count=1)
            self._first = False
        return sanitize(text)


def _chunks(source: bytes | BinaryIO | Iterable[bytes], chunk_size: int) -> Iterator[bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        source = io.BytesIO(bytes(source))
    if hasattr(source, "read"):
        while chunk := source.read(chunk_size):  # type: ignore[union-attr]
            yield chunk
        return
    for chunk in source:  # type: ignore[union-attr]
        if chunk:
            yield chunk


def _free(elem: etree._Element) -> None:
    """Release an element and everything before it in the tree, up to the root."""
    elem.clear(keep_tail=False)
    node = elem
    while (parent := node.getparent()) is not None:
        while node.getprevious() is not None:
            del parent[0]
        node = parent


def iter_elements(
    source: bytes | BinaryIO | Iterable[bytes],
    tags: Iterable[str] = OBJECT_TAGS,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[etree._Element]:
    """Each completed object element of an export, in document order.

    An element is valid only until the next one is requested (it is freed then).
    Raises TallyResponseError for ``<LINEERROR>`` and TallyParseError for a malformed,
    truncated or empty document.
    """
    wanted = tuple(tag.upper() for tag in tags)
    parser = etree.XMLPullParser(
        events=("end",),
        tag=(*wanted, *_SKIPPED_TAGS, "LINEERROR"),
        encoding="utf-8",
        huge_tree=True,
        resolve_entities=False,
        no_network=True,
        remove_comments=True,
        remove_pis=True,
    )
    cleaner: _Cleaner | None = None
    fed = False
    got_objects = False
    prolog: str | None = ""  # text before the root element; None once it has started

    def drain() -> Iterator[etree._Element]:
        nonlocal got_objects
        for _, elem in parser.read_events():
            tag = elem.tag
            if tag == "LINEERROR":
                raise TallyResponseError(" ".join((elem.text or "").split()) or "Tally error")
            if tag in wanted:
                got_objects = True
                yield elem
            elif next(elem.iterancestors(*wanted), None) is not None:
                continue  # a field of an object still being read
            _free(elem)

    try:
        for chunk in _chunks(source, chunk_size):
            if cleaner is None:
                codec, bom = detect_encoding(chunk[:4])
                cleaner = _Cleaner(codec)
                chunk = chunk[bom:]
            text = cleaner.feed(chunk)
            if text and prolog is not None:
                prolog = _check_prolog(prolog, text)
            if text:
                fed = fed or bool(text.strip())
                parser.feed(text.encode("utf-8"))
                yield from drain()
        if cleaner is not None:
            tail = cleaner.feed(b"", final=True)
            if tail and prolog is not None:
                prolog = _check_prolog(prolog, tail)
            if tail:
                fed = fed or bool(tail.strip())
                parser.feed(tail.encode("utf-8"))
        if not fed:
            raise TallyParseError("Tally sent an empty response")
        try:
            root = parser.close()
        except etree.XMLSyntaxError as exc:
            raise TallyParseError(
                f"Tally's response ended before the document was complete (truncated?): {exc}"
            ) from None
        yield from drain()
    except etree.XMLSyntaxError as exc:
        raise TallyParseError(f"Tally's response is not well-formed XML: {exc}") from None
    if root.tag == "RESPONSE" and not got_objects:
        message = " ".join("".join(root.itertext()).split())
        if message and "running" not in message.lower():
            raise TallyResponseError(message)


def _check_prolog(prolog: str, text: str) -> str | None:
    """The prolog seen so far (None once the root element starts); raises TallyParseError
    for a DOCTYPE, whose entity definitions the parser would silently drop from text."""
    prolog += text
    start = _ROOT_START.search(prolog)
    if _DOCTYPE.search(prolog if start is None else prolog[: start.start()]):
        raise TallyParseError(
            "Tally's response declares a DOCTYPE; Tally never sends one, and its entities "
            "cannot be trusted or expanded: refusing the document"
        )
    if start is not None:
        return None
    return prolog[-16:]  # enough to see a "<!DOCTYPE" split across chunks


def iter_file_elements(path: Path, tags: Iterable[str] = OBJECT_TAGS) -> Iterator[etree._Element]:
    """:func:`iter_elements` over a saved export file."""
    with Path(path).open("rb") as handle:
        yield from iter_elements(handle, tags)


# --- records ------------------------------------------------------------------------------


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


def _aliases(elem: etree._Element, name: str | None) -> list[str]:
    """A master's other names: every NAME in LANGUAGENAME.LIST/NAME.LIST but its own."""
    names = [clean_text(n.text) for n in elem.iterfind("LANGUAGENAME.LIST/NAME.LIST/NAME")]
    return [n for n in _unique(names) if n != name]


def _pack(elem: etree._Element) -> tuple[str | None, float | None]:
    """The alternate unit and how many base units one of it holds.

    Tally stores "<CONVERSION> <ADDITIONALUNITS> = <DENOMINATOR> <BASEUNITS>" (1 Bag = 25 kg).
    """
    unit = _clean(elem, "ADDITIONALUNITS")
    if not unit or unit.lower() == "not applicable":
        return None, None
    per = parse_number(_text(elem, "DENOMINATOR"))
    count = parse_number(_text(elem, "CONVERSION")) or 1.0
    return unit, (per / count if per and count > 0 else None)


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
    name = _name(elem)
    pack, pack_size = _pack(elem)
    return {
        "name": name,
        "aliases": _aliases(elem, name),
        "pack": pack,
        "pack_size": pack_size,
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


def record_label(elem: etree._Element) -> str:
    """How a person finds the object in Tally: its GUID, else name or voucher number."""
    for value in (
        _text(elem, "GUID"),
        elem.get("NAME"),
        _text(elem, "NAME"),
        _text(elem, "VOUCHERNUMBER"),
    ):
        cleaned = clean_text(value)
        if cleaned:
            return cleaned
    return "?"


def iter_records(
    source: bytes | BinaryIO | Iterable[bytes],
    collection: str,
    *,
    on_reject: OnReject | None = None,
) -> Iterator[Record]:
    """Normalised records of one collection from an export (a stream, bytes or chunks).

    A value that is not what its field promises raises TallyParseError (with the object's
    name), unless ``on_reject`` is given: then it is called with (collection, label, reason,
    the object's XML) and the record is skipped. Malformed documents always raise
    TallyParseError; ``<LINEERROR>`` raises TallyResponseError.
    """
    if collection not in COLLECTIONS:
        raise ValueError(
            f"unknown collection {collection!r}; expected one of {', '.join(COLLECTIONS)}"
        )
    tag, build = COLLECTIONS[collection]
    for elem in iter_elements(source, tags=(tag,)):
        try:
            record = build(elem)
            if tag != "VOUCHER" and not (
                record.get("guid") or record.get("master_id") is not None or record.get("name")
            ):
                # nothing to key it by (ingest.tally.land.record_key): refused, not guessed
                raise ValueError("the object has neither GUID, MasterID nor name")
        except ValueError as exc:
            if on_reject is None:
                label = (
                    elem.get("NAME") or _text(elem, "VOUCHERNUMBER") or _text(elem, "GUID") or "?"
                )
                raise TallyParseError(f"{tag} {label!r}: {exc}") from None
            on_reject(collection, record_label(elem), f"{tag}: {exc}", etree.tostring(elem))
            continue
        yield record


def read_file_records(path: Path, collection: str) -> Iterator[Record]:
    """:func:`iter_records` over a saved export in UTF-16 or UTF-8."""
    with Path(path).open("rb") as handle:
        yield from iter_records(handle, collection)
