"""Incremental cursors persisted in the warehouse (``raw.ingest_cursors``, created by the
warehouse migrations).

A connector reads its cursor before a pull and writes the new value in the same
transaction as the rows it landed, so a failed run never advances the cursor.
"""

from __future__ import annotations

import psycopg


def get_cursor(conn: psycopg.Connection, source: str, key: str) -> str | None:
    """The stored value for (source, key), or None if never set."""
    row = conn.execute(
        "SELECT value FROM raw.ingest_cursors WHERE source = %s AND cursor_key = %s",
        (source, key),
    ).fetchone()
    return None if row is None else row[0]


def set_cursor(conn: psycopg.Connection, source: str, key: str, value: str) -> None:
    """Store the value for (source, key); commits with the caller's transaction."""
    conn.execute(
        """
        INSERT INTO raw.ingest_cursors (source, cursor_key, value) VALUES (%s, %s, %s)
        ON CONFLICT (source, cursor_key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
        """,
        (source, key, value),
    )
