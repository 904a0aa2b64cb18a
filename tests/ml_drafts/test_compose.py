"""Template drafts: grounded numbers only, honest wording when a fact is missing."""

from __future__ import annotations

import psycopg
import pytest

from ml.drafts import draft_for_email, draft_reply, verify_numbers
from ml.drafts.grounding import gather

from .conftest import sharma_mail


def _draft(conn: psycopg.Connection, intent: str, subject: str, body: str, **extra: object):
    mail = sharma_mail(subject, body, **extra)
    grounding = gather(conn, mail)
    draft = draft_reply(mail, intent, grounding, llm=None)
    assert draft is not None
    return draft, grounding


def test_price_enquiry_quotes_grounded_stock_and_rate(seeded: psycopg.Connection) -> None:
    draft, grounding = _draft(
        seeded, "price_enquiry", "Rate enquiry - Zinc Oxide", "Pls quote Zinc Oxide, 5 MT."
    )
    print(draft.text)
    assert draft.source == "template" and draft.rejected_reason is None
    assert "12,500 kg" in draft.text
    assert "Rs 248/kg" in draft.text
    assert "INV/25-26/00412" in draft.text and "02 Nov 2025" in draft.text
    assert "5,000 kg" in draft.text  # the customer's own requirement, from the mail
    # Nothing else: every other figure in the text is from our records. The customer's own
    # figure is stated by the template, but it would not ground an LLM's prose.
    (problem,) = verify_numbers(draft.text, draft.facts)
    assert "5,000" in problem
    for other in ("255", "240", "230", "9,000"):
        assert other not in draft.text
    assert {f.kind for f in draft.facts} == {"stock_on_hand", "last_price", "requested_qty"}
    assert draft.missing == ()
    assert draft.confidence == pytest.approx(0.85)  # company known by mail domain
    assert not draft.requires_review


def test_missing_stock_and_rate_are_said_plainly(seeded: psycopg.Connection) -> None:
    draft, _ = _draft(seeded, "price_enquiry", "Enquiry", "Please quote Titanium Dioxide Rutile.")
    print(draft.text)
    assert "checking the availability of Titanium Dioxide Rutile" in draft.text
    assert "We will confirm the rate for Titanium Dioxide Rutile shortly." in draft.text
    assert verify_numbers(draft.text, draft.facts) == []
    assert draft.facts == ()
    assert "stock of Titanium Dioxide Rutile" in draft.missing
    assert draft.requires_review and draft.confidence == 0.0


def test_out_of_stock_and_no_product(seeded: psycopg.Connection) -> None:
    draft, _ = _draft(seeded, "price_enquiry", "rate?", "Caustic soda flakes rate bhejo")
    assert "Caustic Soda Flakes is not in stock at present" in draft.text
    assert verify_numbers(draft.text, draft.facts) == []
    vague, _ = _draft(seeded, "price_enquiry", "Need rates", "Please send your best rates.")
    assert "confirm the product" in vague.text
    assert vague.missing == ("the product asked about",) and vague.requires_review


def test_unknown_customer_gets_no_customer_rate(seeded: psycopg.Connection) -> None:
    draft, grounding = _draft(
        seeded, "price_enquiry", "Zinc Oxide", "Zinc Oxide price?", from_addr="x@unknown.example"
    )
    assert grounding.company is None
    assert "12,500 kg" in draft.text and "Rs " not in draft.text
    assert draft.requires_review


def test_order_status_invoiced_with_dispatch_details(seeded: psycopg.Connection) -> None:
    draft, _ = _draft(seeded, "order_status", "Status", "status of SO/25-26/01877?")
    print(draft.text)
    for expected in ("SO/25-26/01877", "4500012345", "28 Oct 2025", "FI/25-26/00777",
                     "02 Nov 2025", "MH04AB1234", "LR556210", "invoiced and dispatched"):  # fmt: skip
        assert expected in draft.text
    assert verify_numbers(draft.text, draft.facts) == []
    assert not draft.requires_review and draft.missing == ()


def test_order_status_open_by_po_ref(seeded: psycopg.Connection) -> None:
    draft, _ = _draft(seeded, "order_status", "Pending delivery - PO/SRI/2025/118", "pls check")
    assert "SO/25-26/01900" in draft.text and "not been dispatched yet" in draft.text
    assert "vehicle" in draft.text  # promised once dispatched; no number invented
    assert verify_numbers(draft.text, draft.facts) == []


