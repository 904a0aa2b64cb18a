"""Semantic search for the board: the query embedded as ``ml`` embeds emails, the nearest
emails in the Qdrant ``emails`` collection, and the cards (threads) they belong to.

No Streamlit here. The embedded Qdrant store admits one process at a time: the board opens
it for one search and closes it at once (it never waits for, nor keeps, the lock that
``ml``'s scoring needs), and says so in plain words when the store is busy or missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import psycopg

from pebble import db

#: Emails fetched from Qdrant per search; several may fall in one thread.
HITS = 200
#: Cosine similarity below which an email does not match at all (MiniLM: an unrelated
#: text scores about 0.0-0.2, a paraphrase of the question 0.5 and more).
MIN_SCORE = 0.3


class SearchUnavailable(RuntimeError):
    """The search cannot run now; the message says why, in the user's words."""


@lru_cache(maxsize=1)
def _encoder() -> Any:
    from ml.search import query_encoder

    return query_encoder()


def embed(text: str, encoder: Any | None = None) -> list[float]:
    """The query's embedding, made by the encoder the emails were indexed with."""
    return [float(x) for x in (encoder or _encoder()).encode([text])[0]]


def store_path() -> Path:
    from pebble.settings import get_settings

    return get_settings().home / "qdrant"


def _open_client(path: Path | None) -> tuple[Any, bool]:
    """A Qdrant client and whether the caller must close it (an embedded store)."""
    from ml.settings import get_ml_settings

    settings = get_ml_settings()
    if path is None and settings.qdrant_url:
        from qdrant_client import QdrantClient

        key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        return QdrantClient(url=settings.qdrant_url, api_key=key, timeout=10), False
    path = path or store_path()
    if not path.is_dir():
        raise SearchUnavailable(
            "Search is not ready: no emails have been indexed yet (the ml assets build the index)."
        )
    from qdrant_client import QdrantClient

    try:
        return QdrantClient(path=str(path)), True
    except RuntimeError as exc:
        if "already accessed" in str(exc):
            raise SearchUnavailable(
                "Search is busy: the email index is being updated by another process "
                "(a scoring run). Try again in a minute."
            ) from None
        raise


def search_emails(
    text: str,
    *,
    limit: int = HITS,
    min_score: float = MIN_SCORE,
    path: Path | None = None,
    client: Any | None = None,
    encoder: Any | None = None,
) -> list[tuple[str, float]]:
    """``(email_key, score)`` of the emails nearest in meaning to ``text``, best first."""
    from ml.search import COLLECTION, EmailIndex

    own = client is None
    if own:
        client, own = _open_client(path)
    try:
        try:
            exists = client.collection_exists(COLLECTION)
        except Exception as exc:  # a server that does not answer
            raise SearchUnavailable(
                f"Search is unavailable: the email index did not answer ({exc.__class__.__name__})."
            ) from None
        if not exists:
            raise SearchUnavailable(
                "Search is not ready: no emails have been indexed yet (the ml assets build the index)."
            )
        index = EmailIndex(client=client, encoder=encoder or _encoder())
        index._ready = True  # noqa: SLF001 - the collection exists; never create it from here
        hits = index.search(text, limit=limit)
    finally:
        if own:
            client.close()
    return [(h.email_key, h.score) for h in hits if h.email_key and h.score >= min_score]


# An email's card: its thread's root (as int_mail__thread_messages keys threads: a reply
# joins the thread of the message its thread key names), read from staging; where staging
# is not there, the card whose latest customer message it is.
_CARDS_OF_EMAILS = """
    WITH hits AS (
        SELECT email_key, rank FROM unnest(%(keys)s::text[]) WITH ORDINALITY AS h(email_key, rank)
    )
    SELECT coalesce(root.thread_key, e.thread_key) AS card_id, min(hits.rank) AS rank
    FROM hits
    JOIN staging.stg_mail__emails AS e USING (email_key)
    LEFT JOIN LATERAL (
        SELECT r.thread_key FROM staging.stg_mail__emails AS r
        WHERE r.message_id = e.thread_key
        ORDER BY r.variant_of IS NOT NULL, r.loaded_at, r.email_key
        LIMIT 1
    ) AS root ON true
    GROUP BY 1
"""
_CARDS_OF_LATEST = """
    SELECT c.card_id, min(h.rank) AS rank
    FROM unnest(%(keys)s::text[]) WITH ORDINALITY AS h(email_key, rank)
    JOIN marts.email_cards AS c ON c.latest_email_key = h.email_key
    GROUP BY 1
"""


def cards_of_emails(conn: psycopg.Connection, email_keys: Sequence[str]) -> list[str]:
    """The cards the emails belong to, ordered by their best email's rank."""
    if not email_keys:
        return []
    params = {"keys": list(email_keys)}
    ranks: dict[str, int] = {}
    for query in (_CARDS_OF_EMAILS, _CARDS_OF_LATEST):
        try:
            with conn.transaction():
                rows = conn.execute(query, params).fetchall()
        except psycopg.errors.UndefinedTable:
            continue
        for card_id, rank in rows:
            ranks[card_id] = min(rank, ranks.get(card_id, rank))
    return sorted(ranks, key=lambda c: (ranks[c], c))


def search_cards(
    text: str,
    *,
    limit: int = HITS,
    path: Path | None = None,
    client: Any | None = None,
    encoder: Any | None = None,
    conn: psycopg.Connection | None = None,
) -> list[str]:
    """The cards whose emails are nearest in meaning to ``text``, best first. The board
    applies the user's streams and filters to them. Raises :class:`SearchUnavailable`."""
    text = text.strip()
    if not text:
        return []
    keys = [
        k for k, _ in search_emails(text, limit=limit, path=path, client=client, encoder=encoder)
    ]
    if conn is None:
        with psycopg.connect(db.warehouse_url(), connect_timeout=10) as own:
            return cards_of_emails(own, keys)
    return cards_of_emails(conn, keys)
