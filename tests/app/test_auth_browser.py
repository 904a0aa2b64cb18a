"""Signing in and out in a real browser against the served app; a page's URL opened
before anyone signed in shows nothing of the page."""

from __future__ import annotations

from pathlib import Path

import psycopg

from pebble import auth, events
from tests.app.conftest import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


def test_sign_in_and_out_in_a_browser(warehouse: psycopg.Connection, served_app: str) -> None:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "chromium is missing: run scripts/install-system-deps.sh"
    auth.add_user(warehouse, "arjun", "admin", PASSWORD, actor="test", display_name="Arjun")
    auth.add_user(warehouse, "qasim", "qc", PASSWORD, actor="test", display_name="Qasim Ali")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
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
            # his screen: the QC dashboard (nothing built yet in this warehouse)
            page.get_by_role("heading", name="Quality control").wait_for(timeout=30_000)

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
