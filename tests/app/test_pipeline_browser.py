"""The pipeline board in a real browser: sign in, open the Pipeline page, drag a deal to
another stage (an event; the column's count and value follow), and drop one on Lost, which
asks for the reason before it closes the deal."""

from pathlib import Path

import psycopg

from pebble import auth
from tests.app.conftest import CHROMIUM, CHROMIUM_ARGS, mart, wait_for

PASSWORD = "correct horse battery"
ZINC = "deal:" + "a" * 32
TITANIA = "deal:" + "b" * 32


def _deal_events(conn: psycopg.Connection, deal_id: str) -> list[tuple]:
    return conn.execute(
        "SELECT entity_version, event_type, actor, payload FROM ops.events "
        "WHERE entity_type = 'deal' AND entity_id = %s ORDER BY entity_version",
        (deal_id,),
    ).fetchall()


def test_drag_a_deal_between_stages(warehouse: psycopg.Connection, served_app: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    assert Path(CHROMIUM).exists(), "chromium is missing: run scripts/install-system-deps.sh"
    auth.add_user(warehouse, "priya", "sales", PASSWORD, actor="test")
    mart(
        warehouse,
        "deal_pipeline",
        [
            {"deal_key": ZINC, "thread_key": "T1", "company_key": "pan:AACCA1234F",
             "company_name": "Acme Rubber", "product": "Zinc Oxide", "value_inr": 386400,
             "stage": "sample", "is_open": True, "owner": "ravi", "days_in_stage": 9},
            {"deal_key": TITANIA, "thread_key": "T2", "company_key": "pan:AAFCB5678K",
             "company_name": "Bharat Paints", "product": "Titanium Dioxide",
             "value_inr": 1250000, "stage": "quoted", "is_open": True, "owner": "priya",
             "days_in_stage": 2},
        ],
    )  # fmt: skip

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
            page.goto(served_app)
            page.get_by_role("textbox", name="User name").fill("priya")
            page.get_by_role("textbox", name="Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("link", name="Pipeline").click()
            page.wait_for_url("**/pipeline", timeout=60_000)
            frame = page.frame_locator('[data-testid="stCustomComponentV1"]')
            frame.locator(".card").first.wait_for(timeout=60_000)
            expect(frame.get_by_text("Sample sent · ₹3,86,400 (1)")).to_be_visible()

            deal = frame.locator(".card", has_text="Acme Rubber")
            deal.drag_to(frame.locator('.column[data-column="negotiation"]'))
            assert wait_for(lambda: _deal_events(warehouse, ZINC)) == [
                (1, "DealMoved", "priya", {"to": "negotiation", "from_stage": "sample_sent"})
            ]
            expect(frame.get_by_text("Negotiation · ₹3,86,400 (1)")).to_be_visible(timeout=30_000)
            expect(frame.get_by_text("Sample sent · ₹0 (0)")).to_be_visible()

            # a drop on Lost asks why before anything is written
            frame.locator(".card", has_text="Bharat Paints").drag_to(
                frame.locator('.column[data-column="lost"]')
            )
            reason = page.get_by_role("textbox", name="Reason (required)")
            reason.wait_for(timeout=30_000)
            assert _deal_events(warehouse, TITANIA) == []
            reason.fill("No budget this year")
            reason.press("Enter")
            page.get_by_role("button", name="Close as lost").click()
            assert wait_for(lambda: _deal_events(warehouse, TITANIA)) == [
                (1, "DealClosed", "priya", {"outcome": "lost", "reason": "No budget this year"})
            ]
            expect(frame.get_by_text("Lost · ₹12,50,000 (1)")).to_be_visible(timeout=30_000)
        finally:
            browser.close()
