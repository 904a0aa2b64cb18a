"""Loading lead lists into the warehouse: rules per row, duplicates, safety, idempotence."""

from __future__ import annotations

import json
import random

import openpyxl
import psycopg
import pytest

from ingest.prelead.land import BatchConflictError, BatchNameError, load_file
from ingest.prelead.parse import PreleadFileError

# Valid identifiers used below. PAN AABCS1234K belongs to a different company than AAPFU0939F.
OTHER_PAN = "AABCS1234K"


def batch_row(conn: psycopg.Connection, batch: str) -> tuple:
    return conn.execute(
        "SELECT rows, valid, invalid, duplicates_in_batch, formula_neutralised, file_name,"
        " header_row FROM raw.prelead_batches WHERE batch = %s",
        (batch,),
    ).fetchone()


def test_each_rule_gives_its_reason(warehouse, write_csv, lead, make_gstin, fetch_rows) -> None:
    cases = {
        2: (lead(), []),
        3: (lead(gstin="27AAPFU0939F1ZA"), ["gstin_checksum"]),
        4: (lead(gstin="27AAPFU0939F1Z"), ["gstin_format"]),
        5: (lead(state="Gujarat"), ["gstin_state_mismatch"]),
        6: (lead(pan=OTHER_PAN), ["pan_gstin_mismatch"]),
        7: (lead(pan="AAPFU09391", gstin=""), ["pan_format"]),
        8: (lead(cin="U24100MH2010XYZ123456"), ["cin_format"]),
        9: (lead(email="ravi at acme.in"), ["email_format"]),
        10: (lead(phone="12345"), ["phone_invalid"]),
        11: (lead(state="Atlantis"), ["state_unknown"]),
        12: (lead(company="  "), ["company_missing"]),
        13: (lead(email="", phone="N/A"), ["contact_missing"]),
        14: (lead(gstin=make_gstin("38", "AAPFU0939F"), state="Ladakh"), []),
    }
    path = write_csv([row for row, _ in cases.values()])
    result = load_file(path, "rules")
    rows = fetch_rows(warehouse, "rules")

    assert sorted(rows) == sorted(cases)
    for row_no, (_, expected) in cases.items():
        assert rows[row_no]["reason_codes"] == expected, row_no
        assert rows[row_no]["is_valid"] is (not expected), row_no
        assert [r["code"] for r in rows[row_no]["reasons"]] == expected
        assert all(r["message"] and r["field"] for r in rows[row_no]["reasons"])
    assert result.rows == 13
    assert result.valid == 2
    assert result.invalid == 11
    assert batch_row(warehouse, "rules")[:3] == (13, 2, 11)


def test_values_are_normalised(warehouse, write_csv, lead, fetch_rows) -> None:
    path = write_csv(
        [
            lead(
                company="  M/s.  Acme   Chemicals (P) Ltd. ",
                gstin="27aapfu0939f1zv",
                email=" Ravi.Kumar@ACME.in ",
                phone="+91 98765-43210",
                state="maharastra",
                contact=" Ravi   Kumar ",
            ),
            lead(gstin="", state=""),
            lead(gstin="", state="", remarks="", source="-"),
        ]
    )
    load_file(path, "norm")
    first, second, third = fetch_rows(warehouse, "norm").values()
    assert first["company_name"] == "M/s. Acme Chemicals (P) Ltd."
    assert first["company_key"] == "acme chemicals pvt ltd"
    assert first["gstin"] == "27AAPFU0939F1ZV"
    assert first["email"] == "Ravi.Kumar@ACME.in"
    assert first["email_normalised"] == "ravi.kumar@acme.in"
    assert first["phone_e164"] == "+919876543210"
    assert (first["state"], first["state_name"], first["state_code"]) == (
        "maharastra",
        "Maharashtra",
        "27",
    )
    assert first["contact_person"] == "Ravi Kumar"
    assert first["extra"] is None
    assert first["is_valid"]
    # No state and no GSTIN: nothing to say where the lead is.
    assert second["state_name"] is None and second["state_code"] is None
    assert third["source"] is None  # "-" is a placeholder, not a source


