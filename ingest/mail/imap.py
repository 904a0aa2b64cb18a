"""Incremental IMAP pull (stdlib ``imaplib``): new messages by UID, per account and folder.

The cursor (UIDVALIDITY and the highest UID landed) lives in ``raw.ingest_cursors`` and is
written in the same transaction as each batch of rows, so a failed run never skips mail.
When the server reports a new UIDVALIDITY the old UIDs mean nothing any more: the folder
is scanned again from the start, and the content-hash dedup keeps that harmless.

Folders are opened read-only (EXAMINE) and bodies fetched with ``BODY.PEEK[]``, so
pulling never marks mail as read in the users' mail clients.
"""

from __future__ import annotations

import imaplib
import json
import logging
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg

from ingest.common.cursors import get_cursor, set_cursor
from ingest.mail.land import LoadSummary, ensure_tables, known_mailboxes, land_batch
from ingest.mail.settings import MailSettings
from ingest.mail.sources import RawMessage, mailbox_name

log = logging.getLogger(__name__)

CURSOR_SOURCE = "mail.imap"
#: Upper bound on raw bytes requested in one FETCH round trip.
FETCH_BYTES = 32 * 1024 * 1024
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")


class ImapError(Exception):
    """The IMAP server could not be reached, refused the login or answered an error."""


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


def quote_folder(name: str) -> str:
    """A folder name as an IMAP quoted string (names may hold spaces and quotes)."""
    if not name.isascii():
        name = encode_modified_utf7(name)
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def encode_modified_utf7(name: str) -> str:
    """RFC 3501 modified UTF-7 for mailbox names with non-ASCII characters."""
    import base64

    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append(
                "&" + base64.b64encode(data).decode("ascii").rstrip("=").replace("/", ",") + "-"
            )
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


def connect(settings: MailSettings) -> imaplib.IMAP4:
    """An authenticated IMAP connection (implicit TLS, STARTTLS or plain, per settings)."""
    if not settings.imap_configured:
        raise ImapError(
            "IMAP is not configured (MAIL_IMAP_HOST, MAIL_IMAP_USER, MAIL_IMAP_PASSWORD)"
        )
    assert settings.imap_host and settings.imap_user and settings.imap_password
    context = ssl.create_default_context()
    if not settings.imap_verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    where = f"{settings.imap_host}:{settings.port}"
    try:
        if settings.imap_ssl:
            client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                settings.imap_host,
                settings.port,
                ssl_context=context,
                timeout=settings.imap_timeout_s,
            )
        else:
            client = imaplib.IMAP4(
                settings.imap_host, settings.port, timeout=settings.imap_timeout_s
            )
            if settings.imap_starttls:
                client.starttls(ssl_context=context)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise ImapError(f"cannot connect to IMAP server {where}: {exc}") from None
    try:
        client.login(settings.imap_user, settings.imap_password.get_secret_value())
    except (OSError, imaplib.IMAP4.error) as exc:
        _logout(client)
        # The server's answer, never the password.
        raise ImapError(f"IMAP login to {where} as {settings.imap_user} failed: {exc}") from None
    return client


def _logout(client: imaplib.IMAP4) -> None:
    try:
        client.logout()
    except (OSError, imaplib.IMAP4.error):
        pass


def _check(typ: str, data: list, what: str) -> list:
    if typ != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise ImapError(f"{what} failed: {detail}")
    return data


def _select(client: imaplib.IMAP4, folder: str) -> int:
    """EXAMINE the folder and return its UIDVALIDITY."""
    typ, data = client.select(quote_folder(folder), readonly=True)
    _check(typ, data, f"EXAMINE {folder}")
    _, values = client.response("UIDVALIDITY")
    for value in values or []:
        if value:
            return int(value)
    typ, data = client.status(quote_folder(folder), "(UIDVALIDITY)")
    match = re.search(rb"UIDVALIDITY (\d+)", b" ".join(d for d in data if isinstance(d, bytes)))
    if not match:
        raise ImapError(f"server did not report UIDVALIDITY for {folder}")
    return int(match.group(1))


def _new_uids(client: imaplib.IMAP4, after: int) -> list[int]:
    typ, data = client.uid("SEARCH", None, f"UID {after + 1}:*")
    _check(typ, data, "UID SEARCH")
    uids = {int(tok) for chunk in data if chunk for tok in chunk.split()}
    # "n:*" always matches the highest UID even when it is below n.
    return sorted(uid for uid in uids if uid > after)


