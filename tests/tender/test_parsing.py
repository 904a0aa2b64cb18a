"""Indian amounts and dates, and the field rules on small texts."""

from __future__ import annotations

from datetime import datetime

import pytest

from ml.tender import extract_fields
from ml.tender.fields import match_product
from ml.tender.parsing import find_amount, find_datetime


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Rs. 12,34,567.00", 1234567.0),
        ("Rs.23,700/-", 23700.0),
        ("INR 1,18,000", 118000.0),
        ("₹ 5 Lakh", 500000.0),
        ("Rs. 12.35 lakhs", 1235000.0),
        ("1.2 Crore", 12000000.0),
        ("36800", 36800.0),
        ("100 Lakh (s)", 10000000.0),
        ("Rs. 2,00,00,000 only", 20000000.0),
    ],
)
def test_indian_amounts(text: str, value: float) -> None:
    found = find_amount(text)
    assert found is not None and found.value == value
    assert text[found.start : found.end].strip()


def test_strict_amount_skips_small_bare_numbers() -> None:
    text = "Minimum Average Annual Turnover of the bidder (For 3 Years) 50 Lakh (s)"
    assert find_amount(text, strict=True).value == 5_000_000.0
    assert find_amount("clause 3 of the terms") is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("05-Jan-2026 10:00 AM", datetime(2026, 1, 5, 10, 0)),
        ("15-Sep-2025 03:00 PM", datetime(2025, 9, 15, 15, 0)),
        ("05-01-2026 15:00:00", datetime(2026, 1, 5, 15, 0)),
        ("05/01/2026 at 3:00 PM", datetime(2026, 1, 5, 15, 0)),
        ("05.01.2026 at 15:00 hrs", datetime(2026, 1, 5, 15, 0)),
        ("11/08/2025 upto 17:00 hrs", datetime(2025, 8, 11, 17, 0)),
        ("25.09.2025 (5:00 PM)", datetime(2025, 9, 25, 17, 0)),
        ("5th January 2026, 1500 hrs", datetime(2026, 1, 5, 15, 0)),
        ("12 PM? no: 12-03-2026", datetime(2026, 3, 12, 0, 0)),
    ],
)
def test_indian_dates(text: str, value: datetime) -> None:
    found = find_datetime(text)
    assert found is not None and found.value == value


def test_impossible_dates_are_skipped() -> None:
    assert find_datetime("31-02-2026 and 30-13-2026") is None


def test_fields_from_a_short_notice_with_evidence() -> None:
    text = (
        "DELHI JAL BOARD\nNOTICE INVITING TENDER\nNIT No.: DJB/EE/2025/117 Dated: 03.07.2025\n"
        "Delhi Jal Board invites sealed bids for the following work:\n"
        "Sl. Description of Material Quantity Unit\n"
        "1 Caustic Soda Lye 48% 25 MT\n2 Aluminium Sulphate (Non-ferric) 12,000 Kgs\n\n"
        "Estimated Cost: Rs. 12.50 Lakh\n"
        "Earnest Money Deposit (EMD): Rs. 25,000/- by Bank Guarantee\n"
        "Cost of Tender Document: Rs. 1,180/- (non-refundable)\n"
        "Last date and time for submission of bids: 20/07/2025 at 3:00 PM\n"
        "Date and time of opening of technical bids: 21.07.2025 at 11:30 hrs\n"
        "Pre-bid meeting: 08.07.2025 at 11:00 hrs in the Conference Hall, Varunalaya.\n"
        "Eligibility Criteria\n(a) Minimum average annual turnover of Rs. 1 Crore.\n"
        "(b) At least 3 years of experience in supply of chemicals.\n"
        "(c) Valid GST and MSME (Udyam) registration.\n"
        "For further details contact: Shri R. K. Sharma, EE (Stores)\n"
        "Phone: 011-23456789 Email: rk.sharma@djb.nic.in\n"
    )
    f = extract_fields(text, ["Caustic Soda Lye 48%", "Caustic Soda Flakes"])
    for fv in f.values():
        assert text[fv.start : fv.end] == fv.evidence
        assert 0 < fv.confidence <= 1
    assert f["tender_no"].value == "DJB/EE/2025/117"
    assert f["organisation"].value == "Delhi Jal Board"
    assert f["items"].value == [
        {
            "description": "Caustic Soda Lye 48%",
            "quantity": 25.0,
            "unit": "MT",
            "product": "Caustic Soda Lye 48%",
        },
        {
            "description": "Aluminium Sulphate (Non-ferric)",
            "quantity": 12000.0,
            "unit": "KG",
            "product": None,
        },
    ]
    assert f["estimated_value_inr"].value == 1_250_000.0
    assert f["emd_amount_inr"].value == 25_000.0
    assert f["emd_form"].value == "bank guarantee"
    assert f["tender_fee_inr"].value == 1180.0
    assert f["bid_end"].value == "2025-07-20T15:00:00+05:30"
    assert f["bid_opening"].value == "2025-07-21T11:30:00+05:30"
    assert f["pre_bid_meeting"].value == {
        "at": "2025-07-08T11:00:00+05:30",
        "venue": "Conference Hall, Varunalaya",
    }
    assert f["eligibility"].value == {
        "turnover_inr": 10_000_000.0,
        "experience_years": 3,
        "registrations": ["GST", "MSME"],
    }
    assert f["contact"].value == {
        "name": "R. K. Sharma",
        "email": "rk.sharma@djb.nic.in",
        "phone": "011-23456789",
    }
    assert "bid_start" not in f  # not stated: never guessed


def test_empty_and_unrelated_text_give_no_fields() -> None:
    assert extract_fields("") == {}
    assert extract_fields("Dear Sir, please find our price list attached.") == {}


def test_product_matching_tolerates_an_ocr_slip() -> None:
    names = ["Aluminium Hydroxide", "Caustic Soda Flakes"]
    assert match_product("Alurninium Hydroxide in 25 kg bags", names) == "Aluminium Hydroxide"
    assert match_product("Ferric Alum", names) is None
