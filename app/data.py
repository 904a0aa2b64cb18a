"""Queries the app runs against the marts. Every query is parameterised.

The Kanban board's own queries (the user's streams, filters, pages per column) and its move
command are in ``app.board``; what is here is the plain card list and the card lines the
screens share."""

from __future__ import annotations

import pandas as pd
import psycopg
from psycopg.rows import dict_row

from pebble import db

#: The columns :func:`fetch_email_cards` returns, in order.
CARD_COLUMNS: tuple[str, ...] = (
    "card_id",
    "mailbox",
    "subject",
    "from_display",
    "from_address",
    "last_message_at",
    "message_count",
    "snippet",
    "attachment_count",
    "stream",
    "intent",
    "confidence",
    "requires_review",
    "reclassified",
    "status",
    "assignee",
    "card_version",
    "status_total",
)

# marts.email_cards is rebuilt by dbt, so between builds it lags people's events; the view
# ops.card_state folds the same events live (migration 0005), so a move, an assignment or a
# correction shows at once. A card with events is what the view says (it is never older
# than the mart): no CardMoved means 'new', no assignee means unassigned.
_CARDS = """
    WITH cards AS (
        SELECT
            c.card_id, c.mailbox, c.subject, c.from_display, c.from_address,
            c.last_message_at, c.message_count, c.snippet, c.attachment_count,
            coalesce(live.stream, c.stream)                          AS stream,
            coalesce(live.intent, c.intent)                          AS intent,
            c.confidence,
            CASE WHEN live.stream IS NOT NULL THEN false
                 ELSE c.requires_review END                          AS requires_review,
            live.stream IS NOT NULL OR c.reclassified                AS reclassified,
            CASE WHEN live.card_id IS NULL THEN c.status
                 ELSE coalesce(live.status, 'new') END               AS status,
            CASE WHEN live.card_id IS NULL THEN c.assignee
                 ELSE live.assignee END                              AS assignee,
            greatest(c.card_version, coalesce(live.version, 0))      AS card_version
        FROM marts.email_cards AS c
        LEFT JOIN ops.card_state AS live ON live.card_id = c.card_id
        WHERE (%(mailbox)s::text IS NULL OR c.mailbox = %(mailbox)s)
    )
    SELECT card_id, mailbox, subject, from_display, from_address, last_message_at,
           message_count, snippet, attachment_count, stream, intent, confidence,
           requires_review, reclassified, status, assignee, card_version, status_total
    FROM (
        SELECT *,
               row_number() OVER (PARTITION BY status
                                  ORDER BY last_message_at DESC NULLS LAST, card_id) AS rank,
               count(*) OVER (PARTITION BY status) AS status_total
        FROM cards
    ) ranked
    WHERE rank <= %(per_status)s
    ORDER BY last_message_at DESC NULLS LAST, card_id
"""


class MartNotBuilt(RuntimeError):
    """The mart the page reads has not been materialised yet."""


def fetch_email_cards(mailbox: str | None = None, per_status: int = 50) -> pd.DataFrame:
    """The ``per_status`` cards (threads) of each status with the newest mail, from
    ``marts.email_cards`` with people's latest events applied, optionally for one mailbox;
    ``status_total`` = how many cards that status holds in all."""
    try:
        with psycopg.connect(db.warehouse_url(), row_factory=dict_row, connect_timeout=10) as conn:
            rows = conn.execute(_CARDS, {"mailbox": mailbox, "per_status": per_status}).fetchall()
    except psycopg.errors.UndefinedTable as exc:
        raise MartNotBuilt("marts.email_cards does not exist yet") from exc
    return pd.DataFrame(rows, columns=list(CARD_COLUMNS))


def fetch_mailboxes() -> list[str]:
    try:
        with psycopg.connect(db.warehouse_url(), connect_timeout=10) as conn:
            rows = conn.execute(
                "SELECT DISTINCT mailbox FROM marts.email_cards WHERE mailbox IS NOT NULL ORDER BY 1"
            ).fetchall()
    except psycopg.errors.UndefinedTable:
        return []
    return [r[0] for r in rows]


def classification_line(
    stream: str | None,
    intent: str | None,
    confidence: float | None,
    requires_review: bool,
    reclassified: bool = False,
) -> str:
    """How a card states what the model (or a person) made of it: "erp · order status · 93%"."""
    if reclassified and intent is not None:
        return f"{stream} · {intent.replace('_', ' ')} · set by a person"
    if intent is None or confidence is None or pd.isna(confidence):
        return f"{stream or 'unrouted'} · not classified yet"
    line = f"{stream} · {intent.replace('_', ' ')} · {confidence:.0%}"
    return f"{line} · needs review" if requires_review else line


def thread_line(message_count: int, assignee: str | None) -> str | None:
    """What a card says about its thread and owner: "3 messages · assigned to priya"; None
    for a lone unassigned message."""
    parts = []
    if message_count and message_count > 1:
        parts.append(f"{message_count} messages")
    if assignee:
        parts.append(f"assigned to {assignee}")
    return " · ".join(parts) or None
