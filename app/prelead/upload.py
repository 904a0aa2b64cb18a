"""Prelead screening, uploading: a lead list stored atomically into the prelead drop folder
(the app's role cannot write ``raw``), and its path through the drop ledger to a batch."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from app.prelead.common import (
    DECIDERS,
    UPLOAD_STAGING,
    UPLOAD_SUFFIXES,
    UploadRefused,
    _exists,
)
from pebble.auth import User, require

# --- upload ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredUpload:
    """A lead list placed in the drop folder: the path the sensor sees and its batch name."""

    path: Path
    batch: str
    sha256: str
    size: int


def drop_folder() -> Path:
    from pebble.settings import get_settings

    return get_settings().prelead_drops


def _safe_stem(file_name: str) -> str:
    stem = Path(file_name.replace("\\", "/")).name
    stem = stem[: -len(Path(stem).suffix)] if Path(stem).suffix else stem
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-")
    return (stem or "upload")[:120]


def _batch_taken(conn: psycopg.Connection | None, batch: str) -> bool:
    if conn is None or not _exists(conn, "staging.stg_prelead__batches"):
        return False
    return (
        conn.execute(
            "SELECT 1 FROM staging.stg_prelead__batches WHERE batch = %s", (batch,)
        ).fetchone()
        is not None
    )


def _loaded_as(conn: psycopg.Connection | None, sha256: str) -> str | None:
    if conn is None or not _exists(conn, "staging.stg_prelead__batches"):
        return None
    row = conn.execute(
        "SELECT batch FROM staging.stg_prelead__batches WHERE file_sha256 = %s "
        "ORDER BY loaded_at LIMIT 1",
        (sha256,),
    ).fetchone()
    return row[0] if row else None


def store_upload(
    data: bytes,
    file_name: str,
    user: User | None,
    *,
    conn: psycopg.Connection | None = None,
    folder: Path | None = None,
) -> StoredUpload:
    """Put an uploaded lead list into the prelead drop folder, whole or not at all.

    The bytes are written and fsynced under a hidden staging folder of the drop folder,
    checked with the loader's own parser (a CSV or XLSX lead list with a company column
    and data rows, else :class:`UploadRefused` with the loader's reason), then hard-linked
    into the drop folder under a name no file and no batch holds yet (``leads.csv``,
    ``leads_2.csv``...): the sensor never sees a partial file, and an existing file is
    never replaced. With ``conn``, bytes already loaded as a batch are refused."""
    from ingest.prelead.parse import PreleadFileError, inspect_file, open_table

    require(user, *DECIDERS, action="upload lead lists")
    suffix = Path(file_name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise UploadRefused(f"{Path(file_name).name}: expected a .csv or .xlsx lead list")
    if not data:
        raise UploadRefused(f"{Path(file_name).name}: the file is empty")
    root = (folder or drop_folder()).resolve()
    root.mkdir(parents=True, exist_ok=True)
    stem = _safe_stem(file_name)
    staging = root / UPLOAD_STAGING / uuid.uuid4().hex
    staging.mkdir(parents=True)
    temp = staging / f"{stem}{suffix}"
    try:
        with open(temp, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            source = inspect_file(temp)
            table = open_table(source)
            next(iter(table.rows), None)
        except PreleadFileError as exc:
            raise UploadRefused(str(exc)) from None
        if (earlier := _loaded_as(conn, source.sha256)) is not None:
            raise UploadRefused(f"this file is already loaded as batch {earlier}")
        for n in range(1, 1000):
            batch = stem if n == 1 else f"{stem}_{n}"
            target = root / f"{batch}{suffix}"
            if _batch_taken(conn, batch) or any(
                (root / f"{batch}{s}").exists() for s in UPLOAD_SUFFIXES
            ):
                continue
            try:
                os.link(temp, target)  # fails if the name was taken meanwhile: never replaces
            except FileExistsError:
                continue
            _fsync_dir(root)
            return StoredUpload(target, batch, source.sha256, source.size)
        raise UploadRefused(f"no free file name for {stem}{suffix} in the drop folder")
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclass(frozen=True)
class UploadStatus:
    """Where an uploaded file is: queued (the sensor has not taken it yet), landing, landed
    (with the batch's counts), refused (with the reason) or failed (offered again)."""

    state: str
    message: str
    counts: dict[str, int] = field(default_factory=dict)
    in_queue: bool = False

    @property
    def done(self) -> bool:
        return self.state in ("landed", "refused")


def upload_status(conn: psycopg.Connection, path: Path | str, batch: str) -> UploadStatus:
    """Follow an uploaded file through the drop ledger (``ops.drop_files``) to its batch
    (``staging.stg_prelead__batches``) or its refusal (``staging.stg_ingest__rejects``)."""
    path = str(path)
    ledger = conn.execute(
        "SELECT outcome, reason FROM ops.drop_files WHERE source = 'prelead' AND path = %s "
        "ORDER BY first_seen DESC LIMIT 1",
        (path,),
    ).fetchone()
    batch_row = None
    if _exists(conn, "staging.stg_prelead__batches"):
        with conn.cursor(row_factory=dict_row) as cur:
            batch_row = cur.execute(
                "SELECT row_count AS rows, valid_count AS valid, invalid_count AS invalid, "
                "duplicate_count AS duplicates FROM staging.stg_prelead__batches "
                "WHERE batch = %s",
                (batch,),
            ).fetchone()
    if batch_row is not None:
        in_queue = _exists(conn, "marts.prelead_queue") and (
            conn.execute(
                "SELECT 1 FROM marts.prelead_queue WHERE batch = %s LIMIT 1", (batch,)
            ).fetchone()
            is not None
        )
        counts = {k: int(v) for k, v in batch_row.items()}
        message = (
            f"landed as batch {batch}: rows {counts['rows']}, valid {counts['valid']}, "
            f"invalid {counts['invalid']}, duplicates {counts['duplicates']}"
        )
        if not in_queue:
            message += "; the queue shows it after the models are rebuilt"
        return UploadStatus("landed", message, counts, in_queue)
    if ledger is None:
        return UploadStatus(
            "queued", "waiting for the prelead sensor (a file is taken once it has settled)"
        )
    outcome, reason = ledger
    if outcome == "running":
        return UploadStatus("landing", "the loader is validating and landing the rows")
    if outcome == "refused":
        return UploadStatus("refused", f"refused: {reason or 'no reason given'}")
    if outcome == "failed":
        return UploadStatus(
            "failed", f"the landing failed and will be retried: {reason or 'unknown error'}"
        )
    if _exists(conn, "staging.stg_ingest__rejects"):
        reject = conn.execute(
            "SELECT reason FROM staging.stg_ingest__rejects WHERE source = 'prelead' "
            "AND locator = %s AND NOT is_resolved ORDER BY rejected_at DESC LIMIT 1",
            (path,),
        ).fetchone()
        if reject is not None:
            return UploadStatus("refused", f"refused by the loader: {reject[0]}")
    return UploadStatus("landing", "handled; waiting for the batch to appear")
