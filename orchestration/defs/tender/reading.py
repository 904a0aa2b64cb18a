"""Reading tender notices: the PDF attachments of tender mail into ``raw.tender_documents``.

A notice is a PDF attached to an email whose stream is ``tender``: a person's correction of
the card (``CardReclassified``) where there is one, else the scoring's prediction
(``ml.email_predictions``, the routing rules' answer where one decided). Its bytes come from
the content store (``ingest.common.store``, addressed by the attachment's SHA-256), and
``ml.tender.read_notice`` reads it: the text layer, else OCR, then the fields with their
evidence and confidence, products matched against the stock master (``marts.stock_levels``
as the last warehouse build left it).

Invariants:

- One row per PDF content hash: the same PDF attached to several mails is read once (the
  row names the earliest mail carrying it).
- A re-run reads only PDFs without a row, and every PDF again when the extractor's version
  (``EXTRACTOR_VERSION``) differs from the one that read it; nothing else is re-OCRed.
- Nothing is lost: a PDF that cannot be read (corrupt, encrypted, the reader raised) is
  stored with ``text_method = 'none'``, no text and its ``error``. A PDF whose bytes are
  missing from the content store gets no row (it is counted and logged) so it is read once
  the bytes are back.
- Each notice is committed on its own: a failure keeps every notice already read.
- A run reads at most ``max_notices`` notices, newest mail first: a back-fill of a year of
  tender mail (thousands of scanned notices at an OCR's pace) is spread over the runs that
  follow, and a notice that came in today is not queued behind last year's. The report
  says how many are left.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

#: PDF attachments of tender mail not read yet, or read by another extractor version; one
#: row per content hash, named after the earliest mail carrying it. Tender mail: a person's
#: latest correction (``CardReclassified``) of the message, else of its thread, says
#: ``tender``; without one, the scoring does (the cards' own precedence). A run reads the
#: newest mail's notices first, at most the limit parameter of them (NULL: all);
#: ``waiting`` counts all of them.
_PENDING = """
    WITH corrections AS (
        SELECT entity_id AS thread_key, payload ->> 'email_key' AS email_key,
               payload ->> 'stream' AS stream, event_seq
        FROM ops.events
        WHERE entity_type = 'card' AND event_type = 'CardReclassified'
    ),
    message_fix AS (
        SELECT DISTINCT ON (email_key) email_key, stream
        FROM corrections WHERE email_key IS NOT NULL
        ORDER BY email_key, event_seq DESC
    ),
    thread_fix AS (
        SELECT DISTINCT ON (thread_key) thread_key, stream
        FROM corrections WHERE email_key IS NULL
        ORDER BY thread_key, event_seq DESC
    ),
    notices AS (
        SELECT DISTINCT ON (a.sha256) a.sha256, a.email_key, a.filename,
               coalesce(e.sent_at, e.loaded_at) AS received_at
        FROM raw.email_attachments AS a
        JOIN raw.emails AS e ON e.email_key = a.email_key
        LEFT JOIN ml.email_predictions AS p ON p.email_key = a.email_key
        LEFT JOIN message_fix AS m ON m.email_key = a.email_key
        LEFT JOIN thread_fix AS t ON t.thread_key = e.thread_key
        LEFT JOIN raw.tender_documents AS d ON d.content_sha256 = a.sha256
        WHERE coalesce(m.stream, t.stream, p.stream) = 'tender'
          AND (lower(a.content_type) IN ('application/pdf', 'application/x-pdf')
               OR lower(a.filename) LIKE '%%.pdf')
          AND (d.content_sha256 IS NULL OR d.extractor_version <> %s)
        ORDER BY a.sha256, e.sent_at NULLS LAST, e.loaded_at, a.email_key
    )
    SELECT sha256, email_key, filename, count(*) OVER () AS waiting
    FROM notices
    ORDER BY received_at DESC, sha256
    LIMIT %s
"""
_UPSERT = """
    INSERT INTO raw.tender_documents (content_sha256, email_key, filename, pages, text_method,
        text, ocr_seconds, fields, extractor_version, error)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (content_sha256) DO UPDATE SET
        email_key = EXCLUDED.email_key, filename = EXCLUDED.filename,
        pages = EXCLUDED.pages, text_method = EXCLUDED.text_method, text = EXCLUDED.text,
        ocr_seconds = EXCLUDED.ocr_seconds, fields = EXCLUDED.fields,
        extractor_version = EXCLUDED.extractor_version, error = EXCLUDED.error,
        read_at = now()
