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
        ("bad_quote.csv", b'Company,City\n"Acme\n' + b"x" * 200_000 + b"\n", "malformed CSV"),
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
