"""Land raw email into the warehouse: ``raw.emails``, ``raw.email_attachments``,
``raw.quarantine`` and the routing table ``raw.mailbox_routes``.

Every input message ends up in exactly one of three places: a new row, a recognised
duplicate (same bytes already stored) or the quarantine (with the reason and the raw
bytes). Rows go in with COPY into a temporary table and ``INSERT ... ON CONFLICT DO
NOTHING``, so loading the same input again adds nothing. Each batch is one transaction.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from ingest.mail import store
from ingest.mail.parse import DEFAULT_MAX_BYTES, ParsedEmail, Unparseable, parse_email
from ingest.mail.sources import RawMessage, iter_paths, mailbox_name

log = logging.getLogger(__name__)

#: Seed for ``raw.mailbox_routes`` (written only when the table is empty; the app edits it).
DEFAULT_ROUTES: tuple[tuple[str, str], ...] = (
    ("sales", "crm"),
    ("accounts", "erp"),
    ("qc", "erp"),
    ("tenders", "tender"),
)
#: A batch is flushed at this many messages or this many raw bytes, whichever comes first.
BATCH_MESSAGES = 1000
BATCH_BYTES = 64 * 1024 * 1024

DDL = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE TABLE IF NOT EXISTS raw.emails (
    email_key        text PRIMARY KEY,
    message_id       text,
    variant_of       text,
    mailbox          text,
    source_kind      text NOT NULL,
    source           text NOT NULL,
    subject          text,
    from_addr        text,
    from_name        text,
    to_addrs         text[] NOT NULL DEFAULT '{}',
    cc_addrs         text[] NOT NULL DEFAULT '{}',
    delivered_to     text[] NOT NULL DEFAULT '{}',
    sent_at          timestamptz,
    in_reply_to      text,
    "references"     text[] NOT NULL DEFAULT '{}',
    thread_key       text NOT NULL,
    subject_key      text NOT NULL,
    body_text        text NOT NULL DEFAULT '',
    has_html         boolean NOT NULL DEFAULT false,
    attachment_count int NOT NULL DEFAULT 0,
    is_auto_reply    boolean NOT NULL DEFAULT false,
    is_bulk          boolean NOT NULL DEFAULT false,
    is_bounce        boolean NOT NULL DEFAULT false,
    parse_defects    text[] NOT NULL DEFAULT '{}',
    size_bytes       int NOT NULL,
    load_seq         bigint GENERATED ALWAYS AS IDENTITY,
    loaded_at        timestamptz NOT NULL DEFAULT now()
);
-- Columns added after the first release of this table.
ALTER TABLE raw.emails ADD COLUMN IF NOT EXISTS is_bulk boolean NOT NULL DEFAULT false;
CREATE INDEX IF NOT EXISTS emails_message_id_idx ON raw.emails (message_id)
    WHERE message_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS emails_thread_key_idx ON raw.emails (thread_key);
CREATE INDEX IF NOT EXISTS emails_loaded_at_idx ON raw.emails (loaded_at);
CREATE TABLE IF NOT EXISTS raw.email_attachments (
    email_key    text NOT NULL REFERENCES raw.emails (email_key) ON DELETE CASCADE,
    sha256       text NOT NULL,
    filename     text NOT NULL,
    content_type text NOT NULL,
    size_bytes   bigint NOT NULL,
    PRIMARY KEY (email_key, sha256)
);
CREATE INDEX IF NOT EXISTS email_attachments_sha256_idx ON raw.email_attachments (sha256);
CREATE TABLE IF NOT EXISTS raw.quarantine (
    quarantine_id  bigserial PRIMARY KEY,
    source_kind    text NOT NULL,
    source         text NOT NULL,
    reason         text NOT NULL,
    sha256         text NOT NULL,
    raw            bytea,
    size_bytes     bigint,
    raw_in_store   boolean NOT NULL DEFAULT false,
    quarantined_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (sha256, source)
);
CREATE TABLE IF NOT EXISTS raw.mailbox_routes (
    mailbox        text PRIMARY KEY,
    default_stream text NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
"""

