"""The managers' dashboards end to end in a real browser (headless Debian chromium, the
whole app served by Streamlit): manisha (manager) opens each tab; a screenshot of each goes
to ``docs/screens/`` (the README shows them). The data is the dashboards page's own test
data: the real KPI models built by dbt over the inputs that test writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pebble import auth
from tests.app.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.app.e2e import PASSWORD, shot, sign_in, support

dashboards_support = support("test_dashboards_page.py")
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
            page = sign_in(browser, served_app, "manisha", "Dashboards", height=1400)
            for tab in ("Mail", "Commercial", "Stock", "Quality"):
                page.get_by_role("tab", name=tab).click()
                # each tab draws its charts (plotly) and its tables with CSV downloads
                expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=60_000)
                expect(page.get_by_role("button", name="Download CSV").first).to_be_visible()
                assert page.get_by_text("Traceback").count() == 0
                shot(page, f"dashboards-{tab.lower()}", full_page=False)
        finally:
            browser.close()
