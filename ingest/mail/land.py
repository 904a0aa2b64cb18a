"""Land raw email into the warehouse: ``raw.emails`` and ``raw.email_attachments``, with
rejects in ``raw.rejects`` and the routing table ``raw.mailbox_routes``.

Every input message ends up in exactly one of three places: a new row, a recognised
duplicate (same bytes already stored) or a reject (with the reason and the raw bytes;
messages too large for the database keep their bytes in the content store). Rows go in
with COPY into a temporary table and ``INSERT ... ON CONFLICT DO NOTHING``
(:func:`ingest.common.staging.copy_merge`), so loading the same input again adds nothing.
Each batch is one transaction. The tables come from the warehouse migrations.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg

from ingest.common import store
from ingest.common.rejects import record_reject
from ingest.common.report import LandReport
from ingest.common.staging import copy_merge
from ingest.mail.client import RawMessage, iter_paths, mailbox_name
from ingest.mail.parse import DEFAULT_MAX_BYTES, ParsedEmail, Unparseable, parse_email

log = logging.getLogger(__name__)

SOURCE = "mail"
#: The raw tables a mail landing writes (``raw`` schema).
TABLES = ("emails", "email_attachments", "rejects")
#: A batch is flushed at this many messages or this many raw bytes, whichever comes first.
BATCH_MESSAGES = 1000
BATCH_BYTES = 64 * 1024 * 1024

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
ATTACHMENT_COLUMNS = ("email_key", "sha256", "filename", "content_type", "size_bytes")
# variant_of: the first stored message with this Message-ID (earlier batches win; within a
# batch the first occurrence, computed in Python, is the fallback).
_VARIANT_OF = """
COALESCE(
    (SELECT e.email_key FROM raw.emails e
      WHERE e.message_id = s.message_id AND e.variant_of IS NULL
        AND e.email_key <> s.email_key
      ORDER BY e.load_seq LIMIT 1),
    s.variant_of)
