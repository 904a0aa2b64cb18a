"""My tasks (app/pages/tasks.py) and the card's one-click "Add task" (app/tasks.py on
app/pages/card.py): overdue first, then due today, upcoming, and done collapsed; complete,
reassign and create, each an event; a stale screen is a conflict; a manager sees
everyone's tasks with a filter and changes nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app.tasks import quick_due
from pebble import auth, deals
from pebble.auth import User
from pebble.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "app" / "pages" / "tasks.py")
CARD_PAGE = str(ROOT / "app" / "pages" / "card.py")
PRIYA = User("priya", "sales")
RAVI = User("ravi", "sales")
TODAY = datetime.now(ZoneInfo(get_settings().timezone)).date()


@pytest.fixture
def people(warehouse: psycopg.Connection) -> psycopg.Connection:
    for name, role in (("priya", "sales"), ("ravi", "sales"), ("qasim", "qc")):
        auth.add_user(warehouse, name, role, "correct horse battery", actor="test")
    return warehouse


def _task(conn: psycopg.Connection, title: str, days: int, owner: str = "priya", **kw) -> str:
    return deals.create_task(
        conn, PRIYA, title=title, due_on=TODAY + timedelta(days=days), owner=owner, **kw
    ).entity_id


def _page(user: User = PRIYA, **params: str) -> AppTest:
    """A new session of the page (the previous session's cached lists dropped)."""
    st.cache_data.clear()
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["pebble_user"] = user
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def _tables(at: AppTest) -> dict[str, list[str]]:
    """Each shown table's titles, by the heading above it (the done table: "done")."""
    headings = [h.value for h in at.subheader if "(" in h.value]
    frames = [f.value for f in at.dataframe]
    done = [list(f["title"]) for f in frames if "done_at" in f.columns]
    shown = [list(f["title"]) for f in frames if "done_at" not in f.columns]
    out = dict(zip(headings, shown, strict=True))
    if done:
        out["done"] = done[0]
    return out


def _events(conn: psycopg.Connection, task_id: str) -> list[tuple]:
    return conn.execute(
        "SELECT entity_version, event_type, actor, payload FROM ops.events"
        " WHERE entity_type = 'task' AND entity_id = %s ORDER BY entity_version",
        (task_id,),
    ).fetchall()


def test_overdue_first_then_today_upcoming_and_done(people) -> None:
    _task(people, "Follow up quote", 3, linked_type="card", linked_id="T1")
    _task(people, "Send COA", 0)
    _task(people, "Call purchase", -2)
    done = _task(people, "Chase payment", -5)
    deals.complete_task(people, PRIYA, done, 1)
    _task(people, "Ravi's courier", 0, owner="ravi")

    at = _page()
    assert not at.exception
    assert [m.value for m in at.metric] == ["1", "1", "1"]
    assert _tables(at) == {
        "Overdue (1)": ["Call purchase"],
        "Due today (1)": ["Send COA"],
        "Upcoming (1)": ["Follow up quote"],
        "done": ["Chase payment"],
    }
    assert [e.label for e in at.expander][0] == "Done (1)"
    upcoming = [f.value for f in at.dataframe if "Follow up quote" in list(f.value["title"])][0]
    assert list(upcoming["open"]) == ["card?card=T1"]  # the card it is about, one click away
    assert "Ravi's courier" not in str(at.dataframe)


def test_complete_reassign_and_a_stale_screen(people) -> None:
    call = _task(people, "Call purchase", -2)
    coa = _task(people, "Send COA", 0)
    at = _page()
    at.selectbox(key="task_pick").select(call)
    at.text_input(key="task_done_note").input("spoke to Mr Shah")
    at = at.button(key="task_done").click().run()
    assert not at.exception and [s.value for s in at.success] == ["Saved."]
    assert _events(people, call)[-1] == (2, "TaskCompleted", "priya", {"note": "spoke to Mr Shah"})
    assert _tables(at)["done"] == ["Call purchase"]

    at.selectbox(key="task_pick").select(coa)
    at.selectbox(key="task_reassign_to").select("qasim")
    at = at.button(key="task_reassign").click().run()
    assert _events(people, coa)[-1] == (2, "TaskAssigned", "priya", {"owner": "qasim"})
    assert "Send COA" not in str(_tables(at))  # qasim's now

    # a task priya gave away is no longer on her list
    assert "task_pick" not in [s.key for s in at.selectbox]  # nothing open is hers
    # her screen goes stale: she reassigned it in another tab; "Mark done" here conflicts
    mine = _task(people, "Quote revision", 1)
    stale = _page(PRIYA)
    deals.assign_task(people, PRIYA, mine, "ravi", 1)
    stale.selectbox(key="task_pick").select(mine)
    stale = stale.button(key="task_done").click().run()
    assert [e.value for e in stale.error] == ["Someone else changed it first: nothing was saved."]
    assert [t.value for t in stale.text][0].startswith("Not saved: priya reassigned this task")
    assert [e[1] for e in _events(people, mine)] == ["TaskCreated", "TaskAssigned"]


def test_create_a_task_and_a_refused_one_keeps_its_text(people) -> None:
    at = _page()
    at.text_input(key="task_new_link_id").input("T9")
    at = at.button(key="task_new_add").click().run()
    assert [e.value for e in at.error] == ["Not saved."]  # no title
    assert at.text_input(key="task_new_link_id").value == "T9"
    at.text_input(key="task_new_title").input("Send COA")
    at.selectbox(key="task_new_link_type").select("card")
    at.date_input(key="task_new_due").set_value(TODAY + timedelta(days=1))
    at.text_input(key="task_new_owner").input("ravi")
    at = at.button(key="task_new_add").click().run()
    assert not at.exception and [s.value for s in at.success] == ["Saved."]
    (row,) = people.execute(
        "SELECT title, due_on, owner, linked_type, linked_id, created_by FROM ops.tasks"
    ).fetchall()
    assert row == ("Send COA", TODAY + timedelta(days=1), "ravi", "card", "T9", "priya")
    at.text_input(key="task_new_title").input("Ghost task")
    at.text_input(key="task_new_owner").input("ghost")
    at = at.button(key="task_new_add").click().run()
    assert "'ghost' is not an active account that works tasks" in [t.value for t in at.text][0]


def test_a_manager_sees_everyone_s_tasks_with_a_filter(people) -> None:
    _task(people, "Send COA", 0)
    _task(people, "Ravi's courier", -1, owner="ravi")
    at = _page(User("meera", "manager"))
    assert not at.exception
    assert _tables(at) == {"Overdue (1)": ["Ravi's courier"], "Due today (1)": ["Send COA"]}
    assert not [b for b in at.button if b.key in ("task_done", "task_reassign", "task_new_add")]
    at.selectbox(key="tasks_owner").select("ravi")
    at = at.run()
    assert at.query_params["owner"] == "ravi"
    assert _tables(at) == {"Overdue (1)": ["Ravi's courier"]}
    assert _tables(_page(User("meera", "manager"), owner="priya")) == {
        "Due today (1)": ["Send COA"]
    }
    refused = _page(User("root", "admin"))
    assert [e.value for e in refused.error] == ["Your role (admin) may not open this page."]


def test_one_click_task_from_a_card(people, add_card) -> None:
    add_card("c1", "Rate enquiry - Zinc Oxide", "in_progress", "sales", assignee="ravi",
             company_key="pan:AACCA1234F")  # fmt: skip
    at = AppTest.from_file(CARD_PAGE, default_timeout=60)
    at.session_state["pebble_user"] = PRIYA
    at.query_params["card"] = "c1"
    at = at.run()
    assert not at.exception
    at = at.button(key="card_task_Send COA").click().run()
    assert not at.exception and [s.value for s in at.success] == ["Saved."]
    (row,) = people.execute(
        "SELECT title, due_on, owner, linked_type, linked_id, company_key, created_by"
        " FROM ops.tasks"
    ).fetchall()
    assert row == ("Send COA", quick_due(1, TODAY), "ravi", "card", "c1", "pan:AACCA1234F",
                   "priya")  # fmt: skip
    at.text_input(key="card_task_title").input("Send TDS certificate")
    at = at.button(key="card_task_add").click().run()
    titles = people.execute("SELECT title, due_on FROM ops.tasks ORDER BY created_at").fetchall()
    assert titles[-1] == ("Send TDS certificate", TODAY)
    # a manager reads the card and gets no task buttons
    manager = AppTest.from_file(CARD_PAGE, default_timeout=60)
    manager.session_state["pebble_user"] = User("meera", "manager")
    manager.query_params["card"] = "c1"
    manager = manager.run()
    assert not [b for b in manager.button if (b.key or "").startswith("card_task_")]


def test_quick_due_skips_the_weekend() -> None:
    friday = date(2026, 12, 4)
    assert friday.weekday() == 4
    assert quick_due(0, friday) == friday
    assert quick_due(1, friday) == date(2026, 12, 7)
    assert quick_due(2, friday) == date(2026, 12, 8)