def test_state_taken_from_gstin_when_not_stated(warehouse, write_csv, lead, fetch_rows) -> None:
    load_file(write_csv([lead(state="")]), "gst-state")
    (row,) = fetch_rows(warehouse, "gst-state").values()
    assert row["state"] is None
    assert (row["state_name"], row["state_code"]) == ("Maharashtra", "27")
    assert row["is_valid"]


def test_unknown_columns_kept_in_extra(warehouse, write_csv, fetch_rows) -> None:
    path = write_csv(
        [["Acme", "r@acme.in", "411001", "hot lead", ""]],
        header=["Company", "Email", "Pincode", "Remarks", ""],
    )
    load_file(path, "extra")
    (row,) = fetch_rows(warehouse, "extra").values()
    assert row["extra"] == {"Pincode": "411001", "Remarks": "hot lead"}


def test_short_and_long_rows(warehouse, tmp_path, fetch_rows) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("Company,Email\nAcme\nBeta,b@beta.in,late note,\nGamma,g@g.in\n")
    load_file(path, "ragged")
    rows = fetch_rows(warehouse, "ragged")
    assert rows[2]["email"] is None and rows[2]["reason_codes"] == ["contact_missing"]
    # Cells past the last header are kept, and never read as a field the file lacks.
    assert rows[3]["extra"] == {"column_3": "late note"}
    assert rows[3]["pan"] is None and rows[3]["phone"] is None
    assert rows[4]["extra"] is None


def test_row_with_everything_wrong_keeps_every_reason(
    warehouse, write_csv, lead, fetch_rows
) -> None:
    bad = lead(
        company="",
        gstin="27AAPFU0939F1ZA",  # wrong check character
        pan="AAPXU09391",  # impossible holder type and format, and not the GSTIN's PAN
        cin="X1",
        email="nobody@",
        phone="000",
        state="Gujarat",  # GSTIN says Maharashtra
    )
    load_file(write_csv([bad]), "all-wrong")
    (row,) = fetch_rows(warehouse, "all-wrong").values()
    assert row["reason_codes"] == [
        "company_missing",
        "gstin_checksum",
        "pan_format",
        "pan_gstin_mismatch",
        "cin_format",
        "gstin_state_mismatch",
        "email_format",
        "phone_invalid",
    ]
    assert len(row["reasons"]) == 8
    assert row["is_valid"] is False
    # Kept as given, not dropped or blanked.
    assert row["email"] == "nobody@" and row["phone"] == "000" and row["cin"] == "X1"


def test_duplicates_point_at_first_row(warehouse, write_csv, lead, make_gstin, fetch_rows) -> None:
    other_gstin = make_gstin("24", OTHER_PAN)
    rows = [
        lead(),  # 2
        lead(company="Beta Dyes", gstin=other_gstin, pan="", email="b@beta.in", state="GJ"),  # 3
        lead(company="ACME CHEMICALS PRIVATE LIMITED", gstin="", email="x@acme.in"),  # 4
        lead(company="Gamma", gstin=other_gstin, pan="", email="g@g.in", state="Gujarat"),  # 5
        lead(company="Delta", gstin="", pan="", email="B@Beta.in", state="Goa"),  # 6
        lead(company="Acme Chemicals Pvt Ltd", gstin="", email="y@acme.in", state="Goa"),  # 7
        lead(),  # 8: the same as row 2 on every key
    ]
    result = load_file(write_csv(rows), "dups")
    stored = fetch_rows(warehouse, "dups")
    pointers = {n: (r["duplicate_of"], r["duplicate_on"]) for n, r in stored.items()}
    assert pointers == {
        2: (None, None),
        3: (None, None),
        4: (2, ["name_state"]),
        5: (3, ["gstin"]),
        6: (3, ["email"]),
        7: (None, None),  # same name, different state
        8: (2, ["gstin", "name_state", "email"]),
    }
    assert result.duplicates_in_batch == 4
    assert batch_row(warehouse, "dups")[3] == 4
    assert all(stored[n]["is_valid"] for n in (4, 5, 6, 8))  # a duplicate is not invalid


