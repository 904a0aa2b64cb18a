"""Read marketing's lead lists (CSV or XLSX) as a header plus a stream of rows.

CSV encodings are detected with a strict cascade: UTF-16 when a BOM says so (or, without a
BOM, when NUL bytes sit in every other position, as spreadsheet programs' "Unicode text"
exports do), UTF-8 (with or without BOM), Windows-1252, then charset-normalizer's best guess. The delimiter is detected from
the header line. XLSX files are streamed with openpyxl's read-only mode (first worksheet), so
memory stays flat however long the list is. Formula cells are read as their formula text, not a
cached value, so a formula planted in a list is seen (and neutralised) rather than evaluated.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.prelead.headers import ColumnMap, field_for, map_headers

#: How far down a sheet the header row may sit (title rows and blank lines above it).
HEADER_SEARCH_ROWS = 20
_CHUNK = 1 << 20
_CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
_XLSX_SUFFIXES = {".xlsx", ".xlsm"}
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DELIMITERS = (",", ";", "\t", "|")
#: Bytes sampled to recognise UTF-16 without a BOM.
_UTF16_SAMPLE = 4096


class PreleadFileError(ValueError):
    """The file cannot be loaded as a lead list; the message says why, for the person loading it."""


@dataclass(frozen=True)
class SourceFile:
    """A lead-list file identified by content: what it is and how to decode it."""

    path: Path
    kind: str  # "csv" or "xlsx"
    sha256: str
    size: int
    encoding: str | None  # CSV only: the Python codec that decodes it
    #: Whether the bytes hold ASCII unit/record separators (0x1F, 0x1E), which the parallel
    #: validator otherwise uses to pack rows into one string.
    has_separator_bytes: bool = False
    #: Whether the bytes hold NUL, which PostgreSQL text cannot store.
    has_nul_bytes: bool = False


@dataclass(frozen=True)
class Table:
    """A lead list opened for reading: its column map and its data rows.

    ``rows`` yields ``(row_no, cells)`` where ``row_no`` is the row number a spreadsheet shows
    (the header row included, 1-based); blank rows are skipped but keep their numbers.
    """

    source: SourceFile
    header_row: int
    columns: ColumnMap
    rows: Iterator[tuple[int, list[str | None]]]


def inspect_file(path: Path) -> SourceFile:
    """Hash the file and decide its kind and (for CSV) its encoding.

    Raises :class:`PreleadFileError` for a missing or unreadable file, an empty file, a legacy
    ``.xls`` workbook and any other type than CSV or XLSX.
    """
    path = Path(path)
    if path.is_dir():
        raise PreleadFileError(f"{path.name}: is a folder, not a file")
    if not path.is_file():
        raise PreleadFileError(f"{path.name}: no such file")
    suffix = path.suffix.lower()
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    utf8_ok = True
    ascii_only = True
    separators = False
    nul = False
    size = 0
    head = b""
    sample = b""
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                if not head:
                    head = chunk[:8]
                    sample = chunk[:_UTF16_SAMPLE]
                size += len(chunk)
                digest.update(chunk)
                if not separators and (b"\x1e" in chunk or b"\x1f" in chunk):
                    separators = True
                if not nul and b"\x00" in chunk:
                    nul = True
                if ascii_only and not chunk.isascii():
                    ascii_only = False
                if utf8_ok:
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError:
                        utf8_ok = False
            if utf8_ok:
                try:
                    decoder.decode(b"", final=True)
                except UnicodeDecodeError:
                    utf8_ok = False
    except OSError as exc:
        raise PreleadFileError(f"{path.name}: cannot read the file ({exc.strerror})") from None
    if size == 0:
        raise PreleadFileError(f"{path.name}: the file is empty")
    if head.startswith(_OLE_MAGIC):
        raise PreleadFileError(
            f"{path.name}: legacy .xls or password-protected workbooks are not supported; "
            "save it as .xlsx or CSV"
        )
    if head.startswith(_ZIP_MAGIC):
        if suffix not in _XLSX_SUFFIXES | _CSV_SUFFIXES:
            raise PreleadFileError(f"{path.name}: unsupported file type {suffix or '(none)'}")
        return SourceFile(path, "xlsx", digest.hexdigest(), size, None, separators, nul)
    if suffix in _XLSX_SUFFIXES:
        raise PreleadFileError(f"{path.name}: not a valid XLSX workbook")
    if suffix not in _CSV_SUFFIXES:
        raise PreleadFileError(
            f"{path.name}: unsupported file type {suffix or '(none)'}; expected .csv or .xlsx"
        )
    encoding = _utf16_without_bom(path, head, sample) if nul else None
    if encoding is None:
        encoding = "ascii" if ascii_only else _csv_encoding(path, head, utf8_ok)
    return SourceFile(path, "csv", digest.hexdigest(), size, encoding, separators, nul)


def _utf16_without_bom(path: Path, head: bytes, sample: bytes) -> str | None:
    """``utf-16-le``/``utf-16-be`` for UTF-16 text without a BOM, told by its NUL bytes
    (Latin and Indic text in UTF-16 has a NUL, or a small high byte, in every other
    position); None for anything else. Raises PreleadFileError when the file looks like
    UTF-16 but does not decode as it."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or len(sample) < 4:
        return None
    pairs = len(sample) // 2
    even_nul = sample[0 : pairs * 2 : 2].count(0)
    odd_nul = sample[1 : pairs * 2 : 2].count(0)
    if odd_nul >= pairs * 0.3 and even_nul <= pairs * 0.05:
        codec = "utf-16-le"
    elif even_nul >= pairs * 0.3 and odd_nul <= pairs * 0.05:
        codec = "utf-16-be"
    else:
        return None
    if not _decodes(path, codec):
        raise PreleadFileError(
            f"{path.name}: looks like UTF-16 text without a byte-order mark but does not "
            "decode as it; save it as UTF-8"
        )
    return codec


