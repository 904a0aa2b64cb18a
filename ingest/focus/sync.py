"""Pull Focus documents (list, then one screen per document) and land them incrementally.

Focus has no bulk read: every document is one request, so the screens are fetched on a
pool of ``FOCUS_SCREEN_WORKERS`` threads (:func:`fetch_documents`) while the listing pages
on, and handed on in the listing's order, so what lands, in which batch and with which
cursor is the same as fetching them one by one. At most twice the workers' number of
documents are asked for ahead of the one being landed, so memory stays bounded.

The cursor per voucher kind (``raw.ingest_cursors``, source ``focus``) is the latest
document date and number landed. The next pull asks for documents dated from that date
minus ``lookback_days``, so recently changed documents (an order that got dispatched) are
seen again; unchanged ones land as no-ops. Documents are landed a batch at a time, each
batch with its cursor in one transaction: a pull that fails half-way keeps what it landed
and resumes from there. A document that cannot be normalised goes to ``raw.rejects`` and
does not block the pull.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import logging
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import psycopg

from ingest.common.cursors import get_cursor
from ingest.common.report import LandReport
from ingest.focus.client import FocusClient
from ingest.focus.errors import FocusFieldError, FocusNotFoundError
from ingest.focus.land import CURSOR_SOURCE, SOURCE, land_documents, new_report
from ingest.focus.parse import Record, normalise
from ingest.focus.settings import KINDS

log = logging.getLogger(__name__)

Document = dict[str, Any]


def sync(
    conn: psycopg.Connection,
    client: FocusClient | None = None,
    *,
    kinds: Sequence[str] | None = None,
    run_id: str | None = None,
    full: bool = False,
) -> LandReport:
    """Pull each voucher kind (default: all) from its cursor and land it; a part per kind.

    ``full`` ignores the cursors and pulls every document. A failure stops at that kind:
    earlier kinds, and the batches of this one already landed, stay landed. An unreachable
    Focus raises :class:`~ingest.focus.errors.FocusConnectionError` after the client's
    bounded retries.
    """
    own = client is None
    client = client or FocusClient()
    wanted = tuple(kinds) if kinds else KINDS
    unknown = [k for k in wanted if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown Focus voucher kinds {unknown}; expected {list(KINDS)}")
    report = LandReport(SOURCE, tables=("rejects",))
    try:
        for kind in wanted:
            report.add(sync_kind(conn, client, kind, full=full, run_id=run_id), kind)
    finally:
        if own:
            client.close()
    return report


def read_cursor(conn: psycopg.Connection, kind: str) -> dict[str, str] | None:
    """The stored cursor ``{"date": ISO, "doc_no": ...}`` of ``kind``, or None."""
    value = get_cursor(conn, CURSOR_SOURCE, kind)
    if value is None:
        return None
    try:
        cursor = json.loads(value)
        dt.date.fromisoformat(cursor["date"])
        return {"date": cursor["date"], "doc_no": str(cursor.get("doc_no") or "")}
    except (ValueError, KeyError, TypeError):
        log.warning("ignoring unreadable Focus cursor for %s: %r (pulling everything)", kind, value)
        return None


def fetch_documents(
    client: FocusClient,
    kind: str,
    *,
    from_date: dt.date | None = None,
    to_date: dt.date | None = None,
    workers: int | None = None,
) -> Iterator[tuple[str, Document]]:
    """Yield (doc_no, Focus document) for every document of ``kind`` in range, oldest first.

    The screens are fetched ``workers`` at a time (default ``screen_workers`` of the
    client's settings; 1: one after another on this thread) and yielded in the listing's
    order whatever order they arrive in. A failure is raised where the sequential fetch
    would raise it: every document listed before the failing one (or before the listing
    failed) is yielded first, none after it. A document listed but gone by the time it is
    fetched (deleted in between) is skipped.
    """
    count = client.settings.screen_workers if workers is None else workers
    if count < 1:
        raise ValueError(f"workers must be at least 1, got {count}")
    if count == 1:
        yield from _fetch_sequential(client, kind, from_date, to_date)
    else:
        yield from _fetch_parallel(client, kind, from_date, to_date, count)


def _fetch_sequential(
    client: FocusClient, kind: str, from_date: dt.date | None, to_date: dt.date | None
) -> Iterator[tuple[str, Document]]:
    voucher_type = client.settings.voucher_types[kind]
    for doc_no in _listed(client, kind, from_date, to_date):
        document = _screen(client, voucher_type, doc_no)
        if document is not None:
            yield doc_no, document


def _fetch_parallel(
    client: FocusClient,
    kind: str,
    from_date: dt.date | None,
    to_date: dt.date | None,
    workers: int,
) -> Iterator[tuple[str, Document]]:
    """The screens on a pool of ``workers`` threads, yielded in listing order. The listing
    pages on this thread, at most ``2 * workers`` documents ahead of the one yielded."""
    voucher_type = client.settings.voucher_types[kind]
    ahead = 2 * workers
    fetches = _Fetches(client, voucher_type)
    pending: deque[tuple[str, Future[Document | None]]] = deque()
    listing_error: Exception | None = None
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"focus-{kind}") as pool:
        try:
            listed = _listed(client, kind, from_date, to_date)
            for index in itertools.count():
                if fetches.failed:
                    break  # it is raised when its turn comes; nothing after it is used
                try:
                    doc_no = next(listed)
                except StopIteration:
                    break
                except Exception as exc:  # noqa: BLE001 - raised below, after what came before
                    listing_error = exc
                    break
                pending.append((doc_no, pool.submit(fetches.fetch, index, doc_no)))
                if len(pending) >= ahead:
                    yield from _next_done(pending)
            while pending:
                yield from _next_done(pending)
            if listing_error is not None:
                raise listing_error
        finally:
            # Stopped early (a failure, or the consumer gave up): nothing more is asked for;
            # leaving the pool waits for the requests already under way.
            for _, future in pending:
                future.cancel()


class _Fetches:
    """The screen requests of one parallel fetch. Once one fails, requests for documents
    listed after it are not sent: they would never be used (the failure is raised before
    their turn), and each would be one more request to a server in trouble (or one more
    login refused)."""

    def __init__(self, client: FocusClient, voucher_type: str) -> None:
        self.client = client
        self.voucher_type = voucher_type
        self._lock = threading.Lock()
        self._failed_at: int | None = None

    @property
    def failed(self) -> bool:
        with self._lock:
            return self._failed_at is not None

    def fetch(self, index: int, doc_no: str) -> Document | None:
        with self._lock:
            if self._failed_at is not None and index > self._failed_at:
                return None  # never yielded: the earlier failure is raised first
        try:
            return _screen(self.client, self.voucher_type, doc_no)
        except Exception:
            with self._lock:
                if self._failed_at is None or index < self._failed_at:
                    self._failed_at = index
            raise


def _next_done(
    pending: deque[tuple[str, Future[Document | None]]],
) -> Iterator[tuple[str, Document]]:
    """The oldest pending document, once fetched (its failure raised); none if it is gone."""
    doc_no, future = pending[0]
    document = future.result()
    pending.popleft()
    if document is not None:
        yield doc_no, document


def _screen(client: FocusClient, voucher_type: str, doc_no: str) -> Document | None:
    """One document, or None when it was listed but is gone (deleted in between)."""
    try:
        return client.screen(voucher_type, doc_no)
    except FocusNotFoundError:
        log.warning("%s %s was listed but is gone; skipping it", voucher_type, doc_no)
        return None


def _listed(
    client: FocusClient, kind: str, from_date: dt.date | None, to_date: dt.date | None
) -> Iterator[str]:
    """The document numbers of ``kind`` in range, in listing order (checked to be text
    that can be asked for and stored)."""
    settings = client.settings
    voucher_type = settings.voucher_types[kind]
    doc_field = settings.field_map["doc_no"]
    for row in client.list_documents(voucher_type, from_date=from_date, to_date=to_date):
        doc_no = row.get(doc_field) if isinstance(row, dict) else None
        if not doc_no:
            raise FocusFieldError(
                f"{voucher_type} list row has no {doc_field!r} (canonical doc_no): {row!r}; "
                "set FOCUS_FIELD_MAP if this tenant names it differently"
            )
        doc_no = str(doc_no)
        if not doc_no.isprintable() and not _valid_text(doc_no):
            raise FocusFieldError(
                f"{voucher_type} list row has a {doc_field!r} that is not valid text "
                f"({doc_no!r}): a NUL or a lone surrogate; it cannot be asked for or stored"
            )
        yield doc_no


def _valid_text(text: str) -> bool:
    """No NUL and no lone surrogate: text PostgreSQL and a URL can carry."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def pull_documents(
    client: FocusClient,
    kind: str,
    *,
    from_date: dt.date | None = None,
    to_date: dt.date | None = None,
) -> Iterator[tuple[Record, Document]]:
    """Yield (normalised record, Focus document) for every document of ``kind`` in range;
    an unreadable document raises FocusFieldError."""
    fields = client.settings.field_map
    for _, document in fetch_documents(client, kind, from_date=from_date, to_date=to_date):
        yield normalise(kind, document, fields), document


