"""The managers' dashboards end to end in a real browser (headless Debian chromium, the
whole app served by Streamlit): manisha (manager) opens each tab; a screenshot of each goes
to ``docs/screens/`` (the README shows them). The data is the dashboards page's own test
data: the real KPI models built by dbt over the inputs that test writes."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from pebble import auth
from tests.app.conftest import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
SCREENS = ROOT / "docs" / "screens"
PASSWORD = "correct horse battery"


def _support(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"e2e_{name}", Path(__file__).with_name(name))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dashboards_support = _support("test_dashboards_page.py")
world = dashboards_support.world  # the dashboards page's fixture: KPI marts built by dbt


def test_the_manager_reads_every_dashboard_in_a_browser(
    world: dict[str, Any], warehouse, served_app: str
) -> None:
    from playwright.sync_api import expect, sync_playwright

    assert Path(CHROMIUM).exists(), "chromium is missing: run scripts/install-system-deps.sh"
    auth.add_user(warehouse, "manisha", "manager", PASSWORD, actor="test")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 1400}).new_page()
            page.goto(served_app)
            page.get_by_role("textbox", name="User name").fill("manisha")
            page.get_by_role("textbox", name="Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_text("Signed in as").first.wait_for(timeout=60_000)
            page.get_by_role("link", name="Dashboards").click()
            for tab in ("Mail", "Commercial", "Stock", "Quality"):
                page.get_by_role("tab", name=tab).click()
                # each tab draws its charts (plotly) and its tables with CSV downloads
                expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=60_000)
                expect(page.get_by_role("button", name="Download CSV").first).to_be_visible()
                assert page.get_by_text("Traceback").count() == 0
                page.wait_for_timeout(1500)  # let Streamlit finish drawing
                SCREENS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENS / f"dashboards-{tab.lower()}.png"))
        finally:
            browser.close()
