"""The LLM path against a local fake OpenAI-compatible server."""

from __future__ import annotations

import logging
import time
from typing import Any

import psycopg
import pytest

from ml.drafts import draft_for_email, draft_reply
from ml.drafts.grounding import gather
from ml.drafts.llm import LLMSettings, OpenAIWriter, default_writer, get_llm_settings

from .conftest import FakeLLM, sharma_mail

SECRET = "sk-test-secret-4242"
GOOD = (
    "Dear Mr. Sharma,\n\nThank you for your enquiry. We have 12,500 kg of Zinc Oxide ready in "
    "stock as on 14 Nov 2025, which covers your requirement of 5 MT. Our last invoiced rate to "
    "you was Rs. 248/- per kg (invoice INV/25-26/00412 dated 02.11.2025); we shall confirm "
    "today's rate shortly.\n\nWarm regards,\nSales Team"
)
INVENTED = GOOD.replace("Rs. 248/- per kg", "Rs. 252/- per kg")
MAIL = sharma_mail("Rate enquiry - Zinc Oxide", "Pls quote Zinc Oxide, 5 MT.")


def _answer(text: str) -> Any:
    return lambda request: text


def test_good_answer_is_accepted(
    seeded: psycopg.Connection, llm_env: FakeLLM, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    llm_env.reply = _answer(GOOD)
    draft = draft_reply(MAIL, "price_enquiry", gather(seeded, MAIL), default_writer())
    assert draft is not None
    assert draft.source == "llm" and draft.rejected_reason is None
    assert draft.text == GOOD
    assert not draft.requires_review
    (request,) = llm_env.requests
    assert request["model"] == "fake-model"
    system = request["messages"][0]["content"]
    # The prompt lists the grounded facts and forbids other numbers.
    assert "Stock on hand of Zinc Oxide: 12,500 kg" in system
    assert "Rs 248/kg" in system and "INV/25-26/00412" in system
    assert "Do not write any other number" in system
    assert "Pls quote Zinc Oxide" in request["messages"][1]["content"]
    assert llm_env.headers[0]["authorization"] == f"Bearer {SECRET}"
    assert SECRET not in caplog.text


def test_invented_price_is_rejected_and_template_used(
    seeded: psycopg.Connection, llm_env: FakeLLM
) -> None:
    llm_env.reply = _answer(INVENTED)
    draft = draft_reply(MAIL, "price_enquiry", gather(seeded, MAIL), default_writer())
    assert draft is not None
    assert draft.source == "template"
    assert draft.rejected_reason is not None and "252" in draft.rejected_reason
    assert "252" not in draft.text and "Rs 248/kg" in draft.text
    assert draft.requires_review


def test_placeholder_answer_is_rejected(seeded: psycopg.Connection, llm_env: FakeLLM) -> None:
    llm_env.reply = _answer(GOOD.replace("Sales Team", "[Your Name]"))
    draft = draft_reply(MAIL, "price_enquiry", gather(seeded, MAIL), default_writer())
    assert draft is not None and draft.source == "template"
    assert "placeholder" in str(draft.rejected_reason)


def test_server_error_falls_back(seeded: psycopg.Connection, llm_env: FakeLLM) -> None:
    llm_env.status = 500
    draft = draft_reply(MAIL, "price_enquiry", gather(seeded, MAIL), default_writer())
    assert draft is not None and draft.source == "template"
    assert "HTTP 500" in str(draft.rejected_reason)
    assert draft.requires_review and "Rs 248/kg" in draft.text


def test_timeout_falls_back(seeded: psycopg.Connection, llm_env: FakeLLM) -> None:
    llm_env.delay_s = 3.0
    llm_env.reply = _answer(GOOD)
    started = time.monotonic()
    draft = draft_reply(MAIL, "price_enquiry", gather(seeded, MAIL), default_writer())
    assert time.monotonic() - started < 2.9
    assert draft is not None and draft.source == "template"
    assert "timed out" in str(draft.rejected_reason)


def test_unreachable_server_falls_back(seeded: psycopg.Connection) -> None:
    settings = LLMSettings(
        PEBBLE_LLM_BASE_URL="http://127.0.0.1:9/v1",
        PEBBLE_LLM_MODEL="m",
        PEBBLE_LLM_MAX_RETRIES=0,
        PEBBLE_LLM_TIMEOUT_S=2,
    )
    draft = draft_reply(MAIL, "price_enquiry", gather(seeded, MAIL), OpenAIWriter(settings))
    assert draft is not None and draft.source == "template"
    assert "not reachable" in str(draft.rejected_reason)


def test_draft_for_email_uses_the_configured_llm(
    seeded: psycopg.Connection, llm_env: FakeLLM
) -> None:
    answer = (
        "Dear Ravi Sharma,\n\nYour order SO/25-26/01877 (PO 4500012345) has been dispatched "
        "against invoice FI/25-26/00777 dated 2 Nov 2025 in vehicle MH04AB1234, LR LR556210."
        "\n\nWarm regards,\nSales Team"
    )
    llm_env.reply = _answer(answer)
    row = sharma_mail("Status", "status of SO/25-26/01877?", intent="order_status")
    draft = draft_for_email(seeded, row)
    assert draft is not None and draft.source == "llm" and draft.text == answer
    assert {f.kind for f in draft.facts} >= {"order_status", "invoice", "vehicle_no", "lr_no"}


def test_settings_keep_the_key_secret(llm_env: FakeLLM) -> None:
    settings = get_llm_settings()
    assert settings.configured and settings.api_key is not None
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())
    writer = default_writer()
    assert writer is not None and SECRET not in repr(writer)


def test_no_llm_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PEBBLE_LLM_BASE_URL", raising=False)
    monkeypatch.delenv("PEBBLE_LLM_MODEL", raising=False)
    get_llm_settings.cache_clear()
    try:
        assert default_writer() is None
    finally:
        get_llm_settings.cache_clear()
