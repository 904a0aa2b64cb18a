"""Signing in and out in a real browser against the served app; a page's URL opened
before anyone signed in shows nothing of the page."""

from __future__ import annotations

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

from pebble import auth, events

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "correct horse battery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served_app(warehouse: psycopg.Connection, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    app = str(Path(sys.executable).parent / "streamlit")
    args = ["--server.port", str(port), "--server.address", "127.0.0.1",
            "--server.headless", "true", "--browser.gatherUsageStats", "false"]  # fmt: skip
    with open(tmp_path / "app.log", "wb") as log:
        proc = subprocess.Popen(
            [app, "run", "app/streamlit_app.py", *args],
            cwd=ROOT,
            env=dict(os.environ),
            stdout=log,
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


def test_sign_in_and_out_in_a_browser(warehouse: psycopg.Connection, served_app: str) -> None:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "chromium is missing: run scripts/install-system-deps.sh"
    auth.add_user(warehouse, "arjun", "admin", PASSWORD, actor="test", display_name="Arjun")
    auth.add_user(warehouse, "qasim", "qc", PASSWORD, actor="test", display_name="Qasim Ali")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            # First request of a fresh server, straight to a page's URL: Streamlit may serve
            # the file without the entry script (pages-folder mode); the page refuses.
            page = browser.new_page()
            page.goto(served_app + "users")
            page.get_by_text("Sign in").first.wait_for(timeout=45_000)
            assert page.get_by_text("arjun", exact=True).count() == 0
            page.close()

            page = browser.new_page()
            page.goto(served_app)
            page.get_by_role("textbox", name="User name").fill("qasim")
            page.get_by_role("textbox", name="Password").fill("not my password")
            page.get_by_role("button", name="Sign in").click()
            page.get_by_text("Wrong user name or password.").wait_for(timeout=30_000)

            page.get_by_role("textbox", name="Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_text("Signed in as Qasim Ali (qc)").wait_for(timeout=30_000)
            page.get_by_text("There is no screen for your role yet.").wait_for()

            page.get_by_role("button", name="Sign out").click()
            page.get_by_label("User name").wait_for(timeout=30_000)
            assert page.get_by_text("Signed in as").count() == 0
        finally:
            browser.close()
    assert [e.event_type for e in events.history(warehouse, "user", "qasim")] == [
        "UserAdded",
        "SignInFailed",
        "SignedIn",
        "SignedOut",
    ]
