"""The streaming parser on saved responses: encodings, illegal references, errors."""

from __future__ import annotations

import io

import pytest

from ingest.tally.errors import TallyParseError, TallyResponseError
from ingest.tally.parse import detect_encoding, iter_elements, iter_records, sanitize

STOCK_EXPORT = """<ENVELOPE><HEADER><VERSION>1</VERSION><STATUS>1</STATUS></HEADER><BODY><DATA>
<COLLECTION>
<STOCKITEM NAME="Zinc Oxide" RESERVEDNAME="">
 <GUID TYPE="String">g-zno</GUID>
 <MASTERID TYPE="Number"> 22</MASTERID>
 <ALTERID TYPE="Number"> 341</ALTERID>
 <PARENT TYPE="String">Pigments</PARENT>
 <CATEGORY TYPE="String">&#4; Not Applicable</CATEGORY>
 <BASEUNITS TYPE="String">kg</BASEUNITS>
 <CLOSINGBALANCE TYPE="Quantity"> 500.000 kg</CLOSINGBALANCE>
 <CLOSINGRATE TYPE="Rate">125.00/kg</CLOSINGRATE>
 <CLOSINGVALUE TYPE="Amount">-62500.00</CLOSINGVALUE>
 <GSTDETAILS.LIST><HSNCODE>28170010</HSNCODE><STATEWISEDETAILS.LIST>
  <RATEDETAILS.LIST><GSTRATEDUTYHEAD>IGST</GSTRATEDUTYHEAD><GSTRATE> 18</GSTRATE></RATEDETAILS.LIST>
 </STATEWISEDETAILS.LIST></GSTDETAILS.LIST>
</STOCKITEM>
<STOCKITEM NAME="Shah &amp; Sons Special Blend">
 <GUID>g-blend</GUID><MASTERID> 23</MASTERID><ALTERID> 342</ALTERID>
 <PARENT>&#4; Primary</PARENT>
 <CLOSINGBALANCE>(-)20.000 kg</CLOSINGBALANCE>
 <CLOSINGRATE>1,250.00/kg</CLOSINGRATE>
 <CLOSINGVALUE>25000.00</CLOSINGVALUE>
</STOCKITEM>
</COLLECTION></DATA></BODY></ENVELOPE>"""


def _utf16(text: str, bom: bool = True) -> bytes:
    return (b"\xff\xfe" if bom else b"") + text.encode("utf-16-le")


def test_a_conforming_parser_rejects_raw_tally_output() -> None:
    from lxml import etree

    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(STOCK_EXPORT.encode())


@pytest.mark.parametrize(
    "payload",
    [
        _utf16(STOCK_EXPORT),
        _utf16(STOCK_EXPORT, bom=False),
        STOCK_EXPORT.encode("utf-8"),
        b"\xef\xbb\xbf" + STOCK_EXPORT.encode("utf-8"),
        b"\xfe\xff" + STOCK_EXPORT.encode("utf-16-be"),
        _utf16('<?xml version="1.0" encoding="UTF-16"?>\r\n' + STOCK_EXPORT),
    ],
    ids=["utf16-bom", "utf16-no-bom", "utf8", "utf8-bom", "utf16be-bom", "utf16-declared"],
)
def test_stock_items_parse_in_every_encoding(payload: bytes) -> None:
    items = list(iter_records(payload, "stock-items"))
    assert [i["name"] for i in items] == ["Zinc Oxide", "Shah & Sons Special Blend"]
    zinc, blend = items
    assert zinc == {
        "name": "Zinc Oxide",
        "aliases": [],
        "pack": None,
        "pack_size": None,
        "parent": "Pigments",
        "unit": "kg",
        "opening_qty": None,
        "opening_value": None,
        "closing_qty": 500.0,
        "rate": 125.0,
        "value": 62500.0,  # Tally's debit (negative) made a positive stock value
        "hsn": "28170010",
        "gst_rate": 18.0,
        "guid": "g-zno",
        "master_id": 22,
        "alter_id": 341,
    }
    assert blend["parent"] == "Primary"
    assert blend["closing_qty"] == -20.0
    assert blend["unit"] == "kg"  # from the quantity when BaseUnits is absent
    assert blend["rate"] == 1250.0


