"""Load a lead list into ``raw.prelead_batches`` and ``raw.prelead_rows`` with COPY.

A batch is loaded in one transaction: either every row and the batch record land, or nothing
does. A batch name is bound to the file's SHA-256: loading the same file under the same name
again changes nothing and reports the stored counts; a different file under a taken name is
refused. The batch is new when its rows are written (checked under a per-batch lock), so
they are COPYed straight into ``raw.prelead_rows`` (:func:`ingest.common.staging.copy_rows`,
rows pre-rendered in COPY text by the validators) rather than staged and merged. The tables
come from the warehouse migrations.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from ingest.common.staging import copy_rows
from ingest.prelead.parallel import validated_in_parallel, validated_in_process, worker_count
from ingest.prelead.parse import PreleadFileError, Table, inspect_file, open_table
from ingest.prelead.validate import COLUMNS, DuplicateIndex

log = logging.getLogger(__name__)

MAX_BATCH_NAME = 200


class BatchNameError(ValueError):
    """The batch name cannot be used."""


class BatchConflictError(ValueError):
    """The batch name is already taken by a different file."""


@dataclass(frozen=True)
class LoadResult:
    """What a load stored (or, for a repeat load, what was stored before)."""

    batch: str
    rows: int
    valid: int
    invalid: int
    duplicates_in_batch: int
    formula_neutralised: int
    already_loaded: bool

    def summary(self) -> dict[str, object]:
        """The counts the CLI prints: batch, rows, valid, invalid, duplicates_in_batch."""
        return {
            "batch": self.batch,
            "rows": self.rows,
            "valid": self.valid,
            "invalid": self.invalid,
            "duplicates_in_batch": self.duplicates_in_batch,
        }


def check_batch_name(batch: str) -> str:
    """The batch name, stripped; raises BatchNameError if empty, too long or with control chars."""
    name = batch.strip()
    if not name:
        raise BatchNameError("batch name is empty")
    if len(name) > MAX_BATCH_NAME:
        raise BatchNameError(f"batch name is longer than {MAX_BATCH_NAME} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise BatchNameError("batch name contains control characters")
    return name


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk load.

    Validation allocates millions of short-lived lists and tuples, none in reference cycles;
    with the duplicate index growing, every collection walks a large heap, and collecting
    halves the throughput. Reference counting still frees everything as it goes.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_file(
    path: Path | str,
    batch: str,
    conn: psycopg.Connection | None = None,
    *,
    workers: int | None = None,
) -> LoadResult:
    """Validate a CSV/XLSX lead list and store it as ``batch``.

    Raises :class:`PreleadFileError` for files that cannot be read as a lead list and
    :class:`BatchConflictError` when ``batch`` already holds a different file. ``workers``
    sets the number of validation processes (default: one per CPU for large CSV files).
    """
    batch = check_batch_name(batch)
    source = inspect_file(Path(path))
    table = open_table(source)
    if conn is None:
        from pebble.db import connect

        with connect() as own:
            return _load(own, table, batch, workers)
    return _load(conn, table, batch, workers)


def _load(conn: psycopg.Connection, table: Table, batch: str, workers: int | None) -> LoadResult:
    source = table.source
    with conn.transaction():
        # One loader per batch name at a time; a second waits and then sees the first's result.
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", ("prelead:" + batch,))
        existing = conn.execute(
            "SELECT file_sha256, rows, valid, invalid, duplicates_in_batch, formula_neutralised"
            " FROM raw.prelead_batches WHERE batch = %s",
            (batch,),
        ).fetchone()
        if existing is not None:
            sha, rows, valid, invalid, duplicates, neutralised = existing
            if sha != source.sha256:
                raise BatchConflictError(
                    f"batch {batch!r} already holds a different file "
                    f"(sha256 {sha[:12]}..., this file {source.sha256[:12]}...); "
                    "choose a new batch name"
                )
            return LoadResult(batch, rows, valid, invalid, duplicates, neutralised, True)

        counts = _copy_rows(conn, table, batch, workers)
        conn.execute(
            """
            INSERT INTO raw.prelead_batches (batch, file_name, file_sha256, file_kind, encoding,
                header_row, rows, valid, invalid, duplicates_in_batch, formula_neutralised)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            """,
            (
                batch,
                source.path.name,
                source.sha256,
                source.kind,
                source.encoding,
                table.header_row,
                counts.rows,
                counts.valid,
                counts.rows - counts.valid,
                counts.duplicates,
                counts.neutralised,
            ),
        )
    log.info("prelead batch %s loaded: %d rows", batch, counts.rows)
    return LoadResult(
        batch,
        counts.rows,
        counts.valid,
        counts.rows - counts.valid,
        counts.duplicates,
        counts.neutralised,
        False,
    )


@dataclass
class _Counts:
    rows: int = 0
    valid: int = 0
    duplicates: int = 0
    neutralised: int = 0


def _copy_rows(conn: psycopg.Connection, table: Table, batch: str, workers: int | None) -> _Counts:
    counts = _Counts()
    duplicates = DuplicateIndex()
    n_workers = worker_count(table, workers)
    chunks = (
        validated_in_parallel(table, batch, n_workers)
        if n_workers > 1
        else validated_in_process(table, batch)
    )

    def copy_text() -> Iterator[str]:
        for chunk in chunks:
            yield duplicates.copy_text(chunk)
            counts.rows += len(chunk.row_nos)
            counts.valid += chunk.valid
            counts.neutralised += chunk.formula_neutralised

    with gc_paused():
        copy_rows(conn, "raw.prelead_rows", COLUMNS, copy_text())
    counts.duplicates = duplicates.duplicates
    return counts


__all__ = [
    "BatchConflictError",
    "BatchNameError",
    "LoadResult",
    "PreleadFileError",
    "load_file",
]
