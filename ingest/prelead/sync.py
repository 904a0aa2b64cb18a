"""Prelead landing runs: every lead list in a folder, one batch per file, as one :func:`sync`.

A file becomes the batch named after it (``batch_001.csv`` -> ``batch_001``), so a re-run
lands nothing new. A file that cannot be loaded as a lead list (unreadable, not CSV/XLSX, no
company column, a batch name already bound to other bytes) does not stop the others: it
goes to ``raw.rejects`` (source ``prelead``, kind ``csv``/``xlsx``, the path as locator,
the file's bytes as payload, in the content store when large) with the reason. When the
same path later loads, its open rejects are marked resolved. Symbolic links are never
followed: they are rejected too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

import psycopg

from ingest.common.rejects import INLINE_MAX_BYTES, record_reject, resolve_rejects
from ingest.common.report import LandReport
from ingest.prelead.land import BatchConflictError, BatchNameError, LoadResult, load_file
from ingest.prelead.parse import PreleadFileError

log = logging.getLogger(__name__)

SOURCE = "prelead"
#: The raw tables a prelead landing writes (``raw`` schema).
TABLES = ("prelead_batches", "prelead_rows", "rejects")
#: File types a folder load picks up.
LEAD_LIST_SUFFIXES = (".csv", ".xlsx")
LINK_REFUSED = "symbolic link not followed"


def sync(
    conn: psycopg.Connection,
    paths: Iterable[Path] | None = None,
    *,
    run_id: str | None = None,
    workers: int | None = None,
) -> LandReport:
    """Land lead lists; a part per file, named after its batch.

    ``paths``: lead-list files and folders of them (each folder's ``.csv``/``.xlsx``
    files, not recursive, in name order); None means the prelead drop folder
    (``PEBBLE_PRELEAD_DROP_DIR``, created when missing). An empty folder gives a zero
    report. A part's ``seen`` is the file's data rows (``landed`` for a new batch,
    ``duplicates`` for one loaded before), or 1 for a file that was rejected;
    ``extra`` holds the batch's counts as the CLI prints them.
    """
    if paths is None:
        from pebble.settings import get_settings

        drop = get_settings().prelead_drops
        drop.mkdir(parents=True, exist_ok=True)
        paths = [drop]
    report = LandReport(SOURCE, tables=TABLES)
    for path in lead_lists(Path(p) for p in paths):
        part = _land_one(conn, path, run_id, workers)
        name = path.stem if path.stem not in report.parts else str(path)
        report.add(part, name)
    return report


def lead_lists(paths: Iterable[Path]) -> Iterator[Path]:
    """The files to land: each file given, and the lead lists of each folder given."""
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            yield from sorted(
                p
                for p in path.iterdir()
                if p.suffix.lower() in LEAD_LIST_SUFFIXES and (p.is_symlink() or p.is_file())
            )
        else:
            yield path


def _land_one(
    conn: psycopg.Connection, path: Path, run_id: str | None, workers: int | None
) -> LandReport:
    part = LandReport(SOURCE, tables=TABLES)
    try:
        if path.is_symlink():
            raise PreleadFileError(f"{path.name}: {LINK_REFUSED}")
        result = load_file(path, path.stem, conn, workers=workers)
    except (PreleadFileError, BatchConflictError, BatchNameError) as exc:
        _reject(conn, path, str(exc), part, run_id)
        return part
    _count(part, result)
    with conn.transaction():
        resolve_rejects(conn, SOURCE, [str(path)])
    return part


def _count(part: LandReport, result: LoadResult) -> None:
    part.seen = result.rows
    if result.already_loaded:
        part.duplicates = result.rows
    else:
        part.landed = result.rows
    part.extra = {**result.summary(), "already_loaded": result.already_loaded}


def _reject(
    conn: psycopg.Connection, path: Path, reason: str, part: LandReport, run_id: str | None
) -> None:
    kind = "xlsx" if path.suffix.lower() in (".xlsx", ".xlsm") else "csv"
    payload: bytes | None = None
    payload_path: Path | None = None
    if not path.is_symlink() and path.is_file():
        try:
            size = path.stat().st_size
            if size > INLINE_MAX_BYTES:
                payload_path = path  # streamed into the content store, never read whole
            else:
                payload = path.read_bytes()
        except OSError:
            payload = None

    def record(payload: bytes | None, payload_path: Path | None):  # noqa: ANN202
        with conn.transaction():
            return record_reject(
                conn,
                source=SOURCE,
                source_kind=kind,
                locator=str(path),
                reason=reason,
                payload=payload,
                payload_path=payload_path,
                run_id=run_id,
            )

    try:
        recorded = record(payload, payload_path)
    except OSError:  # the file cannot be copied either: the reject keeps the reason only
        recorded = record(None, None)
    log.warning("prelead %s rejected: %s", path.name, reason)
    part.seen = part.rejected = 1
    part.rejects.append(recorded.as_dict())
    part.extra = {"file": path.name, "reason": reason}
