"""Number verification: every figure in a draft must come from the facts."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ml.drafts.grounding import Fact
from ml.drafts.llm import check_draft, verify_numbers

FACTS = [
    Fact("stock_on_hand", "Stock on hand of Zinc Oxide", 12500.0, "kg",
         "Tally stock item Zinc Oxide (latest snapshot)",
         datetime(2025, 11, 14, 4, 30, tzinfo=UTC), "Zinc Oxide"),
    Fact("last_price", "Last invoiced rate of Zinc Oxide", 248.0, "Rs/kg",
         "Tally Sales voucher INV/25-26/00412", date(2025, 11, 2), "Zinc Oxide",
         "INV/25-26/00412"),
    Fact("order_status", "Status of sales order SO/25-26/01877", "invoiced", None,
         "Focus sales order SO/25-26/01877", date(2025, 10, 28), "SO/25-26/01877",
         "SO/25-26/01877"),
    Fact("order_po_ref", "Customer PO of SO/25-26/01877", "4500012345", None,
         "Focus sales order SO/25-26/01877", date(2025, 10, 28), "SO/25-26/01877",
         "SO/25-26/01877"),
    Fact("vehicle_no", "Vehicle for FI/25-26/00777", "MH04AB1234", None,
         "Focus invoice FI/25-26/00777", date(2025, 11, 2), "SO/25-26/01877", "FI/25-26/00777"),
    Fact("lr_no", "LR for FI/25-26/00777", "LR556210", None, "Focus invoice FI/25-26/00777",
         date(2025, 11, 2), "SO/25-26/01877", "FI/25-26/00777"),
    Fact("last_price", "Order value", 118000.0, "Rs", "Focus sales order SO/25-26/01877",
         date(2025, 10, 28), "SO/25-26/01877"),
]  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        "Our rate is Rs 248/kg.",
        "Our rate is Rs. 248/- per kg.",
        "Our rate is ₹248.00/kg.",
        "Rate: INR 248 per kg, i.e. 248.00.",
        "We have 12,500 kg in stock.",
        "We have 12500 kgs ready.",
        "We have 12.5 MT ready.",
        "We have 500 bags of Zinc Oxide ready.",  # 25 kg bags: 12,500 kg
        "Order value INR 1,18,000 (1.18 lakh).",
        "Stock as on 14 Nov 2025, invoiced on 02.11.2025, order dated 28/10/25.",
        "Order dated 28th October, 2025 (2025-10-28); rate of 2 Nov.",
        "Your PO 4500012345 against SO/25-26/01877, invoice FI/25-26/00777.",
        "Vehicle no. MH-04-AB-1234, LR no. LR 556210.",
        "Vehicle MH04AB1234 left at 10:00 am.",  # 04:30 UTC is 10:00 in India
        "1. Zinc Oxide: Rs 248/kg\n2. Stock: 12,500 kg",
    ],
)
def test_grounded_figures_in_any_format_pass(text: str) -> None:
    assert verify_numbers(text, FACTS) == []


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("Our rate is Rs 260/kg.", "260"),
        ("Our rate is Rs 12,500 per kg.", "12,500"),  # a stock figure is not a price
        ("We have 248 kg in stock.", "248 kg"),  # a price is not a quantity
        ("We have 15 MT in stock.", "15 MT"),
        ("Total INR 1,20,000 only.", "1,20,000"),
        ("Order value 2 lakh.", "2 lakh"),
        ("GST @ 18% extra.", "18"),
        ("Delivery by 20 Nov 2025.", "20 Nov 2025"),
        ("Delivery by 20.11.2025.", "20.11.2025"),
        ("Delivery within 7 days.", "7"),
        ("Your order SO/25-26/01999 is ready.", "SO/25-26/01999"),
        ("Vehicle no. GJ05XY9876.", "GJ05XY9876"),
        ("Call 98200 12345.", "98200"),
    ],
)
def test_invented_figures_are_flagged(text: str, flagged: str) -> None:
    problems = verify_numbers(text, FACTS)
    assert problems, text
    assert any(flagged in p for p in problems), problems


def test_check_draft_reasons() -> None:
    assert check_draft("Dear Sir, our rate is Rs 248/kg. Sales Team", FACTS) is None
    reason = check_draft("Our rate is Rs 255/kg and delivery in 3 days.", FACTS)
    assert reason is not None and "255" in reason and "'3'" in reason
    placeholder = check_draft("Regards, [Your Name]", FACTS)
    assert placeholder is not None and "placeholder" in placeholder


def test_numbers_inside_product_names_are_not_figures() -> None:
    text = (
        "We are checking the availability of Sulphuric Acid 98%, Carbon Black N330 and "
        "PVC Resin K67; we will confirm the rate for Glycerine 99.5% shortly."
    )
    assert verify_numbers(text, []) == []
    assert verify_numbers("Delivery in 2-3 days, 50% advance.", []) != []


def test_credentials_in_the_base_url_are_not_shown() -> None:
    from ml.drafts.llm import safe_url

    assert safe_url("https://user:pw@llm.example/v1") == "https://***@llm.example/v1"
    assert safe_url("http://127.0.0.1:11434/v1") == "http://127.0.0.1:11434/v1"
