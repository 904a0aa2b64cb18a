"""Load a lead list into ``raw.prelead_batches`` and ``raw.prelead_rows`` with COPY.

A batch is loaded in one transaction: either every row and the batch record land, or nothing
does. A batch name is bound to the file's SHA-256: loading the same file under the same name
again changes nothing and reports the stored counts; a different file under a taken name is
refused.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from ingest.prelead.parallel import validated_in_parallel, validated_in_process, worker_count
from ingest.prelead.reader import PreleadFileError, Table, inspect_file, open_table
from ingest.prelead.validate import COLUMNS, DuplicateIndex

log = logging.getLogger(__name__)

MAX_BATCH_NAME = 200

DDL = """
CREATE TABLE IF NOT EXISTS raw.prelead_batches (
    batch               text PRIMARY KEY,
    file_name           text NOT NULL,
    file_sha256         text NOT NULL,
    file_kind           text NOT NULL,
    encoding            text,
    header_row          integer NOT NULL,
    rows                integer NOT NULL,
    valid               integer NOT NULL,
    invalid             integer NOT NULL,
    duplicates_in_batch integer NOT NULL,
    formula_neutralised integer NOT NULL,
    loaded_at           timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS raw.prelead_rows (
    batch               text NOT NULL,
    row_no              integer NOT NULL,
    company_name        text,
    company_key         text,
    gstin               text,
    pan                 text,
    cin                 text,
    contact_person      text,
    email               text,
    email_normalised    text,
    phone               text,
    phone_e164          text,
    city                text,
    state               text,
    state_name          text,
    state_code          text,
    address             text,
    product_interest    text,
    source              text,
    extra               jsonb,
    is_valid            boolean NOT NULL,
    reason_codes        text[] NOT NULL,
    reasons             jsonb NOT NULL,
    duplicate_of        integer,
    duplicate_on        text[],
    formula_neutralised boolean NOT NULL,
    formula_originals   jsonb,
    PRIMARY KEY (batch, row_no)
);
COMMENT ON TABLE raw.prelead_rows IS
    'One row per data row of a lead list, invalid rows included; row_no is the spreadsheet row.';
"""

# Serialises table creation across concurrent loaders (CREATE TABLE IF NOT EXISTS can race).
_DDL_LOCK_KEY = 0x5052454C  # "PREL"


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


def ensure_tables(conn: psycopg.Connection) -> None:
    """Create the prelead tables if missing (idempotent; safe with concurrent loaders)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_DDL_LOCK_KEY,))
        conn.execute("CREATE SCHEMA IF NOT EXISTS raw")
        conn.execute(DDL)


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


#: File types a folder load picks up.
LEAD_LIST_SUFFIXES = (".csv", ".xlsx")


def load_folder(
    folder: Path | str, conn: psycopg.Connection | None = None
) -> list[LoadResult | PreleadFileError | BatchConflictError]:
    """Load every CSV/XLSX lead list in ``folder`` (not recursive), in name order.

    Each file becomes the batch named after the file (``batch_001.csv`` -> ``batch_001``), so
    re-running is idempotent. A file that cannot be loaded does not stop the others: its
    :class:`PreleadFileError` or :class:`BatchConflictError` takes its place in the list.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise PreleadFileError(f"{folder.name}: no such folder")
    files = sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in LEAD_LIST_SUFFIXES
    )
    results: list[LoadResult | PreleadFileError | BatchConflictError] = []
    for path in files:
        try:
            results.append(load_file(path, path.stem, conn))
        except (PreleadFileError, BatchConflictError) as exc:
            results.append(exc)
    return results


def _load(conn: psycopg.Connection, table: Table, batch: str, workers: int | None) -> LoadResult:
    ensure_tables(conn)
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
    statement = sql.SQL("COPY raw.prelead_rows ({}) FROM STDIN").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS)
    )
    n_workers = worker_count(table, workers)
    chunks = (
        validated_in_parallel(table, batch, n_workers)
        if n_workers > 1
        else validated_in_process(table, batch)
    )
    with gc_paused(), conn.cursor() as cursor, cursor.copy(statement) as copy:
        for chunk in chunks:
            copy.write(duplicates.copy_text(chunk))
            counts.rows += len(chunk.row_nos)
            counts.valid += chunk.valid
            counts.neutralised += chunk.formula_neutralised
    counts.duplicates = duplicates.duplicates
    return counts


__all__ = [
    "BatchConflictError",
    "BatchNameError",
    "LoadResult",
    "PreleadFileError",
    "ensure_tables",
    "load_file",
    "load_folder",
]
