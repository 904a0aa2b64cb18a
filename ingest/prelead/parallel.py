"""Validate a large lead list in several processes while the parent streams COPY.

The parent parses the CSV in file order and hands chunks of rows to worker processes; results
come back in order, column by column, so duplicate marking (which needs file order) and COPY stay in the parent.
Rows travel packed into one string per chunk (cells joined by the ASCII unit separator, rows by
the record separator), which costs a fraction of pickling lists of lists. Small files are
validated in-process: starting workers costs more than it saves.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
from collections.abc import Callable, Iterator

from ingest.prelead.headers import ColumnMap
from ingest.prelead.parse import Table
from ingest.prelead.validate import (
    ValidatedChunk,
    ValidatedRow,
    make_row_validator,
    validate_chunk,
)

#: Files smaller than this are validated in the loading process.
PARALLEL_MIN_BYTES = 8 << 20
CHUNK_ROWS = 5_000
_UNIT = "\x1f"
_RECORD = "\x1e"

_validate: Callable[[int, list[str | None]], ValidatedRow] | None = None

#: A chunk as sent to a worker: row numbers plus either the packed text or the rows as lists.
Chunk = tuple[list[int], str | list[list[str | None]]]


def worker_count(table: Table, requested: int | None) -> int:
    """How many validation processes to use for this table (1 means in-process)."""
    if table.source.kind != "csv":
        return 1  # XLSX parsing, not validation, is the cost there; it stays in one process
    if requested is not None:
        return max(1, requested)
    if table.source.size < PARALLEL_MIN_BYTES:
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


def _init(batch: str, columns: ColumnMap) -> None:
    global _validate
    _validate = make_row_validator(batch, columns)
    gc.disable()  # see land.gc_paused: no cycles here, and collections halve throughput


def _validate_chunk(chunk: Chunk) -> ValidatedChunk:
    validate = _validate
    assert validate is not None, "worker not initialised"
    row_nos, payload = chunk
    if isinstance(payload, str):
        rows: list = [row.split(_UNIT) for row in payload.split(_RECORD)]
    else:
        rows = payload
    return validate_chunk(validate, zip(row_nos, rows, strict=True))


def row_chunks(
    rows: Iterator[tuple[int, list[str | None]]], size: int
) -> Iterator[list[tuple[int, list[str | None]]]]:
    """Consecutive rows in lists of at most ``size``."""
    while chunk := list(itertools.islice(rows, size)):
        yield chunk


def validated_in_process(table: Table, batch: str) -> Iterator[ValidatedChunk]:
    """Every data row validated in this process, in file order, chunk by chunk."""
    validate = make_row_validator(batch, table.columns)
    for chunk in row_chunks(table.rows, CHUNK_ROWS):
        yield validate_chunk(validate, chunk)


def _chunks(rows: Iterator[tuple[int, list[str | None]]], size: int, pack: bool) -> Iterator[Chunk]:
    for batch in row_chunks(rows, size):
        row_nos = [n for n, _ in batch]
        if pack:
            yield row_nos, _RECORD.join([_UNIT.join(cells) for _, cells in batch])  # type: ignore[arg-type]
        else:
            yield row_nos, [cells for _, cells in batch]


def _single_threaded() -> bool:
    """Whether this process runs one thread, native threads included (Linux: /proc)."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def _context() -> multiprocessing.context.BaseContext:
    """Fork when nothing else runs in this process (the CLI: cheapest, nothing to re-import);
    otherwise workers fork from a fork server, a fresh single-threaded process."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and _single_threaded():
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context("spawn")


def validated_in_parallel(table: Table, batch: str, workers: int) -> Iterator[ValidatedChunk]:
    """Every data row validated by ``workers`` processes, in file order, chunk by chunk."""
    # Never fork a process that runs other threads (Dagster, the encoder's thread pool, the
    # vector store): a forked child inherits their locks as they were, possibly held, and
    # waits on them forever. The caller's main module must be import-safe (a main guard)
    # for the fork server, as with spawn.
    context = _context()
    pack = table.source.kind == "csv" and not table.source.has_separator_bytes
    chunks = _chunks(table.rows, CHUNK_ROWS, pack)
    with context.Pool(workers, initializer=_init, initargs=(batch, table.columns)) as pool:
        yield from pool.imap(_validate_chunk, chunks)