EMAIL_COLUMNS: tuple[str, ...] = (
    "email_key",
    "message_id",
    "variant_of",
    "mailbox",
    "source_kind",
    "source",
    "subject",
    "from_addr",
    "from_name",
    "to_addrs",
    "cc_addrs",
    "delivered_to",
    "sent_at",
    "in_reply_to",
    "references",
    "thread_key",
    "subject_key",
    "body_text",
    "has_html",
    "attachment_count",
    "is_auto_reply",
    "is_bulk",
    "is_bounce",
    "parse_defects",
    "size_bytes",
)
_EMAIL_TYPES = (
    "text text text text text text text text text text[] text[] text[] timestamptz text text[] "
    "text text text boolean int boolean boolean boolean text[] int"
).split()
_INSERTED_COLUMNS = tuple(c for c in EMAIL_COLUMNS if c != "variant_of")
_COLS = sql.SQL(", ").join(map(sql.Identifier, EMAIL_COLUMNS))
_TEMP_DDL = sql.SQL("CREATE TEMP TABLE _emails_in ({}, ord int) ON COMMIT DROP").format(
    sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t))
        for c, t in zip(EMAIL_COLUMNS, _EMAIL_TYPES, strict=True)
    )
)
_COPY_EMAILS = sql.SQL("COPY _emails_in ({}, ord) FROM STDIN").format(_COLS)
# variant_of: the first stored message with this Message-ID (earlier batches win; within a
# batch the first occurrence, computed in Python, is the fallback).
_INSERT_EMAILS = sql.SQL(
    """
INSERT INTO raw.emails ({cols}, variant_of)
SELECT {t_cols},
       COALESCE(
           (SELECT e.email_key FROM raw.emails e
             WHERE e.message_id = t.message_id AND e.variant_of IS NULL
               AND e.email_key <> t.email_key
             ORDER BY e.load_seq LIMIT 1),
           t.variant_of)
FROM _emails_in t
ORDER BY t.ord
ON CONFLICT (email_key) DO NOTHING
RETURNING email_key
"""
).format(
    cols=sql.SQL(", ").join(map(sql.Identifier, _INSERTED_COLUMNS)),
    t_cols=sql.SQL(", ").join(sql.Identifier("t", c) for c in _INSERTED_COLUMNS),
)
_INSERT_ATTACHMENTS = """
INSERT INTO raw.email_attachments (email_key, sha256, filename, content_type, size_bytes)
SELECT email_key, sha256, filename, content_type, size_bytes FROM _attachments_in
ON CONFLICT (email_key, sha256) DO NOTHING
"""
_INSERT_QUARANTINE = """
INSERT INTO raw.quarantine (source_kind, source, reason, sha256, raw, size_bytes, raw_in_store)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (sha256, source) DO NOTHING
"""


@dataclass
class LoadSummary:
    """What one load did. ``seen == loaded + duplicates + len(quarantined)`` always holds."""

    seen: int = 0
    loaded: int = 0
    duplicates: int = 0
    quarantined: list[dict[str, str]] = field(default_factory=list)

    @property
    def accounted(self) -> bool:
        """Every input message was stored, recognised as a duplicate or quarantined."""
        return self.seen == self.loaded + self.duplicates + len(self.quarantined)

    def add(self, other: LoadSummary) -> None:
        self.seen += other.seen
        self.loaded += other.loaded
        self.duplicates += other.duplicates
        self.quarantined.extend(other.quarantined)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seen": self.seen,
            "loaded": self.loaded,
            "duplicates": self.duplicates,
            "quarantined": [dict(q) for q in self.quarantined],
        }


