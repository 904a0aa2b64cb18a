"""Queries the app runs against the marts. Every query is parameterised."""

from __future__ import annotations

import pandas as pd
import psycopg
from psycopg.rows import dict_row

from pebble import db

#: Kanban columns in display order: (status, heading).
KANBAN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("new", "New"),
    ("in_progress", "In progress"),
    ("waiting", "Waiting on customer"),
    ("done", "Done"),
)


class MartNotBuilt(RuntimeError):
    """The mart the page reads has not been materialised yet."""


def fetch_email_cards(mailbox: str | None = None, per_status: int = 50) -> pd.DataFrame:
    """The newest ``per_status`` cards of each status from ``marts.email_cards``, optionally
    for one mailbox, with ``status_total`` = how many cards that status holds in all."""
    query = """
        SELECT card_id, mailbox, subject, from_display, from_address, sent_at, snippet,
               attachment_count, stream, intent, confidence, requires_review, status,
               status_total
        FROM (
            SELECT *,
                   row_number() OVER (PARTITION BY status
                                      ORDER BY sent_at DESC NULLS LAST, card_id) AS rank,
                   count(*) OVER (PARTITION BY status) AS status_total
            FROM marts.email_cards
            WHERE (%(mailbox)s::text IS NULL OR mailbox = %(mailbox)s)
        ) ranked
        WHERE rank <= %(per_status)s
        ORDER BY sent_at DESC NULLS LAST, card_id
    """
    try:
        with psycopg.connect(db.warehouse_url(), row_factory=dict_row, connect_timeout=10) as conn:
            rows = conn.execute(query, {"mailbox": mailbox, "per_status": per_status}).fetchall()
    except psycopg.errors.UndefinedTable as exc:
        raise MartNotBuilt("marts.email_cards does not exist yet") from exc
    return pd.DataFrame(
        rows,
        columns=[
            "card_id",
            "mailbox",
            "subject",
            "from_display",
            "from_address",
            "sent_at",
            "snippet",
            "attachment_count",
            "stream",
            "intent",
            "confidence",
            "requires_review",
            "status",
            "status_total",
        ],
    )


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
    stream: str | None, intent: str | None, confidence: float | None, requires_review: bool
) -> str:
    """How a card states what the model made of it: "erp · order status · 93%"."""
    if intent is None or confidence is None or pd.isna(confidence):
        return f"{stream or 'unrouted'} · not classified yet"
    line = f"{stream} · {intent.replace('_', ' ')} · {confidence:.0%}"
    return f"{line} · needs review" if requires_review else line
