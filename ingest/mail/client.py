"""Where raw messages come from: files on disk (.eml, Outlook .msg, mbox, Maildir, folders of
them) and an IMAP server. A .msg is read as bytes like an .eml; the parser converts it
(:mod:`ingest.mail.msg`).

Each disk source yields :class:`RawMessage` items: the raw bytes plus where they came from
and which shared mailbox they belong to (when the layout says so). A file that cannot be
read still yields an item (with ``error`` set) so it is accounted for, never silently
skipped; so do folders that cannot be listed and symbolic links, which are never followed
(a drop folder must not lead the loader elsewhere on disk).

The IMAP half (stdlib ``imaplib``) connects and logs in (implicit TLS, STARTTLS or plain),
opens folders read-only (EXAMINE) and fetches bodies with ``BODY.PEEK[]``, so pulling never
marks mail as read in the users' mail clients. The incremental pull with its UID cursors
is :mod:`ingest.mail.sync`.
"""

from __future__ import annotations

import errno
import imaplib
import logging
import mailbox as stdlib_mailbox
import os
import re
import ssl
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.common import store
from ingest.common.limits import store_file_range
from ingest.common.store import file_sha256
from ingest.mail.parse import DEFAULT_MAX_BYTES

if TYPE_CHECKING:  # the parser processes import this module: keep pydantic out of them
    from ingest.mail.settings import MailSettings

#: Maildir sub-folders that hold delivered mail; ``tmp`` holds mail still being written.
MAILDIR_DELIVERED = ("new", "cur")
#: Upper bound on raw bytes requested in one FETCH round trip.
FETCH_BYTES = 32 * 1024 * 1024
_MBOXRD_QUOTED = re.compile(rb"^>(>*From )", re.MULTILINE)
_MAILBOX_NAME = re.compile(r"[^a-z0-9_.-]+")
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
LINK_REFUSED = "symbolic link not followed"
log = logging.getLogger(__name__)


@dataclass(slots=True)
class RawMessage:
    """One message as read from a source, before parsing.

    ``raw`` is None when the bytes could not (or should not) be read into memory; then
    ``error`` says why and ``sha256``/``size_bytes`` describe the input where known.
    """

    source_kind: str
    source: str
    mailbox: str | None
    raw: bytes | None
    error: str | None = None
    sha256: str | None = None
    size_bytes: int | None = None
    #: For inputs too large to hold in memory: the file to copy into the content store with its reject.
    oversize_path: Path | None = None


def mailbox_name(name: str) -> str | None:
    """A mailbox name from a folder or file name: lower-case, safe characters only."""
    cleaned = _MAILBOX_NAME.sub("-", name.strip().lower()).strip("-.")
    if cleaned.endswith(".mbox"):
        cleaned = cleaned[: -len(".mbox")]
    return cleaned or None


def is_maildir(path: Path) -> bool:
    """A Maildir is a directory holding ``cur`` and ``new`` sub-directories."""
    return (path / "cur").is_dir() and (path / "new").is_dir()


def is_mbox(path: Path) -> bool:
    """An mbox file starts with a ``From `` separator line."""
    try:
        with path.open("rb") as handle:
            head = handle.read(5)
    except OSError:
        return False
    return head == b"From "


def unquote_mboxrd(data: bytes) -> bytes:
    """Undo mbox ``>From `` quoting of body lines (mboxrd: remove one ``>``)."""
    if b">From " not in data:
        return data
    return _MBOXRD_QUOTED.sub(rb"\1", data)