def test_formula_injection_is_neutralised(warehouse, write_csv, lead, fetch_rows) -> None:
    rows = [
        lead(company='=HYPERLINK("http://evil.example","Acme")'),
        lead(contact="@SUM(1+1)", remarks="+cmd|' /C calc'!A0"),
        lead(address="-2+3+cmd|' /C calc'!A0", phone="+91 98765 43210"),
        lead(remarks="\t=1+1"),
        lead(phone="-", source="- (none)"),
    ]
    result = load_file(write_csv(rows), "formula")
    stored = fetch_rows(warehouse, "formula")

    assert stored[2]["company_name"] == '\'=HYPERLINK("http://evil.example","Acme")'
    assert stored[2]["formula_originals"] == {
        "company_name": '=HYPERLINK("http://evil.example","Acme")'
    }
    assert stored[3]["contact_person"] == "'@SUM(1+1)"
    assert stored[3]["extra"] == {"Remarks": "'+cmd|' /C calc'!A0"}
    assert stored[3]["formula_originals"] == {
        "contact_person": "@SUM(1+1)",
        "extra.Remarks": "+cmd|' /C calc'!A0",
    }
    assert stored[4]["address"] == "'-2+3+cmd|' /C calc'!A0"
    # A leading + is neutralised in a phone cell too; the usable number is the E.164 one.
    assert stored[4]["phone"] == "'+91 98765 43210"
    assert stored[4]["phone_e164"] == "+919876543210"
    assert stored[4]["formula_originals"] == {
        "address": "-2+3+cmd|' /C calc'!A0",
        "phone": "+91 98765 43210",
    }
    assert stored[5]["extra"] == {"Remarks": "'=1+1"}
    assert stored[6]["source"] == "'- (none)"
    assert [stored[n]["formula_neutralised"] for n in range(2, 7)] == [True] * 5
    assert result.formula_neutralised == 5
    # A planted formula must not count as a usable company name either way: it is kept.
    assert stored[2]["company_key"] == "hyperlink http evil example acme"


def test_reload_same_file_is_idempotent(warehouse, write_csv, lead) -> None:
    path = write_csv([lead(), lead(phone="1"), lead()])
    first = load_file(path, "again")
    loaded_at = warehouse.execute(
        "SELECT loaded_at FROM raw.prelead_batches WHERE batch = 'again'"
    ).fetchone()
    second = load_file(path, "again")

    assert first.already_loaded is False and second.already_loaded is True
    assert (
        first.summary()
        == second.summary()
        == {
            "batch": "again",
            "rows": 3,
            "valid": 2,
            "invalid": 1,
            "duplicates_in_batch": 2,
        }
    )
    count = warehouse.execute("SELECT count(*) FROM raw.prelead_rows").fetchone()[0]
    assert count == 3
    assert (
        warehouse.execute(
            "SELECT loaded_at FROM raw.prelead_batches WHERE batch = 'again'"
        ).fetchone()
        == loaded_at
    )
    # The same file under another name is another batch.
    assert load_file(path, "again-2").already_loaded is False
    assert warehouse.execute("SELECT count(*) FROM raw.prelead_rows").fetchone()[0] == 6


def test_different_file_under_taken_batch_is_refused(warehouse, write_csv, lead, tmp_path) -> None:
    load_file(write_csv([lead()], name="a.csv"), "taken")
    other = write_csv([lead(), lead(company="Beta")], name="b.csv")
    with pytest.raises(BatchConflictError, match="already holds a different file"):
        load_file(other, "taken")
    assert batch_row(warehouse, "taken")[0] == 1
    assert warehouse.execute("SELECT count(*) FROM raw.prelead_rows").fetchone()[0] == 1