def ensure_tables(conn: psycopg.Connection) -> None:
    """Create the raw mail tables if missing and seed the mailbox routes when empty."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('pebble.raw.emails.ddl'))")
        conn.execute(DDL)
        empty = conn.execute("SELECT NOT EXISTS (SELECT 1 FROM raw.mailbox_routes)").fetchone()
        if empty and empty[0]:
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO raw.mailbox_routes (mailbox, default_stream) VALUES (%s, %s) "
                    "ON CONFLICT (mailbox) DO NOTHING",
                    DEFAULT_ROUTES,
                )


def known_mailboxes(conn: psycopg.Connection) -> set[str]:
    """Mailbox names configured in ``raw.mailbox_routes``."""
    return {row[0] for row in conn.execute("SELECT mailbox FROM raw.mailbox_routes")}


# --- parsing (runs in worker processes when a pool is given) ------------------------------


@dataclass(slots=True)
class _Outcome:
    """A parsed message (attachments already in the store) or a quarantine reason."""

    parsed: ParsedEmail | None
    reason: str | None


def _parse_and_store(raw: bytes, max_bytes: int, attachments_dir: str) -> _Outcome:
    try:
        parsed = parse_email(raw, max_bytes=max_bytes)
    except Unparseable as exc:
        return _Outcome(None, exc.reason)
    except Exception as exc:  # noqa: BLE001 - a parser bug must never lose the message
        return _Outcome(None, f"parser error: {type(exc).__name__}: {exc}"[:500])
    root = Path(attachments_dir)
    for attachment in parsed.attachments:
        store.put_bytes(root, attachment.payload, attachment.sha256)
    # The payloads are on disk now; do not ship them back across process boundaries.
    parsed.attachments = [replace(a, payload=b"") for a in parsed.attachments]
    return _Outcome(parsed, None)


# --- landing ------------------------------------------------------------------------------


def _resolve_mailbox(item: RawMessage, parsed: ParsedEmail, known: set[str]) -> str | None:
    if item.mailbox:
        return item.mailbox
    for addr in [*parsed.delivered_to, *parsed.to_addrs, *parsed.cc_addrs]:
        local = mailbox_name(addr.split("@", 1)[0])
        if local in known:
            return local
    for addr in [*parsed.delivered_to, *parsed.to_addrs]:
        local = mailbox_name(addr.split("@", 1)[0])
        if local:
            return local
    return None


def _quarantine(
    conn: psycopg.Connection, item: RawMessage, reason: str, summary: LoadSummary
) -> None:
    raw = item.raw
    sha = item.sha256 or hashlib.sha256(raw or b"").hexdigest()
    size = item.size_bytes if item.size_bytes is not None else (len(raw) if raw else None)
    in_store = False
    if item.oversize_path is not None:
        store.put_file(store.quarantine_root(), item.oversize_path, sha)
        raw, in_store = None, True
    elif raw is not None and reason.startswith("too large"):
        store.put_bytes(store.quarantine_root(), raw, sha)
        raw, in_store = None, True
    conn.execute(
        _INSERT_QUARANTINE, (item.source_kind, item.source, reason, sha, raw, size, in_store)
    )
    summary.quarantined.append({"source": item.source, "reason": reason})
    log.info("quarantined %s: %s", item.source, reason)


_PARSE_CHUNK = 64


def _parse_chunk(raws: list[bytes], max_bytes: int, attachments_dir: str) -> list[_Outcome]:
    return [_parse_and_store(raw, max_bytes, attachments_dir) for raw in raws]


class _PendingBatch:
    """A batch whose parsing has been handed to the pool (or done in-process)."""

    def __init__(self, items: list[RawMessage], max_bytes: int, executor: Executor | None) -> None:
        self.items = items
        attachments_dir = str(store.attachments_root())
        self.parseable = [item for item in items if item.raw is not None and item.error is None]
        raws = [item.raw for item in self.parseable]
        self._futures: list[Any] | None = None
        self._outcomes: list[_Outcome] | None = None
        if executor is not None and len(raws) > 1:
            self._futures = [
                executor.submit(
                    _parse_chunk, raws[i : i + _PARSE_CHUNK], max_bytes, attachments_dir
                )
                for i in range(0, len(raws), _PARSE_CHUNK)
            ]
        else:
            self._outcomes = _parse_chunk(raws, max_bytes, attachments_dir)  # type: ignore[arg-type]

    def outcomes(self) -> list[_Outcome]:
        if self._outcomes is None:
            assert self._futures is not None
            self._outcomes = [o for future in self._futures for o in future.result()]
            self._futures = None
        return self._outcomes


def land_batch(
    conn: psycopg.Connection,
    items: list[RawMessage],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    executor: Executor | None = None,
    known: set[str] | None = None,
) -> LoadSummary:
    """Land one batch inside the caller's transaction (tables must exist).

    Callers that keep a cursor (IMAP) write it in the same transaction, so a failure
    rolls back rows and cursor together.
    """
    return _write_batch(conn, _PendingBatch(items, max_bytes, executor), known)


def _write_batch(
    conn: psycopg.Connection, pending: _PendingBatch, known: set[str] | None
) -> LoadSummary:
    items, parseable = pending.items, pending.parseable
    outcomes = pending.outcomes()
    summary = LoadSummary(seen=len(items))
    if known is None:
        known = known_mailboxes(conn)

    for item in items:
        if item.raw is None or item.error is not None:
            _quarantine(conn, item, item.error or "unreadable", summary)

    rows: list[tuple[Any, ...]] = []
    attachment_rows: list[tuple[Any, ...]] = []
    first_by_message_id: dict[str, str] = {}
    keys_in_batch: set[str] = set()
    for item, outcome in zip(parseable, outcomes, strict=True):
        if outcome.parsed is None:
            _quarantine(conn, item, outcome.reason or "unparseable", summary)
            continue
        parsed = outcome.parsed
        if parsed.email_key in keys_in_batch:
            summary.duplicates += 1
            continue
        keys_in_batch.add(parsed.email_key)
        variant_of = None
        if parsed.message_id:
            variant_of = first_by_message_id.setdefault(parsed.message_id, parsed.email_key)
            if variant_of == parsed.email_key:
                variant_of = None
        rows.append(_email_row(item, parsed, variant_of, _resolve_mailbox(item, parsed, known)))
        seen_hashes: set[str] = set()
        for attachment in parsed.attachments:
            if attachment.sha256 in seen_hashes:
                continue
            seen_hashes.add(attachment.sha256)
            attachment_rows.append(
                (
                    parsed.email_key,
                    attachment.sha256,
                    attachment.filename,
                    attachment.content_type,
                    attachment.size_bytes,
                )
            )

    if rows:
        inserted = _copy_emails(conn, rows)
        summary.loaded += inserted
        summary.duplicates += len(rows) - inserted
    if attachment_rows:
        _copy_attachments(conn, attachment_rows)
    return summary


def _email_row(
    item: RawMessage, parsed: ParsedEmail, variant_of: str | None, mailbox: str | None
) -> tuple[Any, ...]:
    return (
        parsed.email_key,
        parsed.message_id,
        variant_of,
        mailbox,
        item.source_kind,
        item.source,
        parsed.subject,
        parsed.from_addr,
        parsed.from_name,
        parsed.to_addrs,
        parsed.cc_addrs,
        parsed.delivered_to,
        parsed.sent_at,
        parsed.in_reply_to,
        parsed.references,
        parsed.thread_key,
        parsed.subject_key,
        parsed.body_text,
        parsed.has_html,
        len(parsed.attachments),
        parsed.is_auto_reply,
        parsed.is_bulk,
        parsed.is_bounce,
        parsed.parse_defects,
        parsed.size_bytes,
    )


def _copy_emails(conn: psycopg.Connection, rows: list[tuple[Any, ...]]) -> int:
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('pebble.raw.emails'))")
    conn.execute(_TEMP_DDL)
    with conn.cursor() as cur:
        with cur.copy(_COPY_EMAILS) as copy:
            for index, row in enumerate(rows):
                copy.write_row((*row, index))
        inserted = cur.execute(_INSERT_EMAILS).fetchall()
    conn.execute("DROP TABLE _emails_in")
    return len(inserted)


def _copy_attachments(conn: psycopg.Connection, rows: list[tuple[Any, ...]]) -> None:
    conn.execute(
        "CREATE TEMP TABLE _attachments_in (email_key text, sha256 text, filename text, "
        "content_type text, size_bytes bigint) ON COMMIT DROP"
    )
    with conn.cursor() as cur:
        with cur.copy(
            "COPY _attachments_in (email_key, sha256, filename, content_type, size_bytes) "
            "FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        cur.execute(_INSERT_ATTACHMENTS)
    conn.execute("DROP TABLE _attachments_in")


def _batches(messages: Iterable[RawMessage], max_count: int, max_bytes: int):
    batch: list[RawMessage] = []
    size = 0
    for message in messages:
        batch.append(message)
        size += len(message.raw) if message.raw else 0
        if len(batch) >= max_count or size >= max_bytes:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def land_messages(
    conn: psycopg.Connection,
    messages: Iterable[RawMessage],
    *,
    max_bytes: int | None = None,
    workers: int = 1,
    batch_messages: int = BATCH_MESSAGES,
    after_batch: Callable[[psycopg.Connection, list[RawMessage], LoadSummary], None] | None = None,
) -> LoadSummary:
    """Land messages in batches, each batch in its own transaction.

    ``workers > 1`` parses in a process pool. ``after_batch`` runs inside each batch's
    transaction (e.g. to advance a cursor together with the rows).
    """
    limit = max_bytes if max_bytes is not None else _configured_max_bytes()
    ensure_tables(conn)
    known = known_mailboxes(conn)
    summary = LoadSummary()
    with _pool(workers) as executor:
        # Parsing of the next batch runs in the pool while this one is written.
        previous: _PendingBatch | None = None
        for batch in _batches(messages, batch_messages, BATCH_BYTES):
            current = _PendingBatch(batch, limit, executor)
            if previous is not None:
                summary.add(_commit_batch(conn, previous, known, after_batch))
            previous = current
        if previous is not None:
            summary.add(_commit_batch(conn, previous, known, after_batch))
    return summary


def _commit_batch(
    conn: psycopg.Connection,
    pending: _PendingBatch,
    known: set[str],
    after_batch: Callable[[psycopg.Connection, list[RawMessage], LoadSummary], None] | None,
) -> LoadSummary:
    pending.outcomes()  # wait for the parsers before opening the transaction
    with conn.transaction():
        result = _write_batch(conn, pending, known)
        if after_batch is not None:
            after_batch(conn, pending.items, result)
    return result


class _NoPool:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _pool(workers: int) -> Any:
    if workers <= 1:
        return _NoPool()
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("forkserver")
    )


def _configured_max_bytes() -> int:
    from ingest.mail.settings import MailSettings

    return MailSettings().max_message_bytes


def land_paths(
    conn: psycopg.Connection,
    paths: Iterable[Path],
    *,
    mailbox: str | None = None,
    max_bytes: int | None = None,
    workers: int = 1,
) -> LoadSummary:
    """Load .eml files, directories (recursively), mbox files and Maildirs.

    ``mailbox`` overrides the mailbox otherwise taken from the Maildir folder or mbox file
    name, or else from the recipient address.
    """
    limit = max_bytes if max_bytes is not None else _configured_max_bytes()
    box = mailbox_name(mailbox) if mailbox else None
    return land_messages(
        conn,
        iter_paths(paths, mailbox=box, max_bytes=limit),
        max_bytes=limit,
        workers=workers,
    )


def land_bytes(
    conn: psycopg.Connection,
    items: Iterable[tuple[str, bytes]],
    *,
    source_kind: str = "upload",
    mailbox: str | None = None,
    max_bytes: int | None = None,
) -> LoadSummary:
    """Load messages handed over as (name, raw bytes), e.g. files uploaded in the app.

    ``name`` is recorded as the source only; it is never used as a path.
    """
    box = mailbox_name(mailbox) if mailbox else None

    def messages() -> Iterator[RawMessage]:
        for name, data in items:
            yield RawMessage(source_kind, str(name)[:500], box, bytes(data))

    return land_messages(conn, messages(), max_bytes=max_bytes)