"""
_METHODS = ("text_layer", "ocr", "none")
#: Longest error message kept (a reader's exception text can be long).
MAX_ERROR_CHARS = 2000


@dataclass
class ReadReport:
    """What one run did, and the state of ``raw.tender_documents`` after it."""

    extractor_version: str
    #: PDFs read (or re-read) by this run, by how their text came.
    read: int = 0
    by_method: dict[str, int] = field(default_factory=dict)
    #: Of them, stored with an error (unreadable PDF).
    errors: int = 0
    #: Pages of the notices this run read by OCR, and the seconds OCR took.
    ocr_pages: int = 0
    ocr_seconds: float = 0.0
    #: PDFs of tender mail whose bytes are not in the content store (no row; read later).
    missing_bytes: int = 0
    #: Stock items the items were matched against (0: no stock master built yet).
    products: int = 0
    #: Rows in raw.tender_documents after the run.
    total: int = 0
    #: Notices still to read after this run (left for the next runs by ``max_notices``).
    left: int = 0


def _clean(value: Any) -> Any:
    """``value`` with NUL characters removed from every string: PostgreSQL's text and
    jsonb refuse them, and a PDF's text may carry them."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def product_names(conn: psycopg.Connection) -> tuple[str, ...]:
    """The stock master's product names (``marts.stock_levels``, Tally's creation order);
    () when the mart has not been built yet: notices are still read, without products."""
    from ml.extract.linking import load_products

    return tuple(dict.fromkeys(ref.name for ref in load_products(conn)))


def attachment_bytes(sha256: str, root: Path | None = None) -> bytes | None:
    """The attachment's bytes from the content store, None when missing or not matching
    their hash (a damaged store is not a damaged PDF: the notice is read later)."""
    from ingest.common import store

    try:
        data = store.blob_path(root or store.attachments_root(), sha256).read_bytes()
    except (OSError, ValueError):
        return None
    return data if hashlib.sha256(data).hexdigest() == sha256 else None


def _row(sha256: str, email_key: str, filename: str, reading: Any, version: str) -> tuple:
    method = reading.method if reading.method in _METHODS else "none"
    error = reading.error
    if method == "none" and not error:
        error = "no text could be read from the PDF"
    fields = _clean(reading.fields_json())
    return (
        sha256,
        email_key,
        _clean(filename or sha256),
        max(0, int(reading.pages or 0)),
        method,
        _clean(reading.text or "") if method != "none" else "",
        float(reading.ocr_seconds) if reading.ocr_seconds is not None else None,
        json.dumps(fields, ensure_ascii=False, default=str),
        version,
        _clean(error)[:MAX_ERROR_CHARS] if error else None,
    )


def _failed_row(sha256: str, email_key: str, filename: str, exc: Exception, version: str):
    error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
    return (sha256, email_key, _clean(filename or sha256), 0, "none", "", None, "{}", version,
            _clean(error))  # fmt: skip


def read_pending(
    conn: psycopg.Connection,
    *,
    ocr: bool = True,
    max_pages: int = 30,
    max_notices: int | None = None,
    products: Sequence[str] | None = None,
    log: Callable[[str], None] = lambda _msg: None,
) -> ReadReport:
    """Read the PDF attachments of tender mail not read by the extractor in service, newest
    mail first and at most ``max_notices`` of them (None: all), and upsert each one's row of
    ``raw.tender_documents`` (``conn``: autocommit; each notice commits on its own).
    ``products``: the stock master's names; None reads them from the warehouse."""
    from ml.tender import EXTRACTOR_VERSION, read_notice

    report = ReadReport(extractor_version=EXTRACTOR_VERSION)
    names = tuple(products) if products is not None else product_names(conn)
    report.products = len(names)
    if max_notices is not None and max_notices < 1:
        raise ValueError(f"max_notices must be at least 1 (or None for all), not {max_notices}")
    pending = conn.execute(_PENDING, (EXTRACTOR_VERSION, max_notices)).fetchall()
    waiting = pending[0][3] if pending else 0
    log(
        f"{waiting} tender notices to read, {len(pending)} in this run, newest first"
        f" ({len(names)} stock items to match)"
    )
    for sha256, email_key, filename, _waiting in pending:
        data = attachment_bytes(sha256)
        if data is None:
            report.missing_bytes += 1
            log(f"{sha256[:12]}: not in the attachment store; read when it is back")
            continue
        started = time.perf_counter()
        try:
            reading = read_notice(data, ocr=ocr, max_pages=max_pages, products=names)
            row = _row(sha256, email_key, filename, reading, EXTRACTOR_VERSION)
        except Exception as exc:  # a reader failure must not lose the notice
            row = _failed_row(sha256, email_key, filename, exc, EXTRACTOR_VERSION)
            reading = None
        conn.execute(_UPSERT, row)
        method, error = row[4], row[9]
        report.read += 1
        report.by_method[method] = report.by_method.get(method, 0) + 1
        if error:
            report.errors += 1
        if method == "ocr":
            report.ocr_pages += row[3]
            report.ocr_seconds += float(row[6] or 0.0)
        took = time.perf_counter() - started
        log(f"{sha256[:12]}: {method}, {row[3]} pages, {took:.1f} s" + (f", error: {error}"
            if error else ""))  # fmt: skip
        del reading
    (report.total,) = conn.execute("SELECT count(*) FROM raw.tender_documents").fetchone()
    report.left = waiting - len(pending)
    if report.left:
        log(f"{report.left} tender notices left for the next runs")
    return report