@pytest.mark.parametrize("workers", [1, 2])
def test_failed_load_leaves_nothing_behind(warehouse, tmp_path, monkeypatch, workers) -> None:
    monkeypatch.setattr("ingest.prelead.parallel.CHUNK_ROWS", 10)
    path = tmp_path / "broken.csv"
    good_rows = "".join(f"Acme {n},a{n}@acme.in\n" for n in range(50))
    # an unterminated quote swallows the rest: over the csv module's field limit at the end
    path.write_text("Company,Email\n" + good_rows + '"unterminated\n' + ("x" * 999 + "\n") * 200)
    with pytest.raises(PreleadFileError, match="malformed CSV"):
        load_file(path, "broken", workers=workers)
    assert warehouse.execute("SELECT count(*) FROM raw.prelead_rows").fetchone()[0] == 0
    assert warehouse.execute("SELECT count(*) FROM raw.prelead_batches").fetchone()[0] == 0
    # and the batch name is still free
    path.write_text("Company,Email\n" + good_rows)
    assert load_file(path, "broken").rows == 50


def test_xlsx_load(warehouse, tmp_path, fetch_rows) -> None:
    path = tmp_path / "leads.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Company Name", "GSTIN", "Mobile", "Email", "State", "Notes"])
    sheet.append(["Acme Chemicals Pvt Ltd", "27AAPFU0939F1ZV", 9876543210, "r@acme.in", "MH", None])
    sheet.append(["Beta", None, None, "b@beta.in", "Kerala", '=WEBSERVICE("http://x")'])
    workbook.save(path)

    result = load_file(path, "xlsx")
    stored = fetch_rows(warehouse, "xlsx")
    assert result.rows == 2 and result.valid == 2
    assert stored[2]["phone_e164"] == "+919876543210"
    assert stored[3]["extra"] == {"Notes": '\'=WEBSERVICE("http://x")'}
    assert stored[3]["formula_neutralised"] is True
    assert batch_row(warehouse, "xlsx")[5:] == ("leads.xlsx", 1)


def test_cp1252_file_loads_with_its_characters(warehouse, tmp_path, fetch_rows) -> None:
    path = tmp_path / "legacy.csv"
    path.write_bytes(
        "Company,Contact Person,Email\r\nSociété “Alpha” Chimie,José’s desk,j@alpha.in\r\n".encode(
            "cp1252"
        )
    )
    load_file(path, "cp1252")
    (row,) = fetch_rows(warehouse, "cp1252").values()
    assert row["company_name"] == "Société “Alpha” Chimie"
    assert row["contact_person"] == "José’s desk"
    enc = warehouse.execute("SELECT encoding FROM raw.prelead_batches").fetchone()[0]
    assert enc == "cp1252"


def test_special_characters_survive_copy(warehouse, write_csv, lead, fetch_rows) -> None:
    address = 'Plot 4\\5, "A" Wing\nMIDC\tPhase\r\nII'
    load_file(write_csv([lead(address=address, remarks="50% off \\N")]), "copy-escape")
    (row,) = fetch_rows(warehouse, "copy-escape").values()
    assert row["address"] == address
    assert row["extra"] == {"Remarks": "50% off \\N"}


def test_parallel_validation_matches_in_process(
    warehouse, write_csv, lead, fetch_rows, monkeypatch
) -> None:
    # Small chunks, so duplicates are found across chunk boundaries too.
    monkeypatch.setattr("ingest.prelead.parallel.CHUNK_ROWS", 7)
    rows = []
    for n in range(300):
        rows.append(
            lead(
                company=f"Firm {n % 120}",
                gstin="" if n % 3 else "27AAPFU0939F1ZV",
                email=f"x{n % 150}@firm.in",
                phone="12" if n % 7 == 0 else "9876543210",
            )
        )
    path = write_csv(rows)
    single = load_file(path, "single", workers=1)
    parallel = load_file(path, "parallel", workers=2)
    assert single.summary() | {"batch": "x"} == parallel.summary() | {"batch": "x"}
    columns = "row_no, company_key, gstin, reason_codes, reasons, duplicate_of, duplicate_on, extra"
    a = warehouse.execute(
        f"SELECT {columns} FROM raw.prelead_rows WHERE batch = 'single' ORDER BY row_no"
    ).fetchall()
    b = warehouse.execute(
        f"SELECT {columns} FROM raw.prelead_rows WHERE batch = 'parallel' ORDER BY row_no"
    ).fetchall()
    assert a == b and len(a) == 300
    assert single.duplicates_in_batch > 0 and single.invalid > 0


