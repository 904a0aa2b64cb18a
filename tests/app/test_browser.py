"""End to end in a real browser: Streamlit serves the whole app (app/streamlit_app.py),
headless Debian chromium works it as the demo's people would.

- priya (sales) signs in, drags a card to "In progress", opens it and saves a reply draft;
- meera (marketing) approves a prelead;
- arjun (admin) changes a mailbox's stream, with a reason;
- manisha (manager) reads the board and cannot move anything.

Each action must land as its event in ``ops.events`` under the person's name. A screenshot
of every page goes to ``docs/screens/`` (the README shows them).

The data is the card page's and the prelead page's own test data (mail landed by the real
loader, a lead list landed by the real loader, staging views from the dbt models' SQL,
marts from their contracts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from pebble import auth
from tests.app.conftest import CHROMIUM, CHROMIUM_ARGS, wait_for
from tests.app.e2e import PASSWORD, shot, support
from tests.app.e2e import sign_in as e2e_sign_in

card_support = support("test_card_page.py")
prelead_support = support("test_prelead_commands.py")
thread = card_support.thread  # the card page's fixture: a landed thread and its marts


def _events(conn: psycopg.Connection, event_type: str) -> list[tuple]:
    return conn.execute(
        "SELECT entity_id, actor, payload FROM ops.events WHERE event_type = %s ORDER BY event_seq",
        (event_type,),
    ).fetchall()


def _prelead_batch(conn: psycopg.Connection, tmp_path: Path) -> None:
    """The prelead page's lead list, beside the card's marts: the card fixture made
    marts.crm_companies already, so the prelead helpers make their own and the card's
    company moves into it."""
    conn.execute("ALTER TABLE marts.crm_companies RENAME TO crm_companies_of_the_card")
    prelead_support.demo_batch(conn, tmp_path)
    prelead_support.add_company(
        conn, "pan:AAPFU0939F", "Acme Chem", pan="AAPFU0939F", gstins=["27AAPFU0939F1ZV"]
    )
    conn.execute("DROP TABLE marts.crm_companies_of_the_card")


def test_each_role_does_its_work_in_a_browser(
    thread: dict[str, Any], warehouse: psycopg.Connection, served_app: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    assert Path(CHROMIUM).exists(), "chromium is missing: run scripts/install-system-deps.sh"
    for name, role in [("priya", "sales"), ("meera", "marketing"), ("arjun", "admin"),
                       ("manisha", "manager")]:  # fmt: skip
        auth.add_user(warehouse, name, role, PASSWORD, actor="test")
    _prelead_batch(warehouse, tmp_path)
    card_id = thread["card_id"]

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
        )

        def sign_in(name: str, screen: str | None = None):
            return e2e_sign_in(browser, served_app, name, screen)

        try:
            # the sign-in form is all a stranger gets
            stranger = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            stranger.goto(served_app)
            stranger.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
            assert stranger.get_by_text("Rate enquiry - Zinc Oxide").count() == 0
            shot(stranger, "sign-in")

            # sales: drag the card to "In progress", open it, save a reply draft
            page = sign_in("priya")
            frame = page.frame_locator('[data-testid="stCustomComponentV1"]')
            card = frame.locator(".card", has_text="Rate enquiry - Zinc Oxide")
            card.wait_for(timeout=60_000)
            shot(page, "kanban")
            card.drag_to(frame.locator('.column[data-column="in_progress"]'))
            moved = wait_for(lambda: _events(warehouse, "CardMoved"))
            assert [(c, a, p["to"]) for c, a, p in moved] == [(card_id, "priya", "in_progress")]
            expect(frame.get_by_text("In progress (1)")).to_be_visible(timeout=30_000)

            frame.locator(".card", has_text="Zinc Oxide").get_by_role("button", name="Open").click()
            page.wait_for_url(lambda url: "/card?card=" in url, timeout=30_000)
            page.get_by_role("button", name="Draft reply").click()
            draft = page.get_by_role("textbox", name="Draft")
            expect(draft).not_to_have_value("", timeout=60_000)
            assert "Zinc Oxide" in draft.input_value()
            page.get_by_role("button", name="Save draft").click()
            drafted = wait_for(lambda: _events(warehouse, "ReplyDrafted"))
            assert [(c, a) for c, a, _ in drafted] == [(card_id, "priya")]
            assert "Zinc Oxide" in drafted[0][2]["body"]
            # the script tag in the customer's mail is shown as text and never runs
            expect(page.get_by_text('<script>alert("x")</script>').first).to_be_visible()
            shot(page, "card")

            # marketing: approve the best-scored prelead
            page = sign_in("meera")  # her one screen: Prelead screening
            page.get_by_role("button", name="Approve (A)").wait_for(timeout=60_000)
            shot(page, "prelead")
            page.get_by_role("button", name="Approve (A)").click()
            approved = wait_for(lambda: _events(warehouse, "PreleadApproved"))
            assert [(e, a) for e, a, _ in approved] == [("expo_2026/2", "meera")]

            # admin: route the accounts mailbox to crm, saying why
            page = sign_in("arjun")  # his first screen: Stream router
            page.get_by_role("button", name="Change the mailbox's stream").wait_for(timeout=60_000)
            # the mailbox form comes first; the rule forms below have their own "why"
            why = page.get_by_role("textbox", name="Why (required)").first
            why.fill("accounts now answers price enquiries too")
            page.get_by_role("button", name="Change the mailbox's stream").click()
            routed = wait_for(lambda: _events(warehouse, "RouteChanged"))
            assert len(routed) == 1 and routed[0][1] == "arjun"
            assert routed[0][2]["reason"] == "accounts now answers price enquiries too"
            shot(page, "router")
            page.get_by_role("link", name="Users").click()
            page.get_by_text("Accounts (4)").wait_for(timeout=60_000)
            shot(page, "users")

            # manager: reads the board, with no way to move a card
            page = sign_in("manisha")
            page.get_by_text("Rate enquiry - Zinc Oxide").first.wait_for(timeout=60_000)
            assert page.get_by_label("Move to").count() == 0
            shot(page, "kanban-manager")
        finally:
            browser.close()

    signed_in = {actor for _, actor, _ in _events(warehouse, "SignedIn")}
    assert signed_in == {"priya", "meera", "arjun", "manisha"}
