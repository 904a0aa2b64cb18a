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
    master = ["Sulphuric Acid 98%", "Carbon Black N330", "PVC Resin K67", "Glycerine 99.5%"]
    assert verify_numbers(text, [], products=master) == []
    # A product the stock master does not hold is no cover for its figures.
    assert "number '99.5'" in verify_numbers(text, [], products=master[:3])
    assert verify_numbers("Delivery in 2-3 days, 50% advance.", [], products=master) != []


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("We offer a ten percent discount.", "number '10' (written 'ten')"),
        ("Special price: fifty rupees per kg.", "(written 'fifty')"),
        ("We have twelve thousand kg ready.", "(written 'twelve thousand')"),
        ("Order value two and a half lakh.", "'250000' (written 'two and a half lakh')"),
        ("Half a lakh advance please.", "'50000' (written 'Half a lakh')"),
        ("We add a dozen drums free.", "12 drums' (written 'a dozen')"),
        ("Half a dozen bags extra.", "6 bags' (written 'Half a dozen')"),
        ("Please pay half in advance.", "'0.5' (written 'half')"),
        ("Delivery within seven days.", "'7' (written 'seven')"),
        ("Dispatch on the twentieth of November.", "(written 'twentieth')"),
        ("Call nine eight two zero zero one two three four five.", "9820012345"),
        ("Ask for double nine double eight.", "'9988'"),
        ("Rate two hundred and forty-nine rupees.", "249 rupees"),
        ("A one-time discount of one percent.", "'1' (written 'one')"),
        ("Order value 2 lakh.", "2 lakh"),
    ],
)
def test_numbers_in_words_are_checked(text: str, flagged: str) -> None:
    problems = verify_numbers(text, FACTS)
    assert any(flagged in p for p in problems), problems


@pytest.mark.parametrize(
    "text",
    [
        "We have twelve thousand five hundred kg of Zinc Oxide in stock.",
        "Our last rate was two hundred and forty-eight rupees per kg.",
        "The order value is one lakh eighteen thousand rupees.",
        "Stock as on the fourteenth of November.",
        "One of our team will confirm the dispatch; no one else needs to act.",
        "Thank you for your enquiry. We shall revert shortly.",
    ],
)
def test_grounded_figures_in_words_pass(text: str) -> None:
    assert verify_numbers(text, FACTS) == []


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("Pay at https://pay.example.in/sharma now.", "link 'https://pay.example.in/sharma'"),
        ("See www.example.com for terms.", "link 'www.example.com'"),
        ("Details on pay-now.example.co.in today.", "link 'pay-now.example.co.in'"),
        ("Visit sharmapay dot com.", "link 'sharmapay dot com'"),
        ("Write to accounts@pay-example.in.", "email address 'accounts@pay-example.in'"),
        ("UPI: sharmarubber@okaxis.", "UPI id 'sharmarubber@okaxis'"),
        ("UPI 9820012345@ybl please.", "UPI id '9820012345@ybl'"),
        ("IFSC HDFC0001234.", "IFSC code 'HDFC0001234'"),
        ("IFSC hdfcO001234.", "IFSC code 'hdfcO001234'"),
        ("Account 50100234567890.", "account number '50100234567890'"),
        ("A/c 5010 0234 5678 90.", "account number '5010 0234 5678 90'"),
        ("Call +91 98200 12345.", "phone number '+91 98200 12345'"),
        ("Ring 022 2345 6789.", "phone number '022 2345 6789'"),
    ],
)
def test_links_addresses_and_payment_details_are_flagged(text: str, flagged: str) -> None:
    problems = verify_numbers(text, FACTS)
    assert any(flagged in p for p in problems), problems


def test_grounded_references_are_not_mistaken_for_payment_details() -> None:
    # A 10-digit PO, a vehicle number and dates: in the facts, so none is a phone or account.
    text = "Your PO 4500012345 (SO/25-26/01877) left in MH04AB1234 on 02.11.2025, 2025-11-02."
    assert verify_numbers(text, FACTS) == []


def test_customer_facts_never_ground_a_draft() -> None:
    from ml.drafts.grounding import CUSTOMER_MAIL

    quoted = [
        Fact("requested_qty", "Quantity in the customer's mail", 5000.0, "kg", CUSTOMER_MAIL,
             None, None, "5 MT"),
        Fact("unresolved_reference", "Reference quoted by the customer (PO)", "50100234567890",
             None, CUSTOMER_MAIL, None, "50100234567890", "50100234567890"),
    ]  # fmt: skip
    assert any("5 MT" in p for p in verify_numbers("We can supply 5 MT.", [*FACTS, *quoted]))
    problems = verify_numbers("Pay to 50100234567890.", [*FACTS, *quoted])
    assert any("50100234567890" in p for p in problems)


def test_hidden_and_look_alike_characters() -> None:
    # Zero-width characters are removed before reading: the link and number show through.
    hidden = "Pay at h\u200bttps://pay.example.in and Rs 2\u200d60/kg."
    problems = verify_numbers(hidden, FACTS)
    assert any("https://pay.example.in" in p for p in problems), problems
    assert any("260" in p for p in problems), problems
    # Full-width and Devanagari digits are digits.
    assert any(
        "'260'" in p or "260" in p for p in verify_numbers("Rate Rs \uff12\uff16\uff10/kg", FACTS)
    )
    assert any("10" in p for p in verify_numbers("\u0967\u0966 % off", FACTS))
    # The form check names any character outside plain text.
    reason = check_draft("Our rate is Rs 248/kg, p\u0430y here.", FACTS)
    assert reason is not None and "U+0430 CYRILLIC SMALL LETTER A" in reason
    assert "U+200B" in str(check_draft("Noted.\u200b Sales Team", FACTS))
    assert check_draft("Our rate is \u20b9248/kg \u2013 \u201cas invoiced\u201d.", FACTS) is None


def test_markup_is_rejected() -> None:
    assert "markup" in str(check_draft('<a href="x">Pay here</a>', FACTS))
    assert "markup" in str(check_draft("Please [pay here](pay).", FACTS))
    assert "markup" in str(check_draft("Warm regards,<br>Sales Team", FACTS))


def test_credentials_in_the_base_url_are_not_shown() -> None:
    from ml.drafts.llm import safe_url

    assert safe_url("https://user:pw@llm.example/v1") == "https://***@llm.example/v1"
    assert safe_url("http://127.0.0.1:11434/v1") == "http://127.0.0.1:11434/v1"