def test_parallel_validation_with_control_characters(warehouse, write_csv, lead, fetch_rows):
    # Unit/record separator bytes in the file make the workers take rows as lists instead.
    rows = [lead(company=f"Firm {n}", remarks=f"a\x1fb\x1ec {n}") for n in range(40)]
    result = load_file(write_csv(rows), "ctl", workers=2)
    stored = fetch_rows(warehouse, "ctl")
    assert result.rows == 40
    assert stored[41]["extra"] == {"Remarks": "a\x1fb\x1ec 39"}
    assert stored[41]["company_name"] == "Firm 39"


@pytest.mark.parametrize("name", ["", "   ", "a\nb", "x" * 201])
def test_bad_batch_names(warehouse, write_csv, lead, name: str) -> None:
    with pytest.raises(BatchNameError):
        load_file(write_csv([lead()]), name)


def test_reasons_are_json_with_messages(warehouse, write_csv, lead) -> None:
    load_file(write_csv([lead(gstin="27AAPFU0939F1ZA")]), "json")
    reasons = warehouse.execute("SELECT reasons::text FROM raw.prelead_rows").fetchone()[0]
    (reason,) = json.loads(reasons)
    assert reason["code"] == "gstin_checksum" and "expected V" in reason["message"]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_detected_not_stored_as_mojibake(
    warehouse, tmp_path, fetch_rows, codec
) -> None:
    path = tmp_path / "unicode-text.csv"
    text = "Company\tState\tContact Person\r\nShree Gaṇesh Rasāyan\tGujarat\tरवि कुमार\r\n"
    path.write_bytes(text.encode(codec))  # a spreadsheet's "Unicode text" without the BOM
    load_file(path, "u16")
    (row,) = fetch_rows(warehouse, "u16").values()
    assert row["company_name"] == "Shree Gaṇesh Rasāyan"
    assert row["contact_person"] == "रवि कुमार" and row["state_name"] == "Gujarat"
    enc = warehouse.execute("SELECT encoding FROM raw.prelead_batches").fetchone()[0]
    assert enc == codec


def test_broken_utf16_without_bom_is_refused(warehouse, tmp_path) -> None:
    path = tmp_path / "cut.csv"
    path.write_bytes("Company\r\nAcme\r\n".encode("utf-16-le") + b"A")  # an odd byte at the end
    with pytest.raises(PreleadFileError, match="UTF-16"):
        load_file(path, "cut")
    assert warehouse.execute("SELECT count(*) FROM raw.prelead_rows").fetchone()[0] == 0


def test_over_long_xlsx_cell_keeps_the_row_cut_with_a_reason(
    warehouse, tmp_path, fetch_rows, monkeypatch
) -> None:
    """The row with an over-long cell is stored with the cell cut to the cap and the reason;
    the other rows land untouched (issue 9: the whole cell was stored before)."""
    monkeypatch.setenv("PRELEAD_MAX_CELL_CHARS", "2000")
    path = tmp_path / "huge.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Company Name", "Email", "State", "Remarks"])
    sheet.append(["Acme Chemicals", "r@acme.in", "MH", "x" * 30_000])
    sheet.append(["Beta Chem", "b@beta.in", "Kerala", "fine"])
    workbook.save(path)

    result = load_file(path, "huge")
    stored = fetch_rows(warehouse, "huge")
    assert (result.rows, result.valid, result.invalid) == (2, 1, 1)
    assert stored[2]["company_name"] == "Acme Chemicals"
    assert stored[2]["extra"] == {"Remarks": "x" * 2000}
    assert stored[2]["reason_codes"] == ["cell_too_long"]
    assert stored[2]["reasons"][0]["field"] == "extra.Remarks"
    assert "cut to its first 2000" in stored[2]["reasons"][0]["message"]
    assert stored[3]["is_valid"] is True and stored[3]["extra"] == {"Remarks": "fine"}


