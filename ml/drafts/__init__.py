"""Grounded reply drafts for price/availability enquiries and order-status mails.

`draft_for_email(conn, email_row)` is the entry point for the app and Dagster: it gathers
the facts (`ml.drafts.grounding.gather`: Tally stock, the customer's last invoiced or
ordered rate, Focus order status and dispatch), writes the reply (`ml.drafts.compose`:
an LLM when `PEBBLE_LLM_BASE_URL`/`PEBBLE_LLM_MODEL` are set, with every figure, link and
payment detail checked against the facts by `ml.drafts.verify`, else a template) and
returns a `Draft` with the facts beside it. Every LLM draft requires review.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import psycopg

from ml.drafts.compose import SUPPORTED_INTENTS, Draft, draft_reply
from ml.drafts.grounding import CompanyRef, Fact, Grounding, gather
from ml.drafts.llm import (
    LLMError,
    LLMSettings,
    OpenAIWriter,
    ReplyWriter,
    default_writer,
    get_llm_settings,
)
from ml.drafts.verify import check_draft, ungrounded, verify_numbers

_DEFAULT: Any = object()


def _intent_of(email_row: Mapping[str, Any]) -> str:
    intent = email_row.get("intent")
    if intent:
        return str(intent)
    from ml.classifier import load_classifier

    body = str(email_row.get("body_text") or email_row.get("body") or "")
    (decision,) = load_classifier().classify([(str(email_row.get("subject") or ""), body)])
    return decision.intent


def draft_for_email(
    conn: psycopg.Connection,
    email_row: Mapping[str, Any],
    *,
    intent: str | None = None,
    entities: Iterable[Any] | None = None,
    company: CompanyRef | str | None = None,
    llm: ReplyWriter | None = _DEFAULT,
    index: Any | None = None,
) -> Draft | None:
    """The reply draft for one email row (a `raw.emails` row, or a scored row).

    The intent comes from `intent`, else the row's `intent` (as `ml.pipeline.score_emails`
    gives it), else the classifier. Entities come from `entities`, else the row's
    `entities`, else the extractor. `llm` defaults to the configured writer (None: template
    only). Returns None for intents that get no draft.
    """
    intent = intent or _intent_of(email_row)
    if intent not in SUPPORTED_INTENTS:
        return None
    if entities is None and email_row.get("entities") is not None:
        entities = email_row["entities"]
    grounding = gather(
        conn, email_row, entities, company, index=index, infer_order=intent == "order_status"
    )
    writer = default_writer() if llm is _DEFAULT else llm
    return draft_reply(email_row, intent, grounding, writer)


__all__ = [
    "SUPPORTED_INTENTS",
    "check_draft",
    "CompanyRef",
    "Draft",
    "Fact",
    "Grounding",
    "LLMError",
    "LLMSettings",
    "OpenAIWriter",
    "ReplyWriter",
    "default_writer",
    "draft_for_email",
    "draft_reply",
    "gather",
    "get_llm_settings",
    "ungrounded",
    "verify_numbers",
]