def test_order_status_without_reference_or_with_unknown_one(seeded: psycopg.Connection) -> None:
    unknown, _ = _draft(seeded, "order_status", "Status", "Status of our PO 4599999999?")
    assert "could not find an order against your reference 4599999999" in unknown.text
    assert unknown.requires_review
    nothing, _ = _draft(
        seeded, "order_status", "Order status?", "Where is our material?", from_addr="a@b.example"
    )
    assert "share our sales order number or your PO reference" in nothing.text
    assert nothing.requires_review and nothing.facts == ()


def test_inferred_order_is_worded_as_such_and_reviewed(seeded: psycopg.Connection) -> None:
    draft, _ = _draft(seeded, "order_status", "maal kab aayega", "Zinc Oxide kab aayega?")
    assert "We believe your query is about our order SO/25-26/01877" in draft.text
    assert draft.confidence == pytest.approx(0.85 * 0.6) and draft.requires_review


def test_another_customers_order_is_not_disclosed(seeded: psycopg.Connection) -> None:
    draft, grounding = _draft(seeded, "order_status", "Status", "status of SO/25-26/01950")
    assert grounding.order_mismatch == ["SO/25-26/01950"]
    assert "could not match order SO/25-26/01950 with your account" in draft.text
    assert "dispatched" not in draft.text and "KP-7781" not in draft.text
    assert all(f.subject != "SO/25-26/01950" for f in draft.facts)
    assert draft.requires_review and draft.confidence <= 0.3


def test_other_intents_get_no_draft(seeded: psycopg.Connection) -> None:
    mail = sharma_mail("COA", "Please send COA")
    assert draft_reply(mail, "coa_request", gather(seeded, mail)) is None
    assert draft_for_email(seeded, {**mail, "intent": "quality_complaint"}) is None


def test_draft_for_email_uses_the_rows_intent_and_entities(
    seeded: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PEBBLE_LLM_BASE_URL", raising=False)
    from ml.drafts.llm import get_llm_settings

    get_llm_settings.cache_clear()
    row = sharma_mail("Status", "status of SO/25-26/01877?", intent="order_status")
    draft = draft_for_email(seeded, row)
    assert draft is not None and draft.source == "template" and "LR556210" in draft.text
    data = draft.to_dict()
    assert data["facts"][0]["as_of"] == "2025-10-28" and data["source"] == "template"


def test_review_threshold_from_the_environment(
    seeded: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ml.settings import get_ml_settings

    monkeypatch.setenv("PEBBLE_REVIEW_THRESHOLD", "0.9")
    get_ml_settings.cache_clear()
    try:
        draft, _ = _draft(seeded, "price_enquiry", "Zinc Oxide", "Zinc Oxide rate?")
    finally:
        get_ml_settings.cache_clear()
    assert draft.missing == () and draft.confidence == pytest.approx(0.85)
    assert draft.requires_review


def test_subject_is_echoed_only_when_it_is_plain_words(seeded: psycopg.Connection) -> None:
    plain, _ = _draft(seeded, "price_enquiry", "Rate enquiry - Zinc Oxide", "Zinc Oxide rate?")
    assert 'regarding "Rate enquiry - Zinc Oxide"' in plain.text
    for subject in ("Pay at https://evil.example/pay", "Rate - write to a@b.example",
                    "Zinc Oxide, visit www.example.com", "Quote 5 MT"):  # fmt: skip
        draft, _ = _draft(seeded, "price_enquiry", subject, "Zinc Oxide rate?")
        assert "Thank you for your email.\n" in draft.text
        assert subject not in draft.text


def test_the_wording_shown_to_a_model_repeats_nothing_from_the_mail(
    seeded: psycopg.Connection,
) -> None:
    from ml.drafts.compose import _order_status, _price_enquiry

    mail = sharma_mail("Rate", "Pls quote Zinc Oxide, 5 MT.")
    lines, used, missing = _price_enquiry(gather(seeded, mail), echo=False)
    assert "12,500 kg" in lines[0] and "5,000" not in " ".join(lines)
    assert "your requirement can be supplied from ready stock" in lines[0]
    status = gather(seeded, sharma_mail("Status", "Status of our PO 4599999999?"))
    lines, used, missing = _order_status(status, echo=False)
    assert "4599999999" not in " ".join([*lines, *missing])
    assert "the reference you quoted" in lines[0]