def pull_one(client: FocusClient, kind: str, doc_no: str) -> tuple[Record, Document]:
    """The normalised record and Focus document of one document number."""
    settings = client.settings
    document = client.screen(settings.voucher_types[kind], doc_no)
    return normalise(kind, document, settings.field_map), document


def sync_kind(
    conn: psycopg.Connection,
    client: FocusClient,
    kind: str,
    *,
    full: bool = False,
    to_date: dt.date | None = None,
    batch_size: int = 500,
    run_id: str | None = None,
) -> LandReport:
    """Pull ``kind`` from its cursor (or everything when ``full``) and land it in batches.

    The report's ``seen`` counts the documents fetched; ``extra["from_date"]`` is where the
    pull started (None: from the beginning); the cursors are JSON ``{"date", "doc_no"}``.
    """
    cursor = None if full else read_cursor(conn, kind)
    from_date = None
    if cursor is not None:
        from_date = dt.date.fromisoformat(cursor["date"]) - dt.timedelta(
            days=client.settings.lookback_days
        )
    report = new_report(kind)
    report.extra["from_date"] = from_date.isoformat() if from_date else None
    report.cursor_before = report.cursor_after = None if cursor is None else json.dumps(cursor)
    current = cursor
    fields = client.settings.field_map
    batch: list[tuple[Record, Document]] = []
    rejects: list[tuple[str, str, Document]] = []

    def flush() -> None:
        nonlocal current
        new_cursor = current
        if batch:
            newest = max((r["date"], r["doc_no"]) for r, _ in batch)
            if current is not None:
                newest = max(newest, (current["date"], current["doc_no"]))
            new_cursor = {"date": newest[0], "doc_no": newest[1]}
        dumped = None if new_cursor is None else json.dumps(new_cursor)
        landed = land_documents(conn, kind, batch, rejects=rejects, cursor=dumped, run_id=run_id)
        report.add(landed)
        report.extra["lines_written"] = report.extra.get("lines_written", 0) + landed.extra.get(
            "lines_written", 0
        )
        current = new_cursor
        report.cursor_after = dumped
        batch.clear()
        rejects.clear()

    # closing(): a failed landing stops the fetch (and its threads) at once, not whenever
    # the generator is collected.
    fetched = fetch_documents(client, kind, from_date=from_date, to_date=to_date)
    with contextlib.closing(fetched):
        for doc_no, document in fetched:
            try:
                batch.append((normalise(kind, document, fields), document))
            except FocusFieldError as exc:
                log.warning("Focus %s %s rejected: %s", kind, doc_no, exc.message)
                rejects.append((doc_no, exc.message, document))
            if len(batch) + len(rejects) >= batch_size:
                flush()
    if batch or rejects:
        flush()
    return report
