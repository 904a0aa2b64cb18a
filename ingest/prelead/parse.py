"""Read marketing's lead lists (CSV or XLSX) as a header plus a stream of rows.

CSV encodings are detected with a strict cascade: UTF-16 when a BOM says so (or, without a
BOM, when NUL bytes sit in every other position, as spreadsheet programs' "Unicode text"
exports do), UTF-8 (with or without BOM), Windows-1252, then charset-normalizer's best guess. The delimiter is detected from
the header line. XLSX files are streamed with openpyxl's read-only mode (first worksheet), so
memory stays flat however long the list is. Formula cells are read as their formula text, not a
cached value, so a formula planted in a list is seen (and neutralised) rather than evaluated.

Caps (:mod:`ingest.prelead.settings`), so one crafted file cannot cost gigabytes:

- a workbook that would expand beyond ``PRELEAD_XLSX_MAX_UNCOMPRESSED_BYTES``, or a part
  expanding more than ``PRELEAD_XLSX_MAX_RATIO`` times, is refused before anything is
  inflated;
- a cell longer than ``PRELEAD_MAX_CELL_CHARS`` is cut to that length and its row becomes a
  :class:`TruncatedRow`, which the validator marks ``cell_too_long``: the row is kept, the
  rest of the cell is not. When an XML part holds a text run too long even to parse (over
  ten times the cap in bytes), the workbook is first copied with such runs cut
  (:class:`ingest.common.limits.XmlTextCapper`), so no parser ever holds the whole cell;
- CSV: a line longer than ``PRELEAD_CSV_MAX_LINE_CHARS`` refuses the file, and so does a
  quoted cell over the cell cap that spans several lines (only long lines are cut and
  marked: their rows travel to the parallel validators unpacked, keeping the mark).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import re
import secrets
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.common.limits import LimitExceeded, XmlTextCapper, check_zip_budget
from ingest.prelead.headers import ColumnMap, field_for, map_headers
from ingest.prelead.settings import PreleadSettings

#: How far down a sheet the header row may sit (title rows and blank lines above it).
HEADER_SEARCH_ROWS = 20
_CHUNK = 1 << 20
_CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
_XLSX_SUFFIXES = {".xlsx", ".xlsm"}
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DELIMITERS = (",", ";", "\t", "|")
#: Bytes charset-normalizer guesses an unusual encoding from.
_GUESS_SAMPLE = 8 << 20
#: Bytes sampled to recognise UTF-16 without a BOM.
_UTF16_SAMPLE = 4096


class PreleadFileError(ValueError):
    """The file cannot be loaded as a lead list; the message says why, for the person loading it."""


class TruncatedRow(list):
    """A row with cells cut to ``PRELEAD_MAX_CELL_CHARS``: ``cut`` lists each such cell as
    ``(column index, original length or None when only "longer than the cap" is known)``."""

    __slots__ = ("cut", "max_chars")

    def __init__(self, cells: list[str | None], cut: list[tuple[int, int | None]], max_chars: int):
        super().__init__(cells)
        self.cut = cut
        self.max_chars = max_chars


@dataclass(frozen=True)
class SourceFile:
    """A lead-list file identified by content: what it is and how to decode it."""

    path: Path
    kind: str  # "csv" or "xlsx"
    sha256: str
    size: int
    encoding: str | None  # CSV only: the Python codec that decodes it
    #: Whether rows must travel to the parallel validators as lists, not packed into one
    #: string: the bytes hold ASCII unit/record separators (0x1F, 0x1E), which packing uses,
    #: or a line long enough to hold a cell over the cap (packing would lose its row's
    #: :class:`TruncatedRow` mark).
    has_separator_bytes: bool = False
    #: Whether the bytes hold NUL, which PostgreSQL text cannot store.
    has_nul_bytes: bool = False
    #: Whether a line is at least ``PRELEAD_MAX_CELL_CHARS`` (or the line cap, if lower)
    #: bytes long. CSV: lines are then read bounded and cells measured and cut; shorter
    #: lines can hold neither a cell over the cap nor a line over the line cap.
    has_long_lines: bool = False


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
    caps = PreleadSettings()
    long_at = min(caps.max_cell_chars, caps.csv_max_line_chars)
    line_run = 0  # bytes since the last newline
    long_lines = False
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                if not long_lines:
                    line_run, long_lines = _longest_line(chunk, line_run, long_at)
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
        return SourceFile(path, "xlsx", digest.hexdigest(), size, None, separators, nul, False)
    if suffix in _XLSX_SUFFIXES:
        raise PreleadFileError(f"{path.name}: not a valid XLSX workbook")
    if suffix not in _CSV_SUFFIXES:
        raise PreleadFileError(
            f"{path.name}: unsupported file type {suffix or '(none)'}; expected .csv or .xlsx"
        )
    encoding = _utf16_without_bom(path, head, sample) if nul else None
    if encoding is None:
        encoding = "ascii" if ascii_only else _csv_encoding(path, head, utf8_ok)
    return SourceFile(
        path, "csv", digest.hexdigest(), size, encoding, separators or long_lines, nul, long_lines
    )


def _longest_line(chunk: bytes, run: int, limit: int) -> tuple[int, bool]:
    """Carry the length of the current line over ``chunk``; also whether a line reached
    ``limit`` bytes."""
    first = chunk.find(b"\n")
    if first < 0:
        return run + len(chunk), run + len(chunk) >= limit
    if run + first >= limit:
        return 0, True
    last = chunk.rfind(b"\n")
    if last > first and max(map(len, chunk[first + 1 : last].split(b"\n"))) >= limit:
        return 0, True
    tail = len(chunk) - last - 1
    return tail, tail >= limit


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
    from charset_normalizer import from_bytes  # only for files that are neither UTF-8 nor 1252

    with path.open("rb") as handle:  # a sample: charset-normalizer would read the whole file
        sample = handle.read(_GUESS_SAMPLE)
    best = from_bytes(sample).best()
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
        settings = PreleadSettings()
        delimiter = _sniff_delimiter(handle, settings.csv_max_line_chars)
        lines: Iterator[str] = handle  # no line reaches the cell cap (inspect_file measured)
        if source.has_long_lines:
            lines = _bounded_lines(handle, settings.csv_max_line_chars, name)
        if source.has_nul_bytes:
            # NUL cannot be stored in PostgreSQL text: mark it instead of failing the load.
            lines = (line.replace("\x00", "\ufffd") for line in lines)
        reader = csv.reader(lines, delimiter=delimiter)
        if source.has_long_lines:
            yield from _capped_csv_rows(reader, settings, name)
            return
        # No line reaches the cap, so only a quoted cell spanning lines can pass it.
        cap = settings.max_cell_chars
        row_no = last_line = 0
        try:
            for row_no, cells in enumerate(reader, start=1):  # noqa: B007 (used after the loop)
                if reader.line_num - last_line > 1 and max(map(len, cells), default=0) > cap:
                    raise PreleadFileError(
                        f"{name}: row {row_no} has a quoted cell spanning several lines that is "
                        f"longer than {cap} characters (PRELEAD_MAX_CELL_CHARS)"
                    )
                last_line = reader.line_num
                yield row_no, cells
        except csv.Error as exc:
            raise PreleadFileError(f"{name}: malformed CSV after row {row_no}: {exc}") from None
        except UnicodeDecodeError:
            raise PreleadFileError(f"{name}: text encoding changes after row {row_no}") from None


def _capped_csv_rows(
    reader: Iterator[list[str]], settings: PreleadSettings, name: str
) -> Iterator[tuple[int, list[str | None]]]:
    """Rows of a CSV with long lines: a cell over ``max_cell_chars`` is cut and its row
    becomes a :class:`TruncatedRow`. The csv module's own field limit (131,072 characters,
    process-wide) is lifted to the line cap only while this reader parses a row."""
    cap = settings.max_cell_chars
    row_no = 0
    while True:
        previous = csv.field_size_limit(settings.csv_max_line_chars)
        try:
            cells = next(reader, None)
        except csv.Error as exc:
            raise PreleadFileError(f"{name}: malformed CSV after row {row_no}: {exc}") from None
        except UnicodeDecodeError:
            raise PreleadFileError(f"{name}: text encoding changes after row {row_no}") from None
        finally:
            csv.field_size_limit(previous)
        if cells is None:
            return
        row_no += 1
        cut: list[tuple[int, int | None]] = [
            (i, len(c)) for i, c in enumerate(cells) if len(c) > cap
        ]
        if cut:
            for i, _ in cut:
                cells[i] = cells[i][:cap]
            yield row_no, TruncatedRow(cells, cut, cap)
        else:
            yield row_no, cells


def _bounded_lines(handle: io.TextIOBase, max_chars: int, name: str) -> Iterator[str]:
    """The file's lines, none read beyond ``max_chars`` (a file of one endless line would
    otherwise be read whole before the CSV reader sees it)."""
    line_no = 0
    while line := handle.readline(max_chars + 1):
        line_no += 1
        if len(line) > max_chars:
            raise PreleadFileError(
                f"{name}: line {line_no} is longer than {max_chars} characters "
                "(PRELEAD_CSV_MAX_LINE_CHARS)"
            )
        yield line


def _sniff_delimiter(handle: io.TextIOBase, max_chars: int) -> str:
    """The delimiter used by the first non-blank line (comma when nothing else shows up);
    reads at most ``max_chars`` of a line."""
    start = handle.tell()
    line = ""
    for _ in range(HEADER_SEARCH_ROWS):
        line = handle.readline(max_chars)
        if not line or line.strip(" \r\n\ufeff"):
            break
    handle.seek(start)
    counts = {d: line.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _xlsx_rows(source: SourceFile) -> Iterator[tuple[int, list[str | None]]]:
    settings = PreleadSettings()
    name = source.path.name
    cap = settings.max_cell_chars
    with tempfile.TemporaryDirectory(prefix="pebble-xlsx-") as scratch:
        path, marker = _capped_workbook(source.path, settings, Path(scratch))
        text = _cell_reader(cap, marker)
        for row_no, values in _sheet_values(path, name):
            cells = [text(v) for v in values]
            cut = [
                (i, None if type(c) is _CutText else len(c))
                for i, c in enumerate(cells)
                if c is not None and (len(c) > cap or type(c) is _CutText)
            ]
            if cut:
                for i, _ in cut:
                    cells[i] = str(cells[i])[:cap]
                yield row_no, TruncatedRow(cells, cut, cap)
            else:
                yield row_no, cells


def _sheet_values(path: Path, name: str) -> Iterator[tuple[int, tuple[object, ...]]]:
    import openpyxl  # imported here: CSV loads and the CLI's import should not pay for it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, SyntaxError) as exc:
        raise PreleadFileError(f"{name}: not a readable XLSX workbook ({exc})") from None
    except InvalidFileException:  # a workbook under another name (.csv): openpyxl goes by it
        raise PreleadFileError(
            f"{name}: an XLSX workbook saved under a {path.suffix or 'different'} name; "
            "rename it .xlsx"
        ) from None
    except _UNREADABLE_MEMBER as exc:
        raise PreleadFileError(f"{name}: not a readable XLSX workbook ({exc})") from None
    try:
        if not workbook.worksheets:
            raise PreleadFileError(f"{name}: the workbook has no worksheets")
        sheet = workbook.worksheets[0]
        # The stored dimension is written by whatever made the file and is sometimes wrong;
        # trusting it would silently cut rows or columns off.
        sheet.reset_dimensions()
        try:
            yield from enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, SyntaxError) as exc:
            # SyntaxError covers the XML parsers' errors for a damaged sheet.
            raise PreleadFileError(f"{name}: the worksheet is damaged ({exc})") from None
        except _UNREADABLE_MEMBER as exc:
            raise PreleadFileError(f"{name}: the worksheet cannot be read ({exc})") from None
    finally:
        workbook.close()


#: What ``zipfile`` raises for a member it cannot inflate: an encrypted one (RuntimeError,
#: "password required") or one packed with a method it lacks (NotImplementedError).
_UNREADABLE_MEMBER = (RuntimeError, NotImplementedError)

#: XML parts of a workbook whose text is capped (everything openpyxl parses).
_XML_PARTS = re.compile(r"\.(xml|rels|vml)$", re.IGNORECASE)


def _capped_workbook(
    path: Path, settings: PreleadSettings, scratch: Path
) -> tuple[Path, str | None]:
    """The workbook to read: ``path`` itself, or a copy in ``scratch`` whose over-long text
    runs are cut (then also the marker the cut values end with).

    Raises PreleadFileError for a workbook over the uncompressed size or ratio caps.
    """
    name = path.name
    # bytes of XML text: a character takes up to ten as a reference (&#1114111;)
    budget = 10 * settings.max_cell_chars
    try:
        with zipfile.ZipFile(path) as archive:
            check_zip_budget(
                archive,
                settings.xlsx_max_uncompressed_bytes,
                settings.xlsx_max_ratio,
                f"{name}",
            )
            if not any(_has_long_run(archive, info, budget) for info in _xml_members(archive)):
                return path, None
            marker = f"[pebble-cut-{secrets.token_hex(8)}]"
            copy = scratch / "capped.xlsx"
            _write_capped(archive, copy, budget, marker.encode("ascii"))
    except LimitExceeded as exc:
        raise PreleadFileError(f"{name}: {exc} (PRELEAD_XLSX_* limits)") from None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, *_UNREADABLE_MEMBER) as exc:
        raise PreleadFileError(f"{name}: not a readable XLSX workbook ({exc})") from None
    return copy, marker


def _xml_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    return [i for i in archive.infolist() if _XML_PARTS.search(i.filename)]


def _has_long_run(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bool:
    """Whether a part holds more than ``budget`` bytes between two ``<`` (a cheap scan)."""
    run = 0
    with archive.open(info) as part:
        while chunk := part.read(_CHUNK):
            first = chunk.find(b"<")
            if first < 0:
                run += len(chunk)
            else:
                if run + first > budget:
                    return True
                last = chunk.rfind(b"<")
                if last > first and max(map(len, chunk[first + 1 : last].split(b"<"))) > budget:
                    return True
                run = len(chunk) - last - 1
            if run > budget:
                return True
    return False


def _write_capped(archive: zipfile.ZipFile, target: Path, budget: int, marker: bytes) -> None:
    """Copy the workbook with every XML part's text capped (other parts copied as they are)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in archive.infolist():
            with archive.open(info) as src, out.open(info.filename, "w", force_zip64=True) as dst:
                if not _XML_PARTS.search(info.filename):
                    shutil.copyfileobj(src, dst, _CHUNK)
                    continue
                capper = XmlTextCapper(budget, marker)
                while chunk := src.read(_CHUNK):
                    dst.write(capper.feed(chunk))
                dst.write(capper.feed(b"", final=True))


class _CutText(str):
    """A value the capped copy cut: its length before the cut is unknown (only "longer")."""

    __slots__ = ()


def _cell_reader(cap: int, marker: str | None):  # noqa: ANN202 - a closure over the caps
    """:func:`_cell_text`, recognising the values the capped copy cut by their ``marker``
    (a random token per load, so no input can fake it)."""
    if marker is None:
        return _cell_text

    def text(value: object) -> str | None:
        result = _cell_text(value)
        if result is not None and result.endswith(marker):
            return _CutText(result[: -len(marker)])
        return result

    return text


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
