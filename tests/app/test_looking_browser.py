"""The looking screens end to end in a real browser (headless Debian chromium, the whole app
served by Streamlit): the QC dashboard, Company 360 and the managers' dashboards.

- qasim (qc) reads the lab and acknowledges an alert with a note: it lands as
  ``QCAlertAcknowledged`` under his name;
- priya (sales) finds a company by its GSTIN and opens its page; HTML in its name is text;
- manisha (manager) reads every dashboard tab.

Screenshots of each go to ``docs/screens/`` (the README shows them). The data is each page's
own test data (the QC marts built from their dbt SQL over a landed lab; the company's marts
from their contracts; the dashboards' marts from their contracts)."""

from __future__ import annotations

import psycopg

from pebble import auth
from tests.app import qc_marts
from tests.app.conftest import wait_for
from tests.app.e2e import PASSWORD, shot, sign_in, support

company_support = support("test_company_page.py")
world = company_support.world  # the company page's fixture: a company and its marts


def test_qc_acknowledges_an_alert_in_a_browser(
    warehouse: psycopg.Connection, served_app: str, browser
) -> None:
    from playwright.sync_api import expect

    qc_marts.build_qc_marts(warehouse)
    auth.add_user(warehouse, "qasim", "qc", PASSWORD, actor="test")
    page = sign_in(browser, served_app, "qasim")  # his first screen: Quality control
    page.get_by_text("Open alerts").first.wait_for(timeout=60_000)
    shot(page, "qc")
    page.get_by_role("tab", name="Alerts").click()
    page.get_by_role("textbox", name="Note (required)").fill("Batch held; retest ordered")
    page.get_by_role("button", name="Acknowledge").click()
    acked = wait_for(
        lambda: warehouse.execute(
            "SELECT actor, payload ->> 'note' FROM ops.events"
            " WHERE event_type = 'QCAlertAcknowledged'"
        ).fetchall()
    )
    assert acked == [("qasim", "Batch held; retest ordered")]
    expect(page.get_by_text("acknowledged.").first).to_be_visible(timeout=30_000)
    shot(page, "qc-alerts")


def test_sales_finds_a_company_by_gstin_in_a_browser(
    world: psycopg.Connection, served_app: str, browser
) -> None:
    from playwright.sync_api import expect

    auth.add_user(world, "priya", "sales", PASSWORD, actor="test")
    page = sign_in(browser, served_app, "priya", "Company 360")
    search = page.get_by_role(
        "textbox", name="Find a company: name, GSTIN, PAN, CIN or e-mail domain"
    )
    search.fill(company_support.GSTIN_KA)
    page.get_by_role("button", name="Search").click()
    # the page's "Open" button (the select box's own toggle is also named "open")
    page.locator(".st-key-company_open button").click()
    # the name carries HTML and Markdown: shown as the characters they are
    name = page.locator('[data-testid="stText"]', has_text=company_support.NAME)
    expect(name.first).to_be_visible(timeout=60_000)
    assert page.locator("script", has_text="alert").count() == 0
    shot(page, "company")
