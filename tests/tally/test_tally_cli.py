"""`pebble tally pull` on saved exports and live, and `pebble sim tally` end to end."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from typer.testing import CliRunner

from demo.sim.tally import TallySimulator
from ingest.tally.cli import cli
from ingest.tally.client import collection_request

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _save_export(sim: TallySimulator, collection: str, path: Path, utf8: bool) -> Path:
    envelope = collection_request(collection)
    if utf8:
        data = ('<?xml version="1.0" encoding="utf-8"?>' + envelope).encode("utf-8")
    else:
        data = b"\xff\xfe" + envelope.encode("utf-16-le")
    path.write_bytes(requests.post(sim.url, data=data, timeout=10).content)
    return path


@pytest.mark.parametrize("utf8", [False, True], ids=["utf16", "utf8"])
def test_pull_from_file(tally_sim: TallySimulator, tmp_path: Path, utf8: bool) -> None:
    saved = _save_export(tally_sim, "ledgers", tmp_path / "ledgers.xml", utf8)
    assert saved.read_bytes().startswith(b"<" if utf8 else b"\xff\xfe")
    result = runner.invoke(cli, ["pull", "--collection", "ledgers", "--from-file", str(saved)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 9
    shah = next(r for r in lines if r["name"] == "Shah & Sons Detergents")
    assert shah["parent"] == "Sundry Debtors" and shah["pan"] == "AAFFS5678K"


def test_pull_vouchers_from_file_prints_dates_and_lines(tally_sim, tmp_path: Path) -> None:
    saved = _save_export(tally_sim, "vouchers", tmp_path / "daybook.xml", utf8=False)
    result = runner.invoke(cli, ["pull", "-c", "vouchers", "--from-file", str(saved)])
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout.splitlines()[0])
    assert first["date"] == "2025-07-10"
    assert first["lines"][0]["unit"] == "kg"


def test_lineerror_file_is_a_clear_error(tmp_path: Path) -> None:
    saved = tmp_path / "error.xml"
    text = "<RESPONSE><LINEERROR>Could not find Report 'Stock Summry'!</LINEERROR></RESPONSE>"
    saved.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    result = runner.invoke(cli, ["pull", "-c", "stock-items", "--from-file", str(saved)])
    assert result.exit_code == 3
    assert "Could not find Report 'Stock Summry'!" in result.stderr
    assert "Traceback" not in result.output


def test_truncated_file_is_a_clear_error(tally_sim, tmp_path: Path) -> None:
    saved = _save_export(tally_sim, "stock-items", tmp_path / "items.xml", utf8=False)
    saved.write_bytes(saved.read_bytes()[:1000])
    result = runner.invoke(cli, ["pull", "-c", "stock-items", "--from-file", str(saved)])
    assert result.exit_code == 4
    assert "truncated" in result.stderr and "Traceback" not in result.output


def test_missing_file_and_bad_date_are_usage_errors(tmp_path: Path) -> None:
    missing = runner.invoke(cli, ["pull", "-c", "ledgers", "--from-file", str(tmp_path / "x")])
    assert missing.exit_code == 2 and "no such file" in missing.output
    bad = runner.invoke(cli, ["pull", "-c", "vouchers", "--from-date", "yesterday"])
    assert bad.exit_code == 2 and "not a date" in bad.output


def test_connection_failure_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("TALLY_RETRIES", "0")
    result = runner.invoke(cli, ["pull", "-c", "ledgers", "--url", f"http://127.0.0.1:{port}"])
    assert result.exit_code == 5
    assert "TALLY_CONNECTION_FAILED" in result.stderr
    assert f"127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.output


def test_live_pull_with_date_range(tally_sim: TallySimulator) -> None:
    args = ["pull", "-c", "vouchers", "--url", tally_sim.url, "--from-date", "2025-08-01",
            "--to-date", "2025-08-31"]  # fmt: skip
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    numbers = sorted(json.loads(line)["number"] for line in result.stdout.splitlines())
    assert numbers == ["INV/25-26/00002", "SO/25-26/00002"]


def test_sim_and_pull_commands_end_to_end(tiny_world: Path) -> None:
    env = {**os.environ, "TALLY_RETRIES": "0", "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "pebble.cli", "sim", "tally", "--port", "0", "--world",
         str(tiny_world)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        banner = server.stdout.readline()
        match = re.search(r"at (http://127\.0\.0\.1:\d+)", banner)
        assert match, banner + server.stderr.read()
        pulled = subprocess.run(
            [sys.executable, "-m", "pebble.cli", "tally", "pull", "-c", "stock-items", "--url",
             match.group(1)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert pulled.returncode == 0, pulled.stderr
        items = [json.loads(line) for line in pulled.stdout.splitlines()]
        assert {i["name"] for i in items} >= {"Zinc Oxide", "Sodium Bicarbonate"}
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)  # a loaded machine: Ctrl-C still has to stop it
