"""`pebble prelead load`: JSON output and clear errors without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pebble.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_load_prints_exactly_the_counts(warehouse, write_csv, lead) -> None:
    path = write_csv([lead(), lead(email="nope"), lead(company="Beta", gstin="", email="b@b.in")])
    result = runner.invoke(app, ["prelead", "load", str(path), "--batch", "nov-expo"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "batch": "nov-expo",
        "rows": 3,
        "valid": 2,
        "invalid": 1,
        "duplicates_in_batch": 1,
    }
    stored = warehouse.execute("SELECT count(*) FROM raw.prelead_rows").fetchone()[0]
    assert stored == 3

    again = runner.invoke(app, ["prelead", "load", str(path), "--batch", "nov-expo"])
    assert again.exit_code == 0
    assert json.loads(again.stdout) == json.loads(result.stdout)
    assert "already loaded" in again.stderr


def test_console_command_end_to_end(warehouse, write_csv, lead, pebble_env) -> None:
    path = write_csv([lead()])
    done = subprocess.run(
        [sys.executable, "-m", "pebble.cli", "prelead", "load", str(path), "--batch", "b1"],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        '{"batch": "b1", "rows": 1, "valid": 1, "invalid": 0, "duplicates_in_batch": 0}'
    )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "the file is empty"),
        ("leads.docx", b"PK\x03\x04rest", "unsupported file type .docx"),
        ("leads.json", b"[]", "unsupported file type .json"),
        ("names.csv", b"Name,Phone\nRavi,9876543210\n", "no company column"),
        ("garbage.xlsx", b"PK\x03\x04not really a zip", "not a readable XLSX"),
    ],
)
def test_bad_files_give_clear_errors(
    warehouse, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = runner.invoke(app, ["prelead", "load", str(path), "--batch", "x"])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_unreadable_file(warehouse, tmp_path: Path) -> None:
    result = runner.invoke(app, ["prelead", "load", str(tmp_path / "missing.csv"), "--batch", "x"])
    assert result.exit_code == 2
    assert "missing.csv: no such file" in result.stderr
    directory = runner.invoke(app, ["prelead", "load", str(tmp_path), "--batch", "x"])
    assert directory.exit_code == 2 and "is a folder, not a file" in directory.stderr


def test_conflicting_batch(warehouse, write_csv, lead) -> None:
    runner.invoke(app, ["prelead", "load", str(write_csv([lead()], name="a.csv")), "-b", "x"])
    other = write_csv([lead(company="Other")], name="b.csv")
    result = runner.invoke(app, ["prelead", "load", str(other), "--batch", "x"])
    assert result.exit_code == 2
    assert "already holds a different file" in result.stderr
    assert result.stdout == ""


def test_unreachable_warehouse(tmp_path: Path, write_csv, lead, monkeypatch) -> None:
    import socket

    from pebble.settings import get_settings

    with socket.socket() as probe:  # a port nothing listens on: bound, then released
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{port}/nowhere")
    monkeypatch.setenv("PEBBLE_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["prelead", "load", str(write_csv([lead()])), "-b", "x"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot reach the warehouse")
    assert "Traceback" not in result.output