def _sizes(client: imaplib.IMAP4, uids: list[int]) -> dict[int, int]:
    sizes: dict[int, int] = {}
    for start in range(0, len(uids), 500):
        chunk = uids[start : start + 500]
        typ, data = client.uid("FETCH", ",".join(map(str, chunk)), "(UID RFC822.SIZE)")
        _check(typ, data, "UID FETCH RFC822.SIZE")
        for line in data:
            if isinstance(line, tuple):
                line = line[0]
            if not isinstance(line, bytes):
                continue
            uid, size = _UID.search(line), _SIZE.search(line)
            if uid and size:
                sizes[int(uid.group(1))] = int(size.group(1))
    return sizes


def _fetch(client: imaplib.IMAP4, uids: list[int]) -> dict[int, bytes]:
    typ, data = client.uid("FETCH", ",".join(map(str, uids)), "(UID BODY.PEEK[])")
    _check(typ, data, "UID FETCH BODY.PEEK[]")
    out: dict[int, bytes] = {}
    for item in data:
        if isinstance(item, tuple) and len(item) >= 2:
            match = _UID.search(item[0])
            if match:
                out[int(match.group(1))] = item[1]
    return out


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


def cursor_key(settings: MailSettings, folder: str) -> str:
    """Cursor key of one (account, folder)."""
    return f"{settings.imap_user}@{settings.imap_host}:{settings.port}/{folder}"


def pull_folder(
    conn: psycopg.Connection,
    client: imaplib.IMAP4,
    settings: MailSettings,
    folder: str,
    *,
    mailbox: str | None = None,
) -> LoadSummary:
    """Land the messages of ``folder`` newer than its cursor; advance the cursor per batch."""
    key = cursor_key(settings, folder)
    uidvalidity = _select(client, folder)
    cursor = FolderCursor.load(get_cursor(conn, CURSOR_SOURCE, key))
    if cursor is not None and cursor.uidvalidity != uidvalidity:
        log.warning("UIDVALIDITY of %s changed: scanning the folder again", folder)
        cursor = None
    last_uid = cursor.last_uid if cursor else 0
    uids = _new_uids(client, last_uid)
    summary = LoadSummary()
    if not uids:
        if cursor is None:
            with conn.transaction():
                set_cursor(conn, CURSOR_SOURCE, key, FolderCursor(uidvalidity, 0).dump())
        return summary
    sizes = _sizes(client, uids)
    box = mailbox_name(mailbox) if mailbox else None
    known = known_mailboxes(conn)
    limit = settings.max_message_bytes
    for batch in _plan_batches(uids, sizes, settings.imap_batch_size, FETCH_BYTES):
        wanted = [uid for uid in batch if sizes.get(uid, 0) <= limit]
        bodies = _fetch(client, wanted) if wanted else {}
        items: list[RawMessage] = []
        for uid in batch:
            source = f"imap://{settings.imap_host}/{folder};UIDVALIDITY={uidvalidity};UID={uid}"
            size = sizes.get(uid, 0)
            if size > limit:
                # Left on the server (never fetched): the quarantine row says where it is.
                items.append(
                    RawMessage(
                        "imap",
                        source,
                        box,
                        None,
                        error=f"too large: {size} bytes > limit {limit}",
                        sha256=_source_digest(source),
                        size_bytes=size,
                    )
                )
            elif uid in bodies:
                items.append(RawMessage("imap", source, box, bodies[uid]))
            # A UID that vanished between SEARCH and FETCH was expunged: nothing to land.
        with conn.transaction():
            result = land_batch(conn, items, max_bytes=limit, known=known)
            set_cursor(conn, CURSOR_SOURCE, key, FolderCursor(uidvalidity, max(batch)).dump())
        summary.add(result)
    return summary


def _source_digest(source: str) -> str:
    import hashlib

    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def pull(
    conn: psycopg.Connection,
    settings: MailSettings | None = None,
    *,
    folders: list[str] | None = None,
    mailbox: str | None = None,
) -> LoadSummary:
    """Pull every configured folder once; returns the combined summary."""
    settings = settings or MailSettings()
    ensure_tables(conn)
    client = connect(settings)
    summary = LoadSummary()
    try:
        for folder in folders or settings.imap_folders:
            summary.add(
                pull_folder(
                    conn, client, settings, folder, mailbox=mailbox or settings.imap_mailbox
                )
            )
    except imaplib.IMAP4.abort as exc:
        raise ImapError(f"IMAP connection lost: {exc}") from None
    except imaplib.IMAP4.error as exc:
        raise ImapError(f"IMAP error: {exc}") from None
    finally:
        _logout(client)
    return summary
