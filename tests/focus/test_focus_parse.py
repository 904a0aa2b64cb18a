"""Parsing saved Focus documents, without a server."""

from __future__ import annotations

import datetime as dt

import pytest

from ingest.focus.errors import FocusFieldError
from ingest.focus.parse import encode_focus_date, normalise, parse_focus_date, to_flag, to_number
from ingest.focus.settings import DEFAULT_FIELD_MAP

SAVED_INVOICE = {
    "Header": {
        "DocNo": "INV/25-26/00412",
        "Date": 132713230,
        "SalesOrder__DocNo": "SO/25-26/01877",
        "CustomerAC__Code": "C0412",
        "CustomerAC__Name": " Kaveri Polymers ",
        "sGSTIN": "",
        "sVehicleNo": "KA05MN4321",
        "sLRNo": "LR 88",
    },
    "Body": [
        {
            "Item__Code": "ZNO-99",
            "Item__Name": "Zinc Oxide",
            "Quantity": "5,000.000",
            "Unit__Code": "kg",
            "Rate": "248.00",
            "Gross": "12,40,000.00",
        }
    ],
    "Footer": [{"TaxableValue": 1240000}, {"GSTAmount": "2,23,200", "NetAmount": "14,63,200"}],
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (132713230, dt.date(2025, 11, 14)),
        ("132713230", dt.date(2025, 11, 14)),
        (20251114, dt.date(2025, 11, 14)),
        ("2025-11-14", dt.date(2025, 11, 14)),
        ("14/11/2025", dt.date(2025, 11, 14)),
        (132713230.0, dt.date(2025, 11, 14)),
    ],
)
def test_focus_dates(value: object, expected: dt.date) -> None:
    assert parse_focus_date(value) == expected


def test_date_round_trip_and_rejects() -> None:
    day = dt.date(2026, 3, 31)
    assert parse_focus_date(encode_focus_date(day)) == day
    for bad in ("14 Nov", 12345, None, True, 2025 * 65536 + 13 * 256 + 1):
        with pytest.raises(ValueError):
            parse_focus_date(bad)


def test_numbers_and_flags() -> None:
    assert to_number("1,18,000.50") == 118000.5
    assert to_number("(-)120.000") == -120.0
    assert to_number("(45)") == -45.0
    assert to_number("") is None and to_number(None) is None
    with pytest.raises(ValueError):
        to_number("abc")
    assert to_flag("Pass") is True and to_flag("No") is False and to_flag("") is None
    with pytest.raises(ValueError):
        to_flag("maybe")


def test_saved_invoice_normalises() -> None:
    record = normalise("invoices", SAVED_INVOICE, DEFAULT_FIELD_MAP)
    assert record["date"] == "2025-11-14"
    assert record["customer_name"] == "Kaveri Polymers"
    assert record["gstin"] is None
    assert record["lines"][0]["qty"] == 5000.0
    assert record["lines"][0]["amount"] == 1240000.0
    assert (record["taxable_value"], record["gst_amount"], record["total"]) == (
        1240000.0,
        223200.0,
        1463200.0,
    )


def test_missing_and_unreadable_fields_name_the_document() -> None:
    no_date = {**SAVED_INVOICE, "Header": {**SAVED_INVOICE["Header"], "Date": None}}
    with pytest.raises(FocusFieldError, match=r"INV/25-26/00412.*'Date'"):
        normalise("invoices", no_date, DEFAULT_FIELD_MAP)
    bad_qty = {**SAVED_INVOICE, "Body": [{**SAVED_INVOICE["Body"][0], "Quantity": "five"}]}
    with pytest.raises(FocusFieldError, match=r"INV/25-26/00412.*'Quantity' = 'five'"):
        normalise("invoices", bad_qty, DEFAULT_FIELD_MAP)
    with pytest.raises(FocusFieldError, match="Header"):
        normalise("invoices", {"Body": []}, DEFAULT_FIELD_MAP)
    renamed = {**DEFAULT_FIELD_MAP, "doc_no": "VoucherNo"}
    with pytest.raises(FocusFieldError, match="FOCUS_FIELD_MAP"):
        normalise("invoices", SAVED_INVOICE, renamed)
