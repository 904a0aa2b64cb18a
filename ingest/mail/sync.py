"""Mail landing runs: drop folders and the incremental IMAP pull, as one :func:`sync`.

The IMAP cursor (UIDVALIDITY and the highest UID landed) per account and folder lives in
``raw.ingest_cursors`` and is written in the same transaction as each batch of rows, so a
failed run never skips mail. When the server reports a new UIDVALIDITY the old UIDs mean
nothing any more: the folder is scanned again from the start, and the content-hash dedup
keeps that harmless. A UID the server listed but did not return in FETCH (expunged in
between) gets a reject record before the cursor moves past it.
"""

from __future__ import annotations

import imaplib
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from ingest.common.cursors import get_cursor, set_cursor
from ingest.common.rejects import locator_digest
from ingest.common.report import LandReport
from ingest.mail.client import (
    FETCH_BYTES,
    ImapConnectionLost,
    ImapError,
    RawMessage,
    connect,
    examine,
    fetch_bodies,
    fetch_sizes,
    logout,
    mailbox_name,
    new_uids,
)
from ingest.mail.land import known_mailboxes, land_batch, land_paths, new_report
from ingest.mail.settings import MailSettings

log = logging.getLogger(__name__)

CURSOR_SOURCE = "mail.imap"
MISSING_FROM_FETCH = "listed by UID SEARCH but missing from FETCH (expunged meanwhile?)"


def sync(
    conn: psycopg.Connection,
    paths: Iterable[Path] | None = None,
    *,
    mailbox: str | None = None,
    imap: bool = False,
    run_id: str | None = None,
    workers: int = 1,
    settings: MailSettings | None = None,
) -> LandReport:
    """Land mail from drop paths and/or IMAP; one report with a part per source.

    ``paths``: .eml files, mbox files, Maildirs and folders of them; None means the
    configured drop folder (``PEBBLE_MAIL_DROP_DIR``, created when missing), an empty list
    none. ``imap``: also pull every configured IMAP folder (``MAIL_IMAP_*``; an
    :class:`ImapError` when it is not configured or fails). An empty drop folder and a
    mailbox with nothing new give a zero report.
    """
    report = new_report()
    if paths is None:
        from pebble.settings import get_settings

        drop = get_settings().mail_drops
        drop.mkdir(parents=True, exist_ok=True)
        paths = [drop]
    paths = [Path(p) for p in paths]
    if paths:
        report.add(land_paths(conn, paths, mailbox=mailbox, workers=workers, run_id=run_id), "drop")
    if imap:
        pulled = pull(conn, settings, mailbox=mailbox, run_id=run_id)
        for folder, part in pulled.parts.items():
            report.add(part, f"imap:{folder}")
    return report


@dataclass(frozen=True, slots=True)
class FolderCursor:
    """Where the last pull of one folder stopped."""

    uidvalidity: int
    last_uid: int

    def dump(self) -> str:
        return json.dumps({"uidvalidity": self.uidvalidity, "last_uid": self.last_uid})

    @classmethod
    def load(cls, value: str | None) -> FolderCursor | None:
        if not value:
            return None
        try:
            data = json.loads(value)
            return cls(int(data["uidvalidity"]), int(data["last_uid"]))
        except (ValueError, KeyError, TypeError):
            return None


def cursor_key(settings: MailSettings, folder: str) -> str:
    """Cursor key of one (account, folder)."""
    return f"{settings.imap_user}@{settings.imap_host}:{settings.port}/{folder}"


def _plan_batches(
    uids: list[int], sizes: dict[int, int], max_count: int, max_bytes: int
) -> Iterator[list[int]]:
    batch: list[int] = []
    total = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if batch and (len(batch) >= max_count or total + size > max_bytes):
            yield batch
            batch, total = [], 0
        batch.append(uid)
        total += size
    if batch:
        yield batch


def pull_folder(
    conn: psycopg.Connection,
    client: imaplib.IMAP4,
    settings: MailSettings,
    folder: str,
    *,
    mailbox: str | None = None,
    run_id: str | None = None,
) -> LandReport:
    """Land the messages of ``folder`` newer than its cursor; advance the cursor per batch."""
    key = cursor_key(settings, folder)
    uidvalidity = examine(client, folder)
    stored = get_cursor(conn, CURSOR_SOURCE, key)
    cursor = FolderCursor.load(stored)
    if cursor is not None and cursor.uidvalidity != uidvalidity:
        log.warning("UIDVALIDITY of %s changed: scanning the folder again", folder)
        cursor = None
    last_uid = cursor.last_uid if cursor else 0
    uids = new_uids(client, last_uid)
    report = new_report(folder=folder)
    report.cursor_before = stored
    report.cursor_after = stored
    if not uids:
        if cursor is None:
            after = FolderCursor(uidvalidity, 0).dump()
            with conn.transaction():
                set_cursor(conn, CURSOR_SOURCE, key, after)
            report.cursor_after = after
        return report
    sizes = fetch_sizes(client, uids)
    box = mailbox_name(mailbox) if mailbox else None
    known = known_mailboxes(conn)
    limit = settings.max_message_bytes
    for batch in _plan_batches(uids, sizes, settings.imap_batch_size, FETCH_BYTES):
        wanted = [uid for uid in batch if sizes.get(uid, 0) <= limit]
        bodies = fetch_bodies(client, wanted) if wanted else {}
        items: list[RawMessage] = []
        for uid in batch:
            source = f"imap://{settings.imap_host}/{folder};UIDVALIDITY={uidvalidity};UID={uid}"
            size = sizes.get(uid, 0)
            if size > limit:
                # Left on the server (never fetched): the reject row says where it is.
                error = f"too large: {size} bytes > limit {limit}"
            elif uid in bodies:
                items.append(RawMessage("imap", source, box, bodies[uid]))
                continue
            else:
                error = MISSING_FROM_FETCH
            items.append(
                RawMessage(
                    "imap",
                    source,
                    box,
                    None,
                    error=error,
                    sha256=locator_digest(source),
                    size_bytes=size or None,
                )
            )
        after = FolderCursor(uidvalidity, max(batch)).dump()
        with conn.transaction():
            result = land_batch(conn, items, max_bytes=limit, known=known, run_id=run_id)
            set_cursor(conn, CURSOR_SOURCE, key, after)
        report.add(result)
        report.cursor_after = after
    return report


def pull(
    conn: psycopg.Connection,
    settings: MailSettings | None = None,
    *,
    folders: list[str] | None = None,
    mailbox: str | None = None,
    run_id: str | None = None,
) -> LandReport:
    """Pull every configured folder once; returns the combined report (a part per folder)."""
    settings = settings or MailSettings()
    client = connect(settings)
    report = new_report()
    try:
        for folder in folders or settings.imap_folders:
            part = pull_folder(
                conn,
                client,
                settings,
                folder,
                mailbox=mailbox or settings.imap_mailbox,
                run_id=run_id,
            )
            report.add(part, folder)
    except (imaplib.IMAP4.abort, ConnectionError, TimeoutError) as exc:
        # A reset or a timeout arrives as a bare OSError from the socket, not as imaplib's
        # abort: both mean the same, and both leave every landed batch with its cursor.
        raise ImapConnectionLost(
            f"IMAP connection to {settings.imap_host}:{settings.port} lost: {exc}. Next: "
            "check the server and the network, then pull again (`pebble mail imap-pull`): "
            "each batch landed with its UID cursor, so it resumes where it stopped, "
            "nothing twice"
        ) from None
    except imaplib.IMAP4.error as exc:
        raise ImapError(f"IMAP error: {exc}") from None
    finally:
        logout(client)
    return report
