"""The demo world's prelead batches load, and agree with the generator's ground truth."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

from typer.testing import CliRunner

from ingest.prelead.loader import LoadResult, load_file, load_folder
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
    results = load_folder(folder)
    assert results and all(isinstance(r, LoadResult) for r in results)
    by_file: dict[str, list[dict]] = {}
    for t in truth:
        by_file.setdefault(Path(t["file"]).stem, []).append(t)
    assert {r.batch for r in results} == set(by_file)  # truth.jsonl itself is not a lead list

    for result in results:
        stored = warehouse.execute(
            "SELECT reason_codes, formula_neutralised, duplicate_of FROM raw.prelead_rows"
            " WHERE batch = %s ORDER BY row_no",
            (result.batch,),
        ).fetchall()
        expected = by_file[result.batch]
        assert len(stored) == len(expected) == result.rows
        for (codes, neutralised, duplicate_of), t in zip(stored, expected, strict=True):
            gstin_bad = "gstin_checksum" in codes or "gstin_format" in codes
            if t["gstin_valid"] is not None:
                assert gstin_bad is not t["gstin_valid"], t
            assert neutralised is t["formula_cell"], t
            if t["duplicate_of_row"] is not None:
                assert duplicate_of is not None, t

    again = load_folder(folder)
    assert [r.summary() for r in again] == [r.summary() for r in results]  # type: ignore[union-attr]


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
