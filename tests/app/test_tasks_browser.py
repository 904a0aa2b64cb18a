"""Tasks end to end in a real browser (headless Debian chromium, the whole app served by
Streamlit):

- priya (sales) opens My tasks: her overdue task comes first (before the one due today
  and the upcoming one; ravi's task is not hers to see). She marks it done with a note and
  adds a task through the page's form; each lands as its event under her name and the
  list follows (the done task is no longer open);
- from a Kanban card's page she adds "Send COA" in one click: a ``TaskCreated`` linked to
  the card, for her, due on the next working day, and it is on her My tasks.

Screenshots go to ``docs/screens/`` (tasks.png, card-add-task.png). The tasks the page
starts with are recorded through ``pebble.deals``, the app's own commands; the card is the
card page's own test data (mail landed by the real loader, marts from their contracts)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from app.tasks import quick_due
from pebble import auth, deals
from pebble.auth import User
from pebble.settings import get_settings
from tests.app.conftest import wait_for
from tests.app.e2e import PASSWORD, shot, sign_in, support

card_support = support("test_card_page.py")
thread = card_support.thread  # the card page's fixture: a landed thread and its marts

PRIYA = User("priya", "sales")
RAVI = User("ravi", "sales")
#: The app's "today": tasks are bucketed on the local clock (``PEBBLE_TIMEZONE``).
TODAY = datetime.now(ZoneInfo(get_settings().timezone)).date()


@pytest.fixture
def people(warehouse: psycopg.Connection) -> psycopg.Connection:
    for name in ("priya", "ravi"):
        auth.add_user(warehouse, name, "sales", PASSWORD, actor="test")
    return warehouse


def _events(conn: psycopg.Connection, event_type: str) -> list[tuple]:
    return conn.execute(
        "SELECT entity_id, entity_version, actor, company_key, payload FROM ops.events"
        " WHERE entity_type = 'task' AND event_type = %s ORDER BY event_seq",
        (event_type,),
    ).fetchall()


def _task(conn: psycopg.Connection, task_id: str) -> tuple:
    return conn.execute(
        "SELECT title, owner, is_done, done_by, note, version FROM ops.tasks WHERE task_id = %s",
        (task_id,),
    ).fetchone()


def _open_titles(conn: psycopg.Connection, owner: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT title FROM ops.tasks WHERE owner = %s AND NOT is_done ORDER BY title",
            (owner,),
        ).fetchall()
    ]


def _label(title: str, due, owner: str = "priya") -> str:  # noqa: ANN001 - a date
    """A task as the page's "Task" picker names it."""
    return f"{title} · due {due:%d %b %Y} · {owner}"


def _drawn(page):  # noqa: ANN001, ANN202 - a playwright page and locator
    """The page's elements drawn by the latest run: while a run redraws the page, what the
    previous run drew and this one has not yet redrawn stays on screen, marked stale."""
    return page.locator('[data-testid="stElementContainer"][data-stale="false"]')


def _above(page, upper: str, lower: str) -> bool:  # noqa: ANN001 - a playwright page
    """The heading ``upper`` is drawn above the heading ``lower``."""
    top = page.get_by_role("heading", name=upper).bounding_box()
    bottom = page.get_by_role("heading", name=lower).bounding_box()
    return top["y"] < bottom["y"]


