"""Record input that could not be landed in ``raw.rejects``, one table for every source.

A reject keeps what came in (the raw payload), where it came from (``source``,
``source_kind``, ``locator``), why it was refused (``reason``) and the run that saw it.
Recording is idempotent: the same payload from the same place is stored once
(``UNIQUE (source, locator, sha256)``). Payloads larger than :data:`INLINE_MAX_BYTES`
go to the content store (``$PEBBLE_HOME/quarantine/<aa>/<sha256>``) and the row says
``payload_in_store``, with the SHA-256 and size. That is a hard cap: no ``bytea`` ever
holds more than 1 MiB (PostgreSQL stops at 1 GB). A payload that comes as a file
(``payload_path``: a rejected lead list, an oversize mail) is streamed into the store,
hashed and copied in one pass, never read into memory.

When a later landing of the same locator succeeds, :func:`resolve_rejects` stamps
``resolved_at`` on its open rejects; the rows stay as the record of what happened.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from ingest.common import store
from ingest.common.limits import store_file_range

log = logging.getLogger(__name__)

#: Payloads above this size are kept in the content store instead of the bytea column.
INLINE_MAX_BYTES = 1 << 20
#: Longest reason stored; longer text is cut (parser messages can quote whole inputs).
MAX_REASON_CHARS = 2000
SOURCES = ("mail", "tally", "focus", "prelead")

_INSERT = """
INSERT INTO raw.rejects (source, source_kind, locator, reason, sha256, payload,
                         payload_in_store, size_bytes, run_id)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (source, locator, sha256) DO NOTHING
"""


@dataclass(frozen=True, slots=True)
class Reject:
    """One recorded reject, as a connector reports it (``LandReport.rejects``)."""

    locator: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"locator": self.locator, "reason": self.reason}


def locator_digest(locator: str) -> str:
    """The sha256 for a reject without payload bytes (a link not followed, a message left
    on the server): the digest of its locator, so it is recorded once."""
    return hashlib.sha256(locator.encode("utf-8")).hexdigest()


def record_reject(
    conn: psycopg.Connection,
    *,
    source: str,
    source_kind: str,
    locator: str,
    reason: str,
    payload: bytes | None,
    run_id: str | None = None,
    payload_path: Path | None = None,
    sha256: str | None = None,
    size_bytes: int | None = None,
) -> Reject:
    """Store one reject (in the caller's transaction); returns what was recorded.

    ``payload`` is the raw input as bytes; for input too large to read into memory pass
    ``payload_path`` instead (it is streamed into the content store). With neither, the
    reject has no payload and ``sha256`` defaults to the digest of the locator.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown reject source {source!r}; expected one of {SOURCES}")
    reason = reason if len(reason) <= MAX_REASON_CHARS else reason[: MAX_REASON_CHARS - 3] + "..."
    # Both come from the input (a name, a parser's message): make them storable as text.
    locator, reason = _storable(locator), _storable(reason)
    inline: bytes | None = None
    in_store = False
    if payload_path is not None:
        if sha256 is None:  # hash while copying: one pass over the file
            stored = store_file_range(store.rejects_root(), payload_path, 0, _size(payload_path))
            digest, size = stored.sha256, stored.size
        else:
            digest = sha256
            store.put_file(store.rejects_root(), payload_path, digest)
            size = size_bytes if size_bytes is not None else payload_path.stat().st_size
        in_store = True
    elif payload is not None:
        digest = sha256 or hashlib.sha256(payload).hexdigest()
        size = len(payload)
        if size > INLINE_MAX_BYTES:
            store.put_bytes(store.rejects_root(), payload, digest)
            in_store = True
        else:
            inline = bytes(payload)
    else:
        digest = sha256 or locator_digest(locator)
        size = size_bytes
    assert inline is None or len(inline) <= INLINE_MAX_BYTES  # the bytea cap, by construction
    conn.execute(
        _INSERT,
        (source, source_kind, locator, reason, digest, inline, in_store, size, run_id),
    )
    log.info("rejected %s %s: %s", source, locator, reason)
    return Reject(locator, reason)


def _storable(text: str) -> str:
    """``text`` fit for a PostgreSQL text column: NUL shown as U+FFFD, lone surrogates
    replaced."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", errors="replace").decode("utf-8")
    return text


def _size(path: Path) -> int:
    return path.stat().st_size


def resolve_rejects(
    conn: psycopg.Connection,
    source: str,
    locators: Iterable[str],
    *,
    source_kind: str | None = None,
) -> int:
    """Mark the open rejects of these locators (of ``source_kind``, when given) resolved: a
    later landing of them succeeded. Returns how many were marked."""
    wanted = list(dict.fromkeys(locators))
    if not wanted:
        return 0
    cur = conn.execute(
        "UPDATE raw.rejects SET resolved_at = now() "
        "WHERE source = %s AND locator = ANY(%s) AND resolved_at IS NULL "
        "AND (%s::text IS NULL OR source_kind = %s::text)",
        (source, wanted, source_kind, source_kind),
    )
    return cur.rowcount