def test_rejected_large_lead_list_is_streamed_to_the_store(warehouse, tmp_path) -> None:
    """A lead list refused by the caps goes to raw.rejects with the reason, its SHA-256 and
    size; the bytes are a file in the content store, never a bytea."""
    import hashlib
    import zipfile

    from ingest.common import store
    from ingest.prelead.sync import sync

    path = tmp_path / "bomb.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["Company", "Remarks"])
    workbook.active.append(["Acme", "fine"])
    workbook.save(path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:  # a 1,000x part
        with archive.open("xl/media/filler.bin", "w", force_zip64=True) as part:
            for _ in range(64):
                part.write(b"A" * (1 << 20))
        archive.writestr("xl/media/noise.bin", random.Random(3).randbytes(1_200_000))
    data = path.read_bytes()
    assert len(data) > 1 << 20  # over the inline limit: must go to the content store

    report = sync(warehouse, [path])
    assert (report.seen, report.rejected) == (1, 1)
    reason, sha, size, payload, in_store = warehouse.execute(
        "SELECT reason, sha256, size_bytes, payload, payload_in_store FROM raw.rejects"
        " WHERE source = 'prelead'"
    ).fetchone()
    assert "zip bomb" in reason
    assert sha == hashlib.sha256(data).hexdigest() and size == len(data)
    assert payload is None and in_store is True
    assert store.blob_path(store.rejects_root(), sha).read_bytes() == data


@pytest.mark.parametrize("workers", [1, 2])
def test_over_long_csv_cell_is_cut_with_a_reason_in_process_and_in_parallel(
    warehouse, tmp_path, fetch_rows, monkeypatch, workers
) -> None:
    """CSV as XLSX: the row is kept, the cell cut to the cap, the reason recorded; with
    worker processes too (rows with a cut cell travel unpacked, keeping their mark)."""
    monkeypatch.setenv("PRELEAD_MAX_CELL_CHARS", "1000")
    path = tmp_path / "long.csv"
    path.write_text(
        "Company,Email,Remarks\n"
        f"Acme,a@acme.in,{'r' * 200_000}\n"  # over the csv module's own 131,072 limit too
        "Beta,b@beta.in,fine\n",
        encoding="utf-8",
    )
    result = load_file(path, f"long{workers}", workers=workers)
    stored = fetch_rows(warehouse, f"long{workers}")
    assert (result.rows, result.invalid) == (2, 1)
    assert stored[2]["extra"] == {"Remarks": "r" * 1000}
    assert stored[2]["reasons"] == [
        {
            "code": "cell_too_long",
            "field": "extra.Remarks",
            "message": "cell was 200000 characters; stored cut to its first 1000 "
            "(PRELEAD_MAX_CELL_CHARS)",
        }
    ]
    assert stored[3]["is_valid"] is True


def test_csv_cell_over_the_cap_across_lines_refuses_the_file(warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv("PRELEAD_MAX_CELL_CHARS", "1000")
    path = tmp_path / "multiline.csv"
    body = "\n".join(["x" * 500] * 5)
    path.write_text(f'Company,Remarks\nAcme,"{body}"\n', encoding="utf-8")
    with pytest.raises(PreleadFileError, match="row 2 has a quoted cell spanning several lines"):
        load_file(path, "multiline")


def test_workers_fork_only_from_a_single_threaded_process() -> None:
    # A forked child inherits other threads' locks as they were (possibly held) and can wait
    # on them forever: CI once hung 80 minutes that way. With another thread running, the
    # workers must come from a fork server (or spawn), never a fork of this process.
    import subprocess
    import sys
    import threading

    from ingest.prelead import parallel

    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert parallel._context().get_start_method() != "fork"
    finally:
        release.set()
        other.join()
    alone = subprocess.run(
        [
            sys.executable,
            "-c",
            "from ingest.prelead import parallel; print(parallel._context().get_start_method())",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert alone.stdout.strip() == "fork"