def test_references_split_across_chunks_are_still_removed() -> None:
    payload = _utf16(STOCK_EXPORT)
    for chunk_size in (7, 64, 1001):
        elements = list(
            (e.get("NAME"), e.findtext("PARENT"))
            for e in iter_elements(io.BytesIO(payload), tags=("STOCKITEM",), chunk_size=chunk_size)
        )
        assert elements == [
            ("Zinc Oxide", "Pigments"),
            ("Shah & Sons Special Blend", " Primary"),
        ]


def test_sanitize_removes_illegal_references_and_raw_controls_only() -> None:
    text = "&#4; Primary &#x4; &#13;&#10; &#9; &#65; a\x04b\x1fc &amp;"
    assert sanitize(text) == " Primary  &#13;&#10; &#9; &#65; abc &amp;"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xfe<\x00", ("utf-16-le", 2)),
        (b"<\x00E\x00", ("utf-16-le", 0)),
        (b"\x00<\x00E", ("utf-16-be", 0)),
        (b"\xef\xbb\xbf<", ("utf-8", 3)),
        (b"<ENV", ("utf-8", 0)),
    ],
)
def test_detect_encoding(head: bytes, expected: tuple[str, int]) -> None:
    assert detect_encoding(head) == expected


def test_lineerror_raises_response_error_with_message() -> None:
    body = _utf16("<RESPONSE><LINEERROR>Could not find Collection 'Foo'</LINEERROR></RESPONSE>")
    with pytest.raises(TallyResponseError, match="Could not find Collection 'Foo'"):
        list(iter_records(body, "ledgers"))


def test_unknown_request_response_is_an_error() -> None:
    with pytest.raises(TallyResponseError, match="Unknown Request"):
        list(iter_records(b"<RESPONSE>Unknown Request, cannot be processed</RESPONSE>", "ledgers"))


def test_malformed_document_gives_a_clear_parse_error() -> None:
    body = _utf16("<ENVELOPE><BODY><DATA><STOCKITEM NAME='x'></DATA></ENVELOPE>")
    with pytest.raises(TallyParseError, match="not well-formed"):
        list(iter_records(body, "stock-items"))


