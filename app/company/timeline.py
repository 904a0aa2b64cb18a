"""Company 360's activity timeline: the company's events from ``marts.activity_stream``,
only of the kinds the role sees, mail events only of the cards of its streams. The stream
sets ``company_key`` on people's events only, so source events are found through the
company's orders, invoices, QC documents, cards and (for payments and preleads) the GSTIN or
name in their payload."""

from __future__ import annotations

import json
from typing import Any

import polars as pl
import psycopg

from app.company.access import Access, require_section
from app.company.queries import (
    _ORDERS_WHERE,
    _PARTY_OR_ORDER,
    MAIL_IDS,
    TIMELINE,
    Company,
    _card_rows,
    _frame,
    _rows,
    _select,
)
from pebble.auth import User

ACTIVITY_COLUMNS: tuple[str, ...] = ("occurred_at", "event_type", "entity_id", "actor", "detail")
#: Payload fields a timeline line names, in this order (others are left out).
DETAIL_FIELDS: tuple[str, ...] = (
    "subject", "from_address", "to", "from_status", "assignee", "stream", "intent",
    "sales_order_no", "invoice_no", "amount_inr", "amount", "document_no", "product_name",
    "batch_no", "result", "passed", "decision", "reason", "merged_into", "company_name",
)  # fmt: skip


def _ids(rows: list[dict[str, Any]], column: str) -> list[str]:
    return [str(r[column]) for r in rows if r.get(column) is not None]


def _mail_ids(
    conn: psycopg.Connection, company: Company, access: Access, tz: str
) -> tuple[list[str], list[str]]:
    """(card ids, email keys) of the company's cards in the role's streams."""
    card_ids = _ids(_card_rows(conn, company, access.card_streams, tz, limit=MAIL_IDS), "card_id")
    if not card_ids:
        return [], []
    emails = _rows(
        conn,
        """
        WITH own AS (
            SELECT message_id FROM staging.stg_mail__emails
            WHERE thread_key = ANY(%(cards)s) AND message_id IS NOT NULL
        )
        SELECT email_key FROM staging.stg_mail__emails
        WHERE thread_key = ANY(%(cards)s) OR thread_key IN (SELECT message_id FROM own)
        LIMIT %(limit)s
        """,
        {"cards": card_ids, "limit": MAIL_IDS},
    )
    if not emails:  # staging not there: the cards' latest messages at least
        emails = _rows(
            conn,
            "SELECT latest_email_key AS email_key FROM marts.email_cards"
            " WHERE card_id = ANY(%s) AND latest_email_key IS NOT NULL",
            (card_ids,),
        )
    return card_ids, _ids(emails, "email_key")


def _detail(payload: Any) -> str:
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            return ""
    if not isinstance(payload, dict):
        return ""
    parts = [
        f"{k}: {payload[k]}"
        for k in DETAIL_FIELDS
        if payload.get(k) not in (None, "", [], {}) and not isinstance(payload[k], dict | list)
    ]
    return " · ".join(parts)[:300]


# Event ids first (the union of three small sets: people's events naming the company, the
# events of the entities found above through the (entity_type, entity_id) index, payments
# and lead rows by their payload), then the rows. Card and email events come only from the
# ids of the cards of the role's streams and their messages.
_ACTIVITY = """
WITH ids AS (
    SELECT event_id FROM marts.activity_stream
    WHERE company_key = %(key)s AND entity_type NOT IN ('card', 'email')
    UNION
    SELECT a.event_id FROM marts.activity_stream AS a
    JOIN unnest(%(types)s::text[], %(ids)s::text[]) AS x(entity_type, entity_id)
      ON a.entity_type = x.entity_type AND a.entity_id = x.entity_id
    UNION
    SELECT event_id FROM marts.activity_stream
    WHERE entity_type = ANY(%(by_party)s)
      AND (upper(payload ->> 'gstin') = ANY(%(gstins)s)
           OR substr(upper(payload ->> 'gstin'), 3, 10) = ANY(%(pans)s)
           OR (payload ->> 'gstin' IS NULL AND lower(payload ->> 'company_name') = ANY(%(names)s)))
)
SELECT a.occurred_at AT TIME ZONE %(tz)s AS occurred_at, a.event_type, a.entity_type,
       a.entity_id, a.actor, a.payload
FROM marts.activity_stream AS a
JOIN ids USING (event_id)
WHERE a.event_type = ANY(%(allowed)s)
ORDER BY a.occurred_at DESC, a.event_id
LIMIT %(limit)s
"""


def activity(
    conn: psycopg.Connection, user: User, company: Company, tz: str = "UTC"
) -> pl.DataFrame:
    """The company's timeline, newest first: only the event kinds of the sections the
    role sees, mail events only of the cards of its streams."""
    access = require_section(user, "activity")
    party = company.party()
    entity_types: list[str] = []
    entity_ids: list[str] = []

    def add(kind: str, ids: list[str]) -> None:
        entity_types.extend([kind] * len(ids))
        entity_ids.extend(ids)

    if access.sees("orders") or access.sees("qc") or access.sees("receivables"):
        add(
            "sales_order",
            _ids(
                _rows(
                    conn,
                    _select("sales_orders", ("sales_order_no",), _ORDERS_WHERE, ""),
                    party,
                ),
                "sales_order_no",
            ),
        )
    if access.sees("receivables"):
        add(
            "invoice",
            _ids(
                _rows(
                    conn,
                    _select("receivables", ("invoice_no",), _PARTY_OR_ORDER, ""),
                    party,
                ),
                "invoice_no",
            ),
        )
    if access.sees("qc"):
        add(
            "qc_inspection",
            _ids(
                _rows(
                    conn,
                    _select("qc_results", ("qc_doc_no",), _PARTY_OR_ORDER, "", distinct=True),
                    party,
                ),
                "qc_doc_no",
            ),
        )
    card_ids, email_keys = _mail_ids(conn, company, access, tz) if access.sees("mail") else ([], [])
    add("card", card_ids)
    add("email", email_keys)
    by_party = []
    if access.sees("receivables"):
        by_party.append("payment")
    if any(t.startswith("Prelead") for t in access.event_types()):
        by_party.append("prelead")
    rows = _rows(
        conn,
        _ACTIVITY,
        party
        | {
            "tz": tz,
            "types": entity_types,
            "ids": entity_ids,
            "by_party": by_party,
            "allowed": list(access.event_types()),
            "limit": TIMELINE,
        },
    )
    for row in rows:
        row["detail"] = _detail(row.pop("payload"))
    return _frame(rows, ACTIVITY_COLUMNS)
