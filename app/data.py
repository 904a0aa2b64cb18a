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


def fetch_email_cards(mailbox: str | None = None, limit: int = 500) -> pd.DataFrame:
    """Cards from ``marts.email_cards``, newest first, optionally for one mailbox."""
    query = """
        SELECT card_id, mailbox, subject, from_display, from_address, sent_at, snippet,
               attachment_count, status
        FROM marts.email_cards
        WHERE (%(mailbox)s::text IS NULL OR mailbox = %(mailbox)s)
        ORDER BY sent_at DESC NULLS LAST, card_id
        LIMIT %(limit)s
    """
    try:
        with psycopg.connect(db.warehouse_url(), row_factory=dict_row, connect_timeout=10) as conn:
            rows = conn.execute(query, {"mailbox": mailbox, "limit": limit}).fetchall()
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
            "status",
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