def test_truncated_document_gives_a_clear_parse_error() -> None:
    body = _utf16(STOCK_EXPORT)
    with pytest.raises(TallyParseError, match="truncated"):
        list(iter_records(body[: len(body) * 2 // 3], "stock-items"))
    with pytest.raises(TallyParseError, match="truncated"):  # odd byte count: half a UTF-16 unit
        list(iter_records(body[:-3], "stock-items"))


def test_empty_response_is_a_parse_error() -> None:
    with pytest.raises(TallyParseError, match="empty"):
        list(iter_records(b"", "stock-items"))
    with pytest.raises(TallyParseError, match="empty"):
        list(iter_records(b"\xff\xfe", "stock-items"))


def test_bad_value_names_the_object() -> None:
    body = STOCK_EXPORT.replace('<CLOSINGRATE TYPE="Rate">125.00/kg', "<CLOSINGRATE>lots")
    with pytest.raises(TallyParseError, match="STOCKITEM 'Zinc Oxide'"):
        list(iter_records(body.encode(), "stock-items"))


VOUCHER_DAYBOOK = """<ENVELOPE><HEADER><TALLYREQUEST>Import Data</TALLYREQUEST></HEADER><BODY>
<IMPORTDATA><REQUESTDATA>
<TALLYMESSAGE><VOUCHER REMOTEID="v-1" VCHTYPE="Sales">
 <DATE>20251114</DATE><GUID>v-1</GUID><VOUCHERTYPENAME>Sales</VOUCHERTYPENAME>
 <VOUCHERNUMBER>INV/25-26/00412</VOUCHERNUMBER><PARTYLEDGERNAME>Shah &amp; Sons</PARTYLEDGERNAME>
 <ISCANCELLED>No</ISCANCELLED><MASTERID> 9</MASTERID><ALTERID> 120</ALTERID>
 <INVOICEORDERLIST.LIST><BASICPURCHASEORDERNO>SO/25-26/01877</BASICPURCHASEORDERNO></INVOICEORDERLIST.LIST>
 <LEDGERENTRIES.LIST><LEDGERNAME>Shah &amp; Sons</LEDGERNAME><ISPARTYLEDGER>Yes</ISPARTYLEDGER>
  <AMOUNT>-59000.00</AMOUNT></LEDGERENTRIES.LIST>
 <LEDGERENTRIES.LIST><LEDGERNAME>Sales Account</LEDGERNAME><AMOUNT>50000.00</AMOUNT></LEDGERENTRIES.LIST>
 <ALLINVENTORYENTRIES.LIST><STOCKITEMNAME>Zinc Oxide</STOCKITEMNAME><RATE>125.00/kg</RATE>
  <AMOUNT>50000.00</AMOUNT><ACTUALQTY> 400.000 kg</ACTUALQTY><BILLEDQTY> 400.000 kg</BILLEDQTY>
  <BATCHALLOCATIONS.LIST><GODOWNNAME>&#4; Main Location</GODOWNNAME>
   <ORDERNO>SO/25-26/01877</ORDERNO></BATCHALLOCATIONS.LIST></ALLINVENTORYENTRIES.LIST>
</VOUCHER></TALLYMESSAGE>
<TALLYMESSAGE><UNIT NAME="kg"><NAME>kg</NAME></UNIT></TALLYMESSAGE>
</REQUESTDATA></IMPORTDATA></BODY></ENVELOPE>"""


def test_voucher_from_a_daybook_export() -> None:
    (voucher,) = list(iter_records(_utf16(VOUCHER_DAYBOOK), "vouchers"))
    assert voucher["voucher_type"] == "Sales"
    assert voucher["number"] == "INV/25-26/00412"
    assert str(voucher["date"]) == "2025-11-14"
    assert voucher["party"] == "Shah & Sons"
    assert voucher["order_refs"] == ["SO/25-26/01877"]
    assert voucher["total"] == 59000.0
    assert voucher["is_cancelled"] is False
    assert (voucher["master_id"], voucher["alter_id"]) == (9, 120)
    assert voucher["lines"] == [
        {
            "line_no": 1,
            "item": "Zinc Oxide",
            "qty": 400.0,
            "unit": "kg",
            "billed_qty": 400.0,
            "rate": 125.0,
            "rate_unit": "kg",
            "amount": 50000.0,
            "order_no": "SO/25-26/01877",
            "godown": "Main Location",
        }
    ]
    assert voucher["ledger_entries"][0] == {
        "ledger": "Shah & Sons",
        "amount": -59000.0,
        "is_party": True,
    }


def test_a_doctype_is_refused_with_a_clear_error() -> None:
    body = STOCK_EXPORT.replace(
        "<ENVELOPE>",
        '<!DOCTYPE ENVELOPE [<!ENTITY grade "Rubber Grade">]>\n<ENVELOPE>',
        1,
    ).replace('<PARENT TYPE="String">Pigments</PARENT>', "<PARENT>&grade;</PARENT>")
    for payload in (body.encode("utf-8"), _utf16(body)):
        with pytest.raises(TallyParseError, match="DOCTYPE"):
            list(iter_records(payload, "stock-items"))
    # split across chunks, the declaration is still seen
    split = body.index("DOCTYPE") + 3
    chunks = [body[:split].encode(), body[split:].encode()]
    with pytest.raises(TallyParseError, match="DOCTYPE"):
        list(iter_records(iter(chunks), "stock-items"))


def test_bad_value_goes_to_on_reject_and_the_rest_parse() -> None:
    body = STOCK_EXPORT.replace('<CLOSINGRATE TYPE="Rate">125.00/kg', "<CLOSINGRATE>lots")
    rejected: list[tuple[str, str, str, bytes]] = []
    records = list(
        iter_records(body.encode(), "stock-items", on_reject=lambda *r: rejected.append(r))
    )
    assert [r["name"] for r in records] == ["Shah & Sons Special Blend"]
    [(collection, label, reason, xml)] = rejected
    assert (collection, label) == ("stock-items", "g-zno")
    assert "lots" in reason and xml.startswith(b"<STOCKITEM")
