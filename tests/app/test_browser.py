"""End to end in a real browser: Streamlit serves the app, headless Chromium reads it."""

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served_app(warehouse: psycopg.Connection, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = dict(os.environ)
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "streamlit"),
            "run",
            "app/streamlit_app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=open(tmp_path / "app.log", "wb"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_kanban_renders_cards_in_a_browser(add_card, served_app: str) -> None:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "chromium is missing: run scripts/install-system-deps.sh"
    add_card("c1", "Rate enquiry - Zinc Oxide", "new", "sales")
    add_card("c2", '<img src=x onerror="window.pwned=1">Payment', "done", "accounts")

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page()
            page.goto(served_app)
            page.get_by_text("Rate enquiry - Zinc Oxide").wait_for(timeout=45_000)
            page.get_by_text("New (1)").wait_for()
            page.get_by_text("Done (1)").wait_for()
            # the HTML in the subject is shown as text and never runs
            page.get_by_text('<img src=x onerror="window.pwned=1">Payment').wait_for()
            assert page.evaluate("window.pwned") is None
            assert page.locator("img[src=x]").count() == 0
            # the people using the app get no developer toolbar ("Deploy", rerun ...)
            page.locator('[data-testid="stToolbar"]').wait_for(state="attached")
            assert page.locator('[data-testid="stAppDeployButton"]').count() == 0
            assert page.get_by_role("button", name="Deploy").count() == 0
        finally:
            browser.close()
