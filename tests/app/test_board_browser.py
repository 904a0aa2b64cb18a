"""The drag-and-drop board in a real browser: sign in, drag a card to another column, move
another with the card's own "Move to" menu, check untrusted text stays text, that another
session sees the moves within 30 s, and that "Open" opens the card's page."""

from pathlib import Path

import psycopg

from pebble import auth
from tests.app.conftest import CHROMIUM, CHROMIUM_ARGS, wait_for

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


def _moves(conn: psycopg.Connection, card_id: str) -> list[tuple]:
    return conn.execute(
        "SELECT entity_version, actor, payload ->> 'to' FROM ops.events "
        "WHERE entity_type = 'card' AND entity_id = %s ORDER BY entity_version",
        (card_id,),
    ).fetchall()


def _sign_in(browser, url: str, name: str):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(url)
    page.get_by_role("textbox", name="User name").fill(name)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    frame = page.frame_locator('[data-testid="stCustomComponentV1"]')
    frame.locator(".card").first.wait_for(timeout=60_000)
    return page, frame


def test_drag_a_card_to_another_column(
    add_card, warehouse: psycopg.Connection, served_app: str
) -> None:
    from playwright.sync_api import expect, sync_playwright

    assert Path(CHROMIUM).exists(), "chromium is missing: run scripts/install-system-deps.sh"
    auth.add_user(warehouse, "priya", "sales", PASSWORD, actor="test")
    auth.add_user(warehouse, "asha", "sales", PASSWORD, actor="test")
    add_card("c1", "Rate enquiry - Zinc Oxide", "new", "sales")
    add_card("c2", '<img src=x onerror="window.pwned=1">Payment', "new", "sales")

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
        )
        try:
            # asha has the board open in another session the whole time
            _, other = _sign_in(browser, served_app, "asha")
            expect(other.get_by_text("Inbox (2)")).to_be_visible()
            page, frame = _sign_in(browser, served_app, "priya")
            card = frame.locator(".card", has_text="Rate enquiry - Zinc Oxide")
            expect(frame.get_by_text("Inbox (2)")).to_be_visible()
            card.drag_to(frame.locator('.column[data-column="in_progress"]'))
            assert wait_for(lambda: _moves(warehouse, "c1")) == [(1, "priya", "in_progress")]
            expect(frame.get_by_text("In progress (1)")).to_be_visible(timeout=30_000)
            expect(
                frame.locator('.column[data-column="in_progress"] .card', has_text="Zinc Oxide")
            ).to_be_visible()

            # the keyboard path inside the component: the card's "Move to" menu
            evil = frame.locator(".card", has_text="Payment")
            evil.get_by_label("Move to").select_option("done")
            assert wait_for(lambda: _moves(warehouse, "c2")) == [(1, "priya", "done")]
            expect(frame.get_by_text("Done (1)")).to_be_visible(timeout=30_000)
            # the HTML in the subject is text: shown as written, never run
            expect(frame.get_by_text('<img src=x onerror="window.pwned=1">Payment')).to_be_visible()
            assert frame.locator("img").count() == 0
            assert page.evaluate("window.pwned") is None

            # asha sees both moves within 30 s, without touching her page
            # (a refresh may fall between the two moves: each gets the whole 30 s)
            expect(other.get_by_text("In progress (1)")).to_be_visible(timeout=30_000)
            expect(other.get_by_text("Done (1)")).to_be_visible(timeout=30_000)

            # "Open" goes to the card's page in the same (signed-in) session
            frame.locator(".card", has_text="Zinc Oxide").get_by_role("button", name="Open").click()
            page.wait_for_url("**/card?card=c1", timeout=30_000)
            assert page.get_by_role("textbox", name="Password").count() == 0
        finally:
            browser.close()