def test_my_tasks_overdue_first_complete_and_create(
    people: psycopg.Connection, served_app: str, browser
) -> None:
    from playwright.sync_api import expect

    conn = people
    late = TODAY - timedelta(days=3)
    upcoming = TODAY + timedelta(days=4)
    overdue = deals.create_task(
        conn, PRIYA, title="Call purchase at Acme", due_on=late, company_key="pan:AAPFU0939F"
    ).entity_id
    deals.create_task(conn, PRIYA, title="Send rate card", due_on=TODAY)
    deals.create_task(conn, PRIYA, title="Follow up quote", due_on=upcoming)
    deals.create_task(conn, RAVI, title="Ravi's courier", due_on=late)  # not priya's

    page = sign_in(browser, served_app, "priya", "My tasks", height=1300)
    page.wait_for_url("**/tasks", timeout=60_000)
    # one overdue task: hers (ravi's, as late, is not on her list)
    expect(page.get_by_role("heading", name="Overdue (1)")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("heading", name="Due today (1)")).to_be_visible()
    expect(page.get_by_role("heading", name="Upcoming (1)")).to_be_visible()
    assert _above(page, "Overdue (1)", "Due today (1)")
    assert _above(page, "Due today (1)", "Upcoming (1)")
    # the task picker starts on the overdue task: the first open one
    picker = _drawn(page).get_by_role("combobox", name="Task", exact=True)
    expect(picker).to_have_value(_label("Call purchase at Acme", late))
    shot(page, "tasks")

    # complete the overdue task, with a note
    page.get_by_role("textbox", name="Note (optional)").fill("Spoke to Mr Rao; PO next week")
    page.get_by_role("button", name="Mark done").click()
    completed = wait_for(lambda: _events(conn, "TaskCompleted"))
    assert completed == [
        (overdue, 2, "priya", "pan:AAPFU0939F", {"note": "Spoke to Mr Rao; PO next week"})
    ]
    assert _task(conn, overdue) == (
        "Call purchase at Acme", "priya", True, "priya", None, 2
    )  # fmt: skip
    assert _open_titles(conn, "priya") == ["Follow up quote", "Send rate card"]
    expect(page.get_by_text("Task done.")).to_be_visible(timeout=30_000)
    # the note was that task's: the next one starts without it
    expect(_drawn(page).get_by_role("textbox", name="Note (optional)")).to_have_value("")
    expect(page.get_by_role("heading", name="Overdue (1)")).to_have_count(0)
    expect(page.get_by_text("Done (1)")).to_be_visible()
    # the picker offers her open tasks only (not ravi's), the one due today first
    expect(picker).to_have_value(_label("Send rate card", TODAY))
    picker.click()
    options = page.get_by_role("option")
    expect(options).to_have_count(2)
    assert options.all_inner_texts() == [
        _label("Send rate card", TODAY),
        _label("Follow up quote", upcoming),
    ]
    page.keyboard.press("Escape")

    # add a task through the form: due in two days, about the card T1
    due = TODAY + timedelta(days=2)
    page.get_by_text("New task").click()
    page.get_by_role("textbox", name="Title").fill("Send COA for batch 42")
    # leaving the title reruns the page without the "Task done." above: the form stays open
    page.get_by_role("spinbutton", name="day, Due").click()  # day, month, year in turn
    page.keyboard.type(f"{due:%d%m%Y}")
    expect(page.get_by_role("spinbutton", name="year, Due")).to_have_text(f"{due:%Y}")
    page.get_by_role("combobox", name="About", exact=True).click()
    page.keyboard.type("card")  # the one choice left
    page.keyboard.press("Enter")
    expect(page.get_by_role("combobox", name="About", exact=True)).to_have_value("card")
    page.get_by_role("textbox", name="Its id or key").fill("T1")
    page.get_by_role("textbox", name="Note", exact=True).fill("Lab has the batch")
    page.get_by_role("button", name="Add task").click()
    created = wait_for(
        lambda: [e for e in _events(conn, "TaskCreated") if e[4]["title"].startswith("Send COA")]
    )
    assert [(v, a, c, p) for _, v, a, c, p in created] == [
        (1, "priya", None, {"title": "Send COA for batch 42", "due_on": due.isoformat(),
                            "owner": "priya", "linked_type": "card", "linked_id": "T1",
                            "note": "Lab has the batch"}),
    ]  # fmt: skip
    expect(page.get_by_text("Task added: Send COA for batch 42.")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("heading", name="Upcoming (2)")).to_be_visible()
    assert _open_titles(conn, "priya") == ["Follow up quote", "Send COA for batch 42",
                                           "Send rate card"]  # fmt: skip
    # the form is empty again for the next one
    expect(_drawn(page).get_by_role("textbox", name="Title")).to_have_value("")


def test_add_a_task_from_a_card_in_one_click(
    thread: dict, people: psycopg.Connection, served_app: str, browser
) -> None:
    from playwright.sync_api import expect

    conn = people
    card_id = thread["card_id"]
    page = sign_in(browser, served_app, "priya")  # her first screen: Kanban
    frame = page.frame_locator('[data-testid="stCustomComponentV1"]')
    card = frame.locator(".card", has_text="Rate enquiry - Zinc Oxide")
    card.wait_for(timeout=60_000)
    card.get_by_role("button", name="Open").click()
    page.wait_for_url(lambda url: "/card?card=" in url, timeout=30_000)

    page.get_by_role("button", name="Add task").click()
    expect(page.get_by_text("For priya, linked to this card")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Send COA").click()
    created = wait_for(lambda: _events(conn, "TaskCreated"))
    due = quick_due(1, TODAY)
    assert [(v, a, c, p) for _, v, a, c, p in created] == [
        (1, "priya", "pan:AAPFU0939F", {"title": "Send COA", "due_on": due.isoformat(),
                                        "owner": "priya", "linked_type": "card",
                                        "linked_id": card_id}),
    ]  # fmt: skip
    task_id = created[0][0]
    assert _task(conn, task_id) == ("Send COA", "priya", False, None, None, 1)
    expect(page.get_by_text(f"Task added: Send COA (due {due:%d %b %Y}, priya).")).to_be_visible(
        timeout=30_000
    )
    # what was saved shows above the popover, which stays open for another one
    expect(page.get_by_text("For priya, linked to this card")).to_be_visible()
    # the shot: the Actions at the top of the window, so the popover opens below the flash
    page.get_by_role("heading", name="Actions").evaluate("h => h.scrollIntoView({block: 'start'})")
    shot(page, "card-add-task", full_page=False)
    page.keyboard.press("Escape")

    # and it is on her My tasks, due on the next working day
    page.get_by_role("link", name="My tasks").click()
    page.wait_for_url("**/tasks", timeout=60_000)
    expect(page.get_by_role("heading", name="Upcoming (1)")).to_be_visible(timeout=60_000)
    picker = _drawn(page).get_by_role("combobox", name="Task", exact=True)
    expect(picker).to_have_value(_label("Send COA", due))
