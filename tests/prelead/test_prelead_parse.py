"""Reading lead lists: encodings, delimiters, XLSX, header detection and unreadable files."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest

from ingest.prelead.parse import PreleadFileError, inspect_file, open_table


def read(path: Path) -> tuple[str | None, list[tuple[int, list[str | None]]], dict[str, int]]:
    source = inspect_file(path)
    table = open_table(source)
    return source.encoding, list(table.rows), table.columns.fields


def test_utf8_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffCompany,City\nSociété Chimique,Pune\n".encode())
    encoding, rows, fields = read(path)
    assert encoding == "utf-8-sig"
    assert fields == {"company": 0, "city": 1}  # the BOM does not hide the first header
    assert rows == [(2, ["Société Chimique", "Pune"])]


def test_utf8_without_bom_and_plain_ascii(tmp_path: Path) -> None:
    path = tmp_path / "utf8.csv"
    path.write_bytes("Company,Remarks\nAcme,rate ₹125/kg\n".encode())
    encoding, rows, _ = read(path)
    assert encoding == "utf-8-sig"
    assert rows[0][1] == ["Acme", "rate ₹125/kg"]
    path.write_bytes(b"Company,Remarks\nAcme,rate Rs 125/kg\n")
    assert read(path)[0] == "ascii"


def test_windows_1252_with_smart_quotes(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    text = "Company;Remarks\r\nSociété “Alpha” Chemicals;Owner’s pick – call\r\n"
    path.write_bytes(text.encode("cp1252"))
    encoding, rows, _ = read(path)
    assert encoding == "cp1252"
    assert rows == [(2, ["Société “Alpha” Chemicals", "Owner’s pick – call"])]


def test_utf16_export_with_tabs(tmp_path: Path) -> None:
    path = tmp_path / "unicode.txt"
    path.write_bytes("Company\tState\nAcme Chemicals\tGujarat\n".encode("utf-16"))
    encoding, rows, _ = read(path)
    assert encoding == "utf-16"
    assert rows == [(2, ["Acme Chemicals", "Gujarat"])]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters(tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "d.csv"
    path.write_text(delimiter.join(["Firm", "GSTIN", "City"]) + "\nAcme, Pune" + delimiter * 2)
    if delimiter == ",":
        path.write_text('Firm,GSTIN,City\n"Acme, Pune",,\n')
    _, rows, fields = read(path)
    assert fields == {"company": 0, "gstin": 1, "city": 2}
    assert rows[0][1][0] == "Acme, Pune"


def test_title_rows_blank_rows_and_quoted_newlines(tmp_path: Path) -> None:
    path = tmp_path / "titled.csv"
    path.write_text(
        "Lead list November,,\n,,\nCompany,Address,City\n"
        'Acme,"Plot 4,\nMIDC",Pune\n,,\nBeta,,Surat\n'
    )
    source = inspect_file(path)
    table = open_table(source)
    assert table.header_row == 3
    assert list(table.rows) == [(4, ["Acme", "Plot 4,\nMIDC", "Pune"]), (6, ["Beta", "", "Surat"])]


def test_nul_bytes_are_replaced_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes(b"Company,City\nAc\x00me,Pune\n")
    _, rows, _ = read(path)
    assert rows == [(2, ["Ac\ufffdme", "Pune"])]


def test_xlsx_streams_values_and_formulas(tmp_path: Path) -> None:
    path = tmp_path / "leads.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Lead list"])
    sheet.append(["Company Name", "Mobile", "Since", "Remarks", "Rating"])
    sheet.append(["Acme Chemicals", 9876543210, dt.date(2024, 5, 1), '=HYPERLINK("http://x")', 4.5])
    sheet.append([None, None, None, None, None])
    sheet.append(["Beta Dyes", "+91 98765 43210", None, None, True])
    workbook.save(path)

    source = inspect_file(path)
    assert source.kind == "xlsx" and source.encoding is None
    table = open_table(source)
    assert table.header_row == 2
    rows = list(table.rows)
    assert rows[0] == (
        3,
        ["Acme Chemicals", "9876543210", "2024-05-01", '=HYPERLINK("http://x")', "4.5"],
    )
    assert rows[1][0] == 5
    assert rows[1][1][:2] == ["Beta Dyes", "+91 98765 43210"]
    assert rows[1][1][4] == "TRUE"


def test_same_content_same_hash(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("Company\nAcme\n")
    b.write_text("Company\nAcme\n")
    assert inspect_file(a).sha256 == inspect_file(b).sha256
    b.write_text("Company\nAcme \n")
    assert inspect_file(a).sha256 != inspect_file(b).sha256


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("blank.csv", b"\n\n,,\n", "no rows"),
        ("header_only.csv", b"Company,City\n", "no data rows"),
        ("no_company.csv", b"Name,Email\nRavi,r@x.in\n", "no company column"),
        ("leads.pdf", b"%PDF-1.4", "unsupported file type .pdf"),
        ("leads.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "legacy .xls"),
        ("fake.xlsx", b"Company\nAcme\n", "not a valid XLSX"),
        # an unterminated quote swallowing the rest of the file (lines under the cell cap)
        ("bad_quote.csv", b'Company,City\n"Acme\n' + (b"x" * 999 + b"\n") * 200, "malformed CSV"),
    ],
)
def test_unloadable_files_get_clear_errors(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(PreleadFileError, match=message):
        read(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PreleadFileError, match="no such file"):
        inspect_file(tmp_path / "nope.csv")


def test_damaged_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    with pytest.raises(PreleadFileError, match="XLSX"):
        read(path)


def test_xlsx_with_wrong_stored_dimension_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "dims.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A3"], sheet["B3"] = "Company", "City"
    sheet["A4"], sheet["B4"] = "Acme", "Pune"
    sheet["A6"], sheet["C6"] = "Beta", "far"
    workbook.save(path)
    # Some tools write a dimension of A1:A1 whatever the sheet holds.
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet_xml = parts["xl/worksheets/sheet1.xml"]
    start = sheet_xml.index(b"<dimension ref=")
    end = sheet_xml.index(b"/>", start) + 2
    parts["xl/worksheets/sheet1.xml"] = (
        sheet_xml[:start] + b'<dimension ref="A1:A1"/>' + sheet_xml[end:]
    )
    with zipfile.ZipFile(path, "w") as archive:
        for name, body in parts.items():
            archive.writestr(name, body)

    table = open_table(inspect_file(path))
    assert table.header_row == 3
    assert list(table.rows) == [(4, ["Acme", "Pune"]), (6, ["Beta", None, "far"])]


# --- caps on untrusted workbooks (issue 9, "Unbounded inputs") ------------------------------

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
        'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
        '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName='
        '"/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sharedStrings+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}"><Relationship '
        'Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
        '<sheets><sheet name="Leads" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}">'
        f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    ),
}


def crafted_xlsx(path: Path, rows: list[list[str]], huge: tuple[int, int, int, str]) -> Path:
    """A minimal real XLSX (as a hostile tool would write it, not openpyxl, which cuts
    strings at 32,767 itself): ``rows`` as shared strings, plus at (row, column) of ``huge``
    a shared string of ``size`` bytes repeating ``unit``, streamed into the archive."""
    huge_row, huge_col, size, unit = huge
    strings: list[str] = []
    cells = []
    for r, row in enumerate(rows, start=1):
        refs = []
        for c, value in enumerate(row):
            ref = f"{chr(65 + c)}{r}"
            if (r, c) == (huge_row, huge_col):
                refs.append(f'<c r="{ref}" t="s"><v>HUGE</v></c>')
                continue
            strings.append(value)
            refs.append(f'<c r="{ref}" t="s"><v>{len(strings) - 1}</v></c>')
        cells.append(f'<row r="{r}">{"".join(refs)}</row>')
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}"><sheetData>'
        + "".join(cells).replace("HUGE", str(len(strings)))
        + "</sheetData></worksheet>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_MAIN}">'.encode())
            for value in strings:
                part.write(f"<si><t>{value}</t></si>".encode())
            part.write(b"<si><t>")
            block = (unit * (1 << 16))[: 1 << 20].encode()
            written = 0
            while written < size:
                piece = block[: size - written]
                part.write(piece)
                written += len(piece)
            part.write(b"</t></si></sst>")
    return path


def random_text(n: int, seed: int = 1) -> str:
    """Letters that do not compress much (so the ratio cap stays out of the way)."""
    import random

    rnd = random.Random(seed)
    return "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))


def test_crafted_workbook_reads_like_any_other(tmp_path: Path) -> None:
    path = crafted_xlsx(
        tmp_path / "ok.xlsx", [["Company", "Remarks"], ["Acme", ""]], (2, 1, 5, "hello")
    )
    assert read(path)[1] == [(2, ["Acme", "hello"])]


def test_64_mib_cell_is_cut_before_any_parser_holds_it(tmp_path: Path) -> None:
    """The reproduction of issue 9: one 64 MiB shared string. Its run is cut while the
    workbook is copied (the parser sees at most ten times the cap in bytes), the row is
    kept with the cell at exactly the cap and marked as cut; the next row is untouched."""
    path = crafted_xlsx(
        tmp_path / "huge.xlsx",
        [["Company", "Remarks"], ["Acme", ""], ["Beta", "fine"]],
        (2, 1, 64 << 20, random_text(4096)),
    )
    (row_no, first), (_, second) = read(path)[1]
    assert row_no == 2 and first[0] == "Acme"
    assert len(first[1]) == 32767 and first[1] == (random_text(4096) * 8)[:32767]
    assert first.cut == [(1, None)]  # type: ignore[attr-defined]  # never read: length unknown
    assert second == ["Beta", "fine"] and type(second) is list


def test_cell_over_the_cap_but_parseable_is_cut_with_its_length(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRELEAD_MAX_CELL_CHARS", "1000")
    path = _workbook(tmp_path / "long.xlsx", [["Company", "Remarks"], ["Acme", "é" * 1500]])
    ((_, cells),) = read(path)[1]
    assert cells == ["Acme", "é" * 1000]
    assert cells.cut == [(1, 1500)]  # type: ignore[attr-defined]


def test_default_cap_is_excels_own_cell_limit(tmp_path: Path) -> None:
    """32,767 characters (what Excel itself can store) pass untouched."""
    path = _workbook(tmp_path / "excel.xlsx", [["Company", "Remarks"], ["Acme", "x" * 32767]])
    ((_, cells),) = read(path)[1]
    assert type(cells) is list and len(cells[1]) == 32767


def _workbook(path: Path, rows: list[list[object]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def test_zip_bomb_ratio_is_refused_before_inflating(tmp_path: Path) -> None:
    """64 MiB of one letter compress about a thousand times: refused from the archive's
    directory, naming the part, before anything is inflated."""
    path = crafted_xlsx(
        tmp_path / "bomb.xlsx", [["Company", "Remarks"], ["Acme", ""]], (2, 1, 64 << 20, "A")
    )
    assert path.stat().st_size < 200_000
    with pytest.raises(PreleadFileError, match=r"sharedStrings.xml' expands \d+ times .*zip bomb"):
        read(path)


def test_uncompressed_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRELEAD_XLSX_MAX_UNCOMPRESSED_BYTES", str(1 << 20))
    path = crafted_xlsx(
        tmp_path / "big.xlsx", [["Company", "Remarks"], ["Acme", ""]], (2, 1, 2 << 20, "ab")
    )
    with pytest.raises(PreleadFileError, match="more than 1048576 bytes uncompressed"):
        read(path)


def test_csv_line_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CSV of one endless line is refused at the cap, not read whole first."""
    monkeypatch.setenv("PRELEAD_CSV_MAX_LINE_CHARS", "4096")
    path = tmp_path / "endless.csv"
    path.write_text("Company,Remarks\nAcme," + "z" * 100_000 + "\n", encoding="utf-8")
    with pytest.raises(PreleadFileError, match="line 2 is longer than 4096 characters"):
        read(path)
