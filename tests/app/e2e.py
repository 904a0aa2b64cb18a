"""What the browser end-to-end tests share: another test module's fixtures, signing in as a
demo person in a new browser session, and screenshots into ``docs/screens/``."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCREENS = ROOT / "docs" / "screens"
PASSWORD = "correct horse battery"


def support(name: str) -> Any:
    """The test module ``tests/app/<name>`` loaded on its own, for its fixtures and data."""
    spec = importlib.util.spec_from_file_location(f"e2e_{name}", Path(__file__).with_name(name))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def shot(page: Any, name: str, *, full_page: bool = True) -> None:
    page.wait_for_timeout(1500)  # let Streamlit finish drawing (no spinner in the shot)
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=full_page)


def sign_in(
    browser: Any, url: str, name: str, screen: str | None = None, *, height: int = 1000
) -> Any:
    """A new browser session signed in as ``name``, on ``screen`` (the menu entry; reloading
    a URL would start a new, signed-out session)."""
    page = browser.new_context(viewport={"width": 1400, "height": height}).new_page()
    page.goto(url)
    page.get_by_role("textbox", name="User name").fill(name)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in as").first.wait_for(timeout=60_000)
    if screen is not None:
        page.get_by_role("link", name=screen).click()
    return page