"""


def new_report(**extra: Any) -> LandReport:
    """An empty mail report."""
    return LandReport(SOURCE, tables=TABLES, extra=dict(extra))


def known_mailboxes(conn: psycopg.Connection) -> set[str]:
    """Mailbox names configured in ``raw.mailbox_routes``."""
    return {row[0] for row in conn.execute("SELECT mailbox FROM raw.mailbox_routes")}


# --- parsing (runs in worker processes when a pool is given) ------------------------------


@dataclass(slots=True)
class _Outcome:
    """A parsed message (attachments already in the store) or the reason it is rejected."""

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


def _reject(
    conn: psycopg.Connection,
    item: RawMessage,
    reason: str,
    report: LandReport,
    run_id: str | None,
) -> None:
    raw = item.raw
    sha = item.sha256 or hashlib.sha256(raw or b"").hexdigest()
    size = item.size_bytes if item.size_bytes is not None else (len(raw) if raw else None)
    payload_path = None
    if item.oversize_path is not None:
        raw, payload_path = None, item.oversize_path
    elif raw is not None and reason.startswith("too large"):
        store.put_bytes(store.rejects_root(), raw, sha)
        payload_path = store.blob_path(store.rejects_root(), sha)
        raw = None
    record = record_reject(
        conn,
        source=SOURCE,
        source_kind=item.source_kind,
        locator=item.source,
        reason=reason,
        payload=raw,
        run_id=run_id,
        payload_path=payload_path,
        sha256=sha,
        size_bytes=size,
    )
    report.rejected += 1
    report.rejects.append(record.as_dict())


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
    run_id: str | None = None,
) -> LandReport:
    """Land one batch inside the caller's transaction.

    Callers that keep a cursor (IMAP) write it in the same transaction, so a failure
    rolls back rows and cursor together.
    """
    return _write_batch(conn, _PendingBatch(items, max_bytes, executor), known, run_id)


def _write_batch(
    conn: psycopg.Connection,
    pending: _PendingBatch,
    known: set[str] | None,
    run_id: str | None,
) -> LandReport:
    items, parseable = pending.items, pending.parseable
    outcomes = pending.outcomes()
    report = new_report()
    report.seen = len(items)
    if known is None:
        known = known_mailboxes(conn)

    for item in items:
        if item.raw is None or item.error is not None:
            _reject(conn, item, item.error or "unreadable", report, run_id)

    rows: list[tuple[Any, ...]] = []
    attachment_rows: list[tuple[Any, ...]] = []
    first_by_message_id: dict[str, str] = {}
    keys_in_batch: set[str] = set()
    for item, outcome in zip(parseable, outcomes, strict=True):
        if outcome.parsed is None:
            _reject(conn, item, outcome.reason or "unparseable", report, run_id)
            continue
        parsed = outcome.parsed
        if parsed.email_key in keys_in_batch:
            report.duplicates += 1
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
        # One writer at a time: variant_of looks at rows other batches may be adding.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('pebble.raw.emails'))")
        inserted = copy_merge(
            conn,
            "raw.emails",
            EMAIL_COLUMNS,
            rows,
            key=("email_key",),
            exprs={"variant_of": _VARIANT_OF},
        ).inserted
        report.landed += inserted
        report.duplicates += len(rows) - inserted
    if attachment_rows:
        copy_merge(
            conn,
            "raw.email_attachments",
            ATTACHMENT_COLUMNS,
            attachment_rows,
            key=("email_key", "sha256"),
        )
    return report


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
    after_batch: Callable[[psycopg.Connection, list[RawMessage], LandReport], None] | None = None,
    run_id: str | None = None,
) -> LandReport:
    """Land messages in batches, each batch in its own transaction.

    ``workers > 1`` parses in a process pool. ``after_batch`` runs inside each batch's
    transaction (e.g. to advance a cursor together with the rows).
    """
    limit = max_bytes if max_bytes is not None else _configured_max_bytes()
    known = known_mailboxes(conn)
    report = new_report()
    with _pool(workers) as executor:
        # Parsing of the next batch runs in the pool while this one is written.
        previous: _PendingBatch | None = None
        for batch in _batches(messages, batch_messages, BATCH_BYTES):
            current = _PendingBatch(batch, limit, executor)
            if previous is not None:
                report.add(_commit_batch(conn, previous, known, after_batch, run_id))
            previous = current
        if previous is not None:
            report.add(_commit_batch(conn, previous, known, after_batch, run_id))
    return report


def _commit_batch(
    conn: psycopg.Connection,
    pending: _PendingBatch,
    known: set[str],
    after_batch: Callable[[psycopg.Connection, list[RawMessage], LandReport], None] | None,
    run_id: str | None,
) -> LandReport:
    pending.outcomes()  # wait for the parsers before opening the transaction
    with conn.transaction():
        result = _write_batch(conn, pending, known, run_id)
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
    run_id: str | None = None,
) -> LandReport:
    """Load .eml files, directories (recursively), mbox files and Maildirs.

    ``mailbox`` overrides the mailbox otherwise taken from the Maildir folder or mbox file
    name, or else from the recipient address.
    """
    paths = [Path(p) for p in paths]
    limit = max_bytes if max_bytes is not None else _configured_max_bytes()
    box = mailbox_name(mailbox) if mailbox else None
    report = land_messages(
        conn,
        iter_paths(paths, mailbox=box, max_bytes=limit),
        max_bytes=limit,
        workers=workers,
        run_id=run_id,
    )
    report.extra["paths"] = ", ".join(str(p) for p in paths)
    return report


def land_bytes(
    conn: psycopg.Connection,
    items: Iterable[tuple[str, bytes]],
    *,
    source_kind: str = "upload",
    mailbox: str | None = None,
    max_bytes: int | None = None,
    run_id: str | None = None,
) -> LandReport:
    """Load messages handed over as (name, raw bytes), e.g. files uploaded in the app.

    ``name`` is recorded as the source only; it is never used as a path.
    """
    box = mailbox_name(mailbox) if mailbox else None

    def messages() -> Iterator[RawMessage]:
        for name, data in items:
            yield RawMessage(source_kind, str(name)[:500], box, bytes(data))

    return land_messages(conn, messages(), max_bytes=max_bytes, run_id=run_id)
