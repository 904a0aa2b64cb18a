"""Content-addressed file store: ``<root>/<aa>/<sha256>``.

Mail attachments, and rejected payloads too large for the database (``raw.rejects`` rows
with ``payload_in_store``), are kept once per content hash. A sender's file name never reaches the file system: the path is built from
the hex digest alone, so ``../../etc/x.pdf`` is just a display string in the database.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

_HEX64 = re.compile(r"[0-9a-f]{64}")
#: Write failures that mean "no room": the disk is full or the user's quota is used up.
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}


class StoreFull(Exception):
    """The content store's disk is full (or over quota).

    Raised instead of the bare ``OSError`` so a landing fails with a code and a next step:
    the batch being written is not landed at all (its rows commit only after every blob is
    on disk), batches before it stay, and running the load again once there is room lands
    the rest exactly once. Picklable, so it crosses from a parser process intact.
    """

    code = "ATTACHMENT_STORE_FULL"

    def __init__(self, root: str, detail: str) -> None:
        super().__init__(root, detail)
        self.root = root
        self.detail = detail

    def __str__(self) -> str:
        return (
            f"no space left in the content store {self.root} ({self.detail}); the batch "
            "being landed was not kept. Next: free space there (or move PEBBLE_HOME to a "
            "larger disk), then run the load again: what landed stays, the rest lands once"
        )


def _no_space(root: Path, exc: OSError) -> StoreFull | None:
    if exc.errno in _NO_SPACE:
        return StoreFull(str(root), exc.strerror or str(exc))
    return None


def attachments_root() -> Path:
    """``$PEBBLE_HOME/attachments``."""
    from pebble.settings import get_settings

    return get_settings().home / "attachments"


def rejects_root() -> Path:
    """``$PEBBLE_HOME/quarantine``: rejected payloads too large to keep in the database.

    (The folder keeps the name it had before ``raw.rejects`` replaced ``raw.quarantine``,
    so the payloads of rows moved over by the migration are still found.)"""
    from pebble.settings import get_settings

    return get_settings().home / "quarantine"


def blob_path(root: Path, sha256: str) -> Path:
    """Where the blob with this digest lives; rejects anything but a SHA-256 hex digest."""
    if not _HEX64.fullmatch(sha256):
        raise ValueError("not a SHA-256 hex digest")
    return root / sha256[:2] / sha256


def put_bytes(root: Path, data: bytes, sha256: str | None = None) -> tuple[str, Path]:
    """Store ``data`` once under its digest (atomic write; existing blobs are kept)."""
    digest = sha256 or hashlib.sha256(data).hexdigest()
    path = blob_path(root, digest)
    if path.exists() and path.stat().st_size == len(data):
        return digest, path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=path.parent)
    except OSError as exc:
        raise (_no_space(root, exc) or exc) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise (_no_space(root, exc) or exc) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest, path


def file_sha256(path: Path) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def put_file(root: Path, source: Path, sha256: str) -> Path:
    """Copy a file into the store under its (already computed) digest, streaming."""
    path = blob_path(root, sha256)
    if path.exists():
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=path.parent)
    except OSError as exc:
        raise (_no_space(root, exc) or exc) from None
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            shutil.copyfileobj(src, out, 1 << 20)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise (_no_space(root, exc) or exc) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