def _read_file(path: Path, kind: str, mailbox: str | None, max_bytes: int) -> RawMessage:
    """The file's bytes, opened without following a link (one swapped in after the
    folder was listed is refused, not read)."""
    source = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return RawMessage(kind, source, mailbox, None, error=LINK_REFUSED)
        return RawMessage(kind, source, mailbox, None, error=f"unreadable: {exc.strerror or exc}")
    try:
        with os.fdopen(fd, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                return RawMessage(
                    kind,
                    source,
                    mailbox,
                    None,
                    error=f"too large: {size} bytes > limit {max_bytes}",
                    sha256=file_sha256(path),
                    size_bytes=size,
                    oversize_path=path,
                )
            raw = handle.read()
    except OSError as exc:
        return RawMessage(kind, source, mailbox, None, error=f"unreadable: {exc.strerror or exc}")
    return RawMessage(kind, source, mailbox, raw)


def iter_maildir(path: Path, mailbox: str | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES):
    """Messages of one Maildir (``new`` then ``cur``, file names sorted); ``tmp`` is skipped."""
    box = mailbox or mailbox_name(path.name)
    for sub in MAILDIR_DELIVERED:
        folder = path / sub
        if folder.is_symlink():
            yield RawMessage("maildir", str(folder), box, None, error=LINK_REFUSED)
            continue
        try:
            entries = sorted(folder.iterdir())
        except OSError as exc:
            yield RawMessage(
                "maildir",
                str(folder),
                box,
                None,
                error=f"unreadable Maildir folder: {exc.strerror or exc}",
            )
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue  # editor/OS litter, never a delivered message
            if entry.is_symlink():
                yield RawMessage("maildir", str(entry), box, None, error=LINK_REFUSED)
            elif entry.is_file():
                yield _read_file(entry, "maildir", box, max_bytes)


def iter_mbox(
    path: Path, mailbox: str | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> Iterator[RawMessage]:
    """Messages of one mbox file, in file order; source is ``<path>#<n>`` (0-based)."""
    box = mailbox
    if box is None and path.suffix.lower() in ("", ".mbox", ".mbx"):
        box = mailbox_name(path.stem)
    try:
        mbox = stdlib_mailbox.mbox(str(path), create=False)
        keys = list(mbox.iterkeys())
    except (OSError, stdlib_mailbox.Error) as exc:
        yield RawMessage("mbox", str(path), box, None, error=f"unreadable mbox: {exc}")
        return
    try:
        for index, key in enumerate(keys):
            source = f"{path}#{index}"
            try:
                start, stop = mbox._toc[key]  # noqa: SLF001 - size check before reading
                if stop - start > max_bytes:
                    # streamed into the quarantine store, never read whole into memory
                    stored = store_file_range(store.rejects_root(), path, start, stop)
                    yield RawMessage(
                        "mbox",
                        source,
                        box,
                        None,
                        error=f"too large: {stored.size} bytes > limit {max_bytes}",
                        sha256=stored.sha256,
                        size_bytes=stored.size,
                        oversize_path=stored.path,
                    )
                    continue
                data = mbox.get_bytes(key)
            except (OSError, KeyError, stdlib_mailbox.Error) as exc:
                yield RawMessage("mbox", source, box, None, error=f"unreadable: {exc}")
                continue
            yield RawMessage("mbox", source, box, unquote_mboxrd(data))
    finally:
        mbox.close()


def _iter_directory(path: Path, mailbox: str | None, max_bytes: int) -> Iterator[RawMessage]:
    if is_maildir(path):
        yield from iter_maildir(path, mailbox, max_bytes=max_bytes)
        # Maildir++ keeps sub-folders as dot-directories beside cur/new/tmp.
        try:
            children = sorted(path.iterdir())
        except OSError as exc:
            yield RawMessage(
                "maildir", str(path), mailbox, None, error=f"unreadable: {exc.strerror or exc}"
            )
            return
        for child in children:
            if not child.name.startswith("."):
                continue
            if child.is_symlink():
                yield RawMessage("maildir", str(child), mailbox, None, error=LINK_REFUSED)
            elif child.is_dir() and is_maildir(child):
                yield from iter_maildir(child, mailbox, max_bytes=max_bytes)
        return
    try:
        children = sorted(path.iterdir())
    except OSError as exc:
        yield RawMessage(
            "eml", str(path), mailbox, None, error=f"unreadable: {exc.strerror or exc}"
        )
        return
    for child in children:
        if child.is_symlink():
            # a drop folder must not lead the loader elsewhere on disk
            yield RawMessage("eml", str(child), mailbox, None, error=LINK_REFUSED)
            continue
        yield from iter_path(child, mailbox=mailbox, max_bytes=max_bytes)


def maildir_of(path: Path) -> Path | None:
    """The Maildir a message file belongs to (``<maildir>/new/<file>`` or ``cur/<file>``),
    or None for a loose file."""
    folder = path.parent
    if folder.name in MAILDIR_DELIVERED and is_maildir(folder.parent):
        return folder.parent
    return None


def iter_path(
    path: Path, *, mailbox: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> Iterator[RawMessage]:
    """Every message under ``path``: a file (.eml or mbox, told apart by content) or a
    directory (walked recursively; Maildirs recognised by their cur/new folders).

    A file inside a Maildir's ``new``/``cur`` is a Maildir message of that mailbox, as it
    is when the whole Maildir is loaded, so a message routes the same however it is
    handed over. A symbolic link is refused, never followed, also as ``path`` itself."""
    if path.is_symlink():
        yield RawMessage("eml", str(path), mailbox, None, error=LINK_REFUSED)
    elif path.is_dir():
        yield from _iter_directory(path, mailbox, max_bytes)
    elif path.is_file():
        if (maildir := maildir_of(path)) is not None:
            box = mailbox or mailbox_name(maildir.name)
            yield _read_file(path, "maildir", box, max_bytes)
        elif is_mbox(path):
            yield from iter_mbox(path, mailbox, max_bytes=max_bytes)
        else:
            yield _read_file(path, "eml", mailbox, max_bytes)
    else:
        yield RawMessage("eml", str(path), mailbox, None, error="not found")


def iter_paths(
    paths: Iterable[Path], *, mailbox: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> Iterator[RawMessage]:
    """:func:`iter_path` over several inputs, in order."""
    for path in paths:
        yield from iter_path(Path(path), mailbox=mailbox, max_bytes=max_bytes)


# --- IMAP ---------------------------------------------------------------------------------


class ImapError(Exception):
    """The IMAP server could not be reached, refused the login or answered an error."""

    code = "IMAP_ERROR"


class ImapConnectionLost(ImapError):
    """The connection broke during a pull (dropped, reset, timed out). Batches landed before
    it kept their UID cursor, so the next pull resumes after them: a retry is safe."""

    code = "IMAP_CONNECTION_LOST"
    retryable = True


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
            else:
                warn_cleartext(where, settings.imap_user)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise ImapError(f"cannot connect to IMAP server {where}: {exc}") from None
    try:
        client.login(settings.imap_user, settings.imap_password.get_secret_value())
    except (OSError, imaplib.IMAP4.error) as exc:
        logout(client)
        # The server's answer, never the password.
        raise ImapError(f"IMAP login to {where} as {settings.imap_user} failed: {exc}") from None
    return client


def warn_cleartext(where: str, user: str) -> None:
    """Say loudly that the login is about to cross the network unencrypted (the account
    and server are named; the password never is)."""
    log.warning(
        "IMAP login to %s as %s WITHOUT TLS: MAIL_IMAP_SSL and MAIL_IMAP_STARTTLS are both "
        "off, so the password and every message travel in clear text; turn one of them on "
        "unless the server is on this machine",
        where,
        user,
    )


def logout(client: imaplib.IMAP4) -> None:
    try:
        client.logout()
    except (OSError, imaplib.IMAP4.error):
        pass


def _check(typ: str, data: list, what: str) -> list:
    if typ != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise ImapError(f"{what} failed: {detail}")
    return data


def examine(client: imaplib.IMAP4, folder: str) -> int:
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


def new_uids(client: imaplib.IMAP4, after: int) -> list[int]:
    typ, data = client.uid("SEARCH", None, f"UID {after + 1}:*")
    _check(typ, data, "UID SEARCH")
    uids = {int(tok) for chunk in data if chunk for tok in chunk.split()}
    # "n:*" always matches the highest UID even when it is below n.
    return sorted(uid for uid in uids if uid > after)


def fetch_sizes(client: imaplib.IMAP4, uids: list[int]) -> dict[int, int]:
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


def fetch_bodies(client: imaplib.IMAP4, uids: list[int]) -> dict[int, bytes]:
    typ, data = client.uid("FETCH", ",".join(map(str, uids)), "(UID BODY.PEEK[])")
    _check(typ, data, "UID FETCH BODY.PEEK[]")
    out: dict[int, bytes] = {}
    for item in data:
        if isinstance(item, tuple) and len(item) >= 2:
            match = _UID.search(item[0])
            if match:
                out[int(match.group(1))] = item[1]
    return out