def _csv_encoding(path: Path, head: bytes, utf8_ok: bool) -> str:
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    if utf8_ok:
        return "utf-8-sig"
    if _decodes(path, "cp1252"):
        return "cp1252"
    from charset_normalizer import from_path  # only for files that are neither UTF-8 nor 1252

    best = from_path(path).best()
    if best is None:
        raise PreleadFileError(f"{path.name}: cannot tell the text encoding; save it as UTF-8")
    return best.encoding


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def open_table(source: SourceFile) -> Table:
    """Find the header row and return the column map with a lazy iterator over data rows.

    Raises :class:`PreleadFileError` when no header row names a company column, or when the
    file holds no data rows.
    """
    raw_rows = _xlsx_rows(source) if source.kind == "xlsx" else _csv_rows(source)
    preview: list[tuple[int, list[str | None]]] = []
    header_at: int | None = None
    for row_no, cells in raw_rows:
        if not _is_blank(cells):
            preview.append((row_no, cells))
            if any(c and field_for(c) == "company" for c in cells):
                header_at = len(preview) - 1
                break
        if len(preview) >= HEADER_SEARCH_ROWS:
            break
    name = source.path.name
    if not preview:
        raise PreleadFileError(f"{name}: the file has no rows")
    if header_at is None:
        seen = ", ".join(repr(c) for c in preview[0][1] if c)[:300]
        raise PreleadFileError(
            f"{name}: no company column found (expected a header such as 'Company', "
            f"'Company Name' or 'Firm'; first row has {seen or 'no headers'})"
        )
    header_row, headers = preview[header_at]
    columns = map_headers([(c or "") for c in headers])
    first = next(_non_blank(raw_rows), None)
    if first is None:
        raise PreleadFileError(f"{name}: the file has a header row but no data rows")

    def rows() -> Iterator[tuple[int, list[str | None]]]:
        yield first
        yield from _non_blank(raw_rows)

    return Table(source=source, header_row=header_row, columns=columns, rows=rows())


def _is_blank(cells: list[str | None]) -> bool:
    return not any(c and c.strip() for c in cells)


def _non_blank(
    rows: Iterator[tuple[int, list[str | None]]],
) -> Iterator[tuple[int, list[str | None]]]:
    for row_no, cells in rows:
        try:
            if "".join(cells).strip():  # type: ignore[arg-type]
                yield row_no, cells
        except TypeError:  # XLSX rows hold None for empty cells
            if not _is_blank(cells):
                yield row_no, cells


def _csv_rows(source: SourceFile) -> Iterator[tuple[int, list[str | None]]]:
    assert source.encoding is not None
    name = source.path.name
    try:
        handle = source.path.open("r", encoding=source.encoding, newline="")
    except OSError as exc:
        raise PreleadFileError(f"{name}: cannot read the file ({exc.strerror})") from None
    with handle:
        delimiter = _sniff_delimiter(handle)
        lines: Iterator[str] = handle
        if source.has_nul_bytes:
            # NUL cannot be stored in PostgreSQL text: mark it instead of failing the load.
            lines = (line.replace("\x00", "\ufffd") for line in handle)
        reader = csv.reader(lines, delimiter=delimiter)
        row_no = 0
        try:
            for row_no, cells in enumerate(reader, start=1):  # noqa: B007 (used after the loop)
                yield row_no, cells
        except csv.Error as exc:
            raise PreleadFileError(f"{name}: malformed CSV after row {row_no}: {exc}") from None
        except UnicodeDecodeError:
            raise PreleadFileError(f"{name}: text encoding changes after row {row_no}") from None


def _sniff_delimiter(handle: io.TextIOBase) -> str:
    """The delimiter used by the first non-blank line (comma when nothing else shows up)."""
    start = handle.tell()
    line = ""
    for _ in range(HEADER_SEARCH_ROWS):
        line = handle.readline()
        if not line or line.strip(" \r\n\ufeff"):
            break
    handle.seek(start)
    counts = {d: line.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _xlsx_rows(source: SourceFile) -> Iterator[tuple[int, list[str | None]]]:
    import openpyxl  # imported here: CSV loads and the CLI's import should not pay for it

    name = source.path.name
    try:
        workbook = openpyxl.load_workbook(source.path, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise PreleadFileError(f"{name}: not a readable XLSX workbook ({exc})") from None
    try:
        if not workbook.worksheets:
            raise PreleadFileError(f"{name}: the workbook has no worksheets")
        sheet = workbook.worksheets[0]
        # The stored dimension is written by whatever made the file and is sometimes wrong;
        # trusting it would silently cut rows or columns off.
        sheet.reset_dimensions()
        try:
            rows = sheet.iter_rows(min_row=1, values_only=True)
            for row_no, values in enumerate(rows, start=1):
                yield row_no, [_cell_text(v) for v in values]
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, SyntaxError) as exc:
            # SyntaxError covers the XML parsers' errors for a damaged sheet.
            raise PreleadFileError(f"{name}: the worksheet is damaged ({exc})") from None
    finally:
        workbook.close()


def _cell_text(value: object) -> str | None:
    """A cell's value as the text a person sees: 9876543210.0 is a phone number, not a float."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    text = getattr(value, "text", None)  # ArrayFormula and similar formula objects
    return str(text if isinstance(text, str) else value)
