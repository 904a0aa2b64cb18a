"""The demo world's prelead batches load, and agree with the generator's ground truth."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

from typer.testing import CliRunner

from ingest.prelead.land import LoadResult, load_file
from ingest.prelead.sync import sync
from pebble.cli import app

ROOT = Path(__file__).resolve().parents[2]


def generate_world(out: Path) -> Path:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pebble.cli",
            "demo",
            "generate",
            "--scale",
            "0.05",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return out / "prelead"


def test_demo_batches_match_truth(warehouse, tmp_path: Path) -> None:
    folder = generate_world(tmp_path / "world")
    truth = [json.loads(line) for line in (folder / "truth.jsonl").read_text().splitlines()]
    report = sync(warehouse, [folder])
    assert report.parts and report.rejected == 0 and report.accounted
    by_file: dict[str, list[dict]] = {}
    for t in truth:
        by_file.setdefault(Path(t["file"]).stem, []).append(t)
    assert set(report.parts) == set(by_file)  # truth.jsonl itself is not a lead list

    for batch, part in report.parts.items():
        stored = warehouse.execute(
            "SELECT reason_codes, formula_neutralised, duplicate_of FROM raw.prelead_rows"
            " WHERE batch = %s ORDER BY row_no",
            (batch,),
        ).fetchall()
        expected = by_file[batch]
        assert len(stored) == len(expected) == part.seen == part.landed == part.extra["rows"]
        for (codes, neutralised, duplicate_of), t in zip(stored, expected, strict=True):
            gstin_bad = "gstin_checksum" in codes or "gstin_format" in codes
            if t["gstin_valid"] is not None:
                assert gstin_bad is not t["gstin_valid"], t
            assert neutralised is t["formula_cell"], t
            if t["duplicate_of_row"] is not None:
                assert duplicate_of is not None, t

    again = sync(warehouse, [folder])
    assert (again.landed, again.duplicates) == (0, report.landed)
    assert [p.extra["valid"] for p in again.parts.values()] == [
        p.extra["valid"] for p in report.parts.values()
    ]


def test_load_folder_command_reports_each_file(warehouse, tmp_path: Path, write_csv, lead) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    write_csv([lead()], name="drop/a.csv")
    (folder / "b.csv").write_bytes(b"")
    (folder / "notes.txt").write_text("ignored")
    result = CliRunner().invoke(app, ["prelead", "load-folder", str(folder)])
    assert result.exit_code == 2
    assert json.loads(result.stdout) == {
        "batch": "a",
        "rows": 1,
        "valid": 1,
        "invalid": 0,
        "duplicates_in_batch": 0,
    }
    assert "b.csv: the file is empty" in result.stderr


def test_concurrent_loads_of_one_batch(warehouse, write_csv, lead) -> None:
    path = write_csv([lead(company=f"Firm {n}", email=f"f{n}@x.in") for n in range(200)])
    results: list[LoadResult] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(load_file(path, "shared"))
        except BaseException as exc:  # collected, then asserted empty below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(r.already_loaded for r in results) == [False, True, True]
    assert warehouse.execute("SELECT count(*) FROM raw.prelead_rows").fetchone()[0] == 200


def test_sync_lands_a_folder_and_rejects_what_it_cannot_read(
    warehouse, tmp_path: Path, write_csv, lead
) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    write_csv([lead(), lead(company="Beta Dyes")], name="drop/a.csv")
    (folder / "b.csv").write_bytes(b"")
    (folder / "c.xlsx").write_bytes(b"PK\x03\x04not really a zip")
    (folder / "d.csv").symlink_to(tmp_path / "drop" / "a.csv")  # never followed
    (folder / "notes.txt").write_text("ignored")
    report = sync(warehouse, [folder], run_id="run-1")
    assert list(report.parts) == ["a", "b", "c", "d"]
    assert (report.seen, report.landed, report.rejected) == (5, 2, 3) and report.accounted
    rejects = warehouse.execute(
        "SELECT source, source_kind, locator, reason, payload, run_id FROM raw.rejects"
        " ORDER BY locator"
    ).fetchall()
    assert [(r[0], r[1], Path(r[2]).name, r[5]) for r in rejects] == [
        ("prelead", "csv", "b.csv", "run-1"),
        ("prelead", "xlsx", "c.xlsx", "run-1"),
        ("prelead", "csv", "d.csv", "run-1"),
    ]
    assert "the file is empty" in rejects[0][3] and bytes(rejects[0][4]) == b""
    assert bytes(rejects[1][4]) == b"PK\x03\x04not really a zip"  # the bytes are kept
    assert "symbolic link" in rejects[2][3] and rejects[2][4] is None

    again = sync(warehouse, [folder])  # idempotent: nothing new, rejects recorded once
    assert (again.landed, again.duplicates, again.rejected) == (0, 2, 3)
    assert warehouse.execute("SELECT count(*) FROM raw.rejects").fetchone() == (3,)

    write_csv([lead(company="Gamma Resins")], name="drop/b.csv")  # fixed at the source
    fixed = sync(warehouse, [folder / "b.csv"])
    assert fixed.landed == 1
    assert warehouse.execute(
        "SELECT resolved_at IS NOT NULL FROM raw.rejects WHERE locator = %s",
        (str(folder / "b.csv"),),
    ).fetchone() == (True,)


def test_empty_drop_folder_is_a_zero_report(warehouse, pebble_env) -> None:
    from pebble.settings import get_settings

    report = sync(warehouse)  # the configured drop folder, created when missing
    assert get_settings().prelead_drops.is_dir()
    assert (report.seen, report.landed, report.rejected, report.parts) == (0, 0, 0, {})


def test_a_large_rejected_file_is_streamed_to_the_content_store(warehouse, tmp_path: Path) -> None:
    import hashlib

    from pebble.settings import get_settings

    path = tmp_path / "huge.xlsx"
    content = b"PK\x03\x04" + bytes(range(256)) * (3 * 4096)  # 3 MiB, not a workbook
    path.write_bytes(content)
    report = sync(warehouse, [path])
    assert report.rejected == 1
    digest = hashlib.sha256(content).hexdigest()
    row = warehouse.execute(
        "SELECT sha256, payload, payload_in_store, size_bytes FROM raw.rejects"
    ).fetchone()
    assert row == (digest, None, True, len(content))
    assert (get_settings().home / "quarantine" / digest[:2] / digest).read_bytes() == content
