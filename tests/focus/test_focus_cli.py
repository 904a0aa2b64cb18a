"""`pebble focus ...` and `pebble sim focus` from the outside."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import requests
from typer.testing import CliRunner

from demo.sim.focus import FocusSimulator
from pebble.cli import app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in list(os.environ):
        if name.startswith("FOCUS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("FOCUS_MAX_RETRIES", "1")
    monkeypatch.setenv("FOCUS_BACKOFF_BASE_S", "0.01")
    return CliRunner()


def test_pull_prints_normalised_json_lines(runner: CliRunner, simulator: FocusSimulator) -> None:
    result = runner.invoke(
        app, ["focus", "pull", "--url", simulator.url, "--voucher-type", "Sales Orders"]
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["doc_no"] for r in records] == [f"SO/25-26/0000{n}" for n in range(1, 6)]
    assert records[1]["lines"][0]["item_name"] == "Titanium Dioxide"


def test_pull_one_document_window_and_raw(runner: CliRunner, simulator: FocusSimulator) -> None:
    base = ["focus", "pull", "--url", simulator.url]
    one = runner.invoke(
        app, [*base, "--voucher-type", "qc_inspections", "--doc-no", "QC/25-26/00077"]
    )
    assert one.exit_code == 0, one.output
    assert json.loads(one.stdout)["batch_no"] == "B-ZNO-2510-01"
    window = runner.invoke(
        app,
        [
            *base,
            "--voucher-type",
            "sales_orders",
            "--from-date",
            "2025-10-03",
            "--to-date",
            "2025-10-05",
        ],
    )
    assert [json.loads(x)["doc_no"] for x in window.stdout.splitlines()] == [
        "SO/25-26/00002",
        "SO/25-26/00003",
    ]
    raw = runner.invoke(app, [*base, "--voucher-type", "Sales Invoices", "--raw"])
    assert json.loads(raw.stdout.splitlines()[0])["Header"]["sLRNo"] == "LR-5521"


def test_errors_are_one_clear_line_and_non_zero(
    runner: CliRunner, simulator: FocusSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = ["focus", "pull", "--url", simulator.url, "--voucher-type", "sales_orders"]
    monkeypatch.setenv("FOCUS_PASSWORD", "wrong-password")
    denied = runner.invoke(app, base)
    assert denied.exit_code == 1
    assert "FOCUS_AUTH_FAILED" in denied.stderr and "Traceback" not in denied.output
    assert "wrong-password" not in denied.output
    monkeypatch.delenv("FOCUS_PASSWORD")

    simulator.faults.set("down")
    down = runner.invoke(app, base)
    assert down.exit_code == 1 and "FOCUS_CONNECTION_FAILED" in down.stderr
    assert down.stdout == ""
    simulator.faults.set("none")

    missing = runner.invoke(app, [*base, "--doc-no", "SO/25-26/99999"])
    assert missing.exit_code == 1 and "FOCUS_NOT_FOUND" in missing.stderr

    unknown = runner.invoke(app, ["focus", "pull", "--url", simulator.url, "--voucher-type", "GRN"])
    assert unknown.exit_code == 2 and "unknown voucher type" in unknown.stderr
    bad_date = runner.invoke(app, [*base, "--from-date", "last tuesday"])
    assert bad_date.exit_code == 2 and "--from-date" in bad_date.stderr
    bad_url = runner.invoke(
        app, ["focus", "pull", "--url", "focus:8090", "--voucher-type", "sales_orders"]
    )
    assert bad_url.exit_code == 2 and "FOCUS_URL" in bad_url.stderr


def test_sync_lands_and_is_idempotent(
    runner: CliRunner, simulator: FocusSimulator, warehouse: psycopg.Connection
) -> None:
    first = runner.invoke(app, ["focus", "sync", "--url", simulator.url])
    assert first.exit_code == 0, first.output
    summaries = [json.loads(line) for line in first.stdout.splitlines()]
    assert [(s["kind"], s["inserted"]) for s in summaries] == [
        ("sales_orders", 5),
        ("invoices", 2),
        ("qc_inspections", 2),
    ]
    again = runner.invoke(
        app, ["focus", "sync", "--url", simulator.url, "--voucher-type", "invoices"]
    )
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)
    assert (summary["inserted"], summary["updated"], summary["unchanged"]) == (0, 0, 2)
    assert warehouse.execute("SELECT count(*) FROM raw.focus_invoices").fetchone() == (2,)


def test_sim_command_serves_until_stopped(world: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "pebble.cli", "sim", "focus", "--port", "0", "--world", str(world)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert "9 documents" in banner, banner + (process.stderr.read() if process.stderr else "")
        url = banner.strip().rsplit(" ", 1)[-1]
        login = {"data": [{"Username": "pebble", "password": "pebble-demo", "CompanyId": "020"}]}
        assert requests.post(f"{url}/Focus8API/Login", json=login, timeout=5).json()["result"] == 1
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_sim_command_reports_missing_world(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["sim", "focus", "--port", "0", "--world", str(tmp_path / "no")]
    )
    assert result.exit_code == 1 and "demo world directory not found" in result.stderr
