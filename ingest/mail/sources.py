"""Where raw messages come from on disk: .eml files, directories, mbox files, Maildirs.

Each source yields :class:`RawMessage` items: the raw bytes plus where they came from and
which shared mailbox they belong to (when the layout says so). A file that cannot be read
still yields an item (with ``error`` set) so it is accounted for, never silently skipped.
"""

from __future__ import annotations

import hashlib
import mailbox as stdlib_mailbox
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.mail.parse import DEFAULT_MAX_BYTES

#: Maildir sub-folders that hold delivered mail; ``tmp`` holds mail still being written.
MAILDIR_DELIVERED = ("new", "cur")
_MBOXRD_QUOTED = re.compile(rb"^>(>*From )", re.MULTILINE)
_MAILBOX_NAME = re.compile(r"[^a-z0-9_.-]+")


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
    #: For inputs too large to hold in memory: the file to copy into the quarantine store.
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
    source = str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return RawMessage(
                kind,
                source,
                mailbox,
                None,
                error=f"too large: {size} bytes > limit {max_bytes}",
                sha256=_file_sha256(path),
                size_bytes=size,
                oversize_path=path,
            )
        raw = path.read_bytes()
    except OSError as exc:
        return RawMessage(kind, source, mailbox, None, error=f"unreadable: {exc.strerror or exc}")
    return RawMessage(kind, source, mailbox, raw)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def iter_maildir(path: Path, mailbox: str | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES):
    """Messages of one Maildir (``new`` then ``cur``, file names sorted); ``tmp`` is skipped."""
    box = mailbox or mailbox_name(path.name)
    for sub in MAILDIR_DELIVERED:
        folder = path / sub
        try:
            names = sorted(entry.name for entry in folder.iterdir() if entry.is_file())
        except OSError:
            continue
        for name in names:
            if name.startswith("."):
                continue  # editor/OS litter, never a delivered message
            yield _read_file(folder / name, "maildir", box, max_bytes)


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
                    data = mbox.get_bytes(key)
                    yield RawMessage(
                        "mbox",
                        source,
                        box,
                        data,
                        error=f"too large: {len(data)} bytes > limit {max_bytes}",
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
        for child in sorted(path.iterdir()):
            if child.is_dir() and child.name.startswith(".") and is_maildir(child):
                yield from iter_maildir(child, mailbox, max_bytes=max_bytes)
        return
    try:
        children = sorted(path.iterdir())
    except OSError as exc:
        yield RawMessage("eml", str(path), mailbox, None, error=f"unreadable: {exc.strerror}")
        return
    for child in children:
        if child.is_symlink():
            continue  # a drop folder must not lead the loader elsewhere on disk
        yield from iter_path(child, mailbox=mailbox, max_bytes=max_bytes)


def iter_path(
    path: Path, *, mailbox: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> Iterator[RawMessage]:
    """Every message under ``path``: a file (.eml or mbox, told apart by content) or a
    directory (walked recursively; Maildirs recognised by their cur/new folders)."""
    if path.is_dir():
        yield from _iter_directory(path, mailbox, max_bytes)
    elif path.is_file():
        if is_mbox(path):
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
