"""Tasks on screens: the one-click "Add task" of a card, and what the task screens share.

The commands are ``pebble.deals``' (role checked there, on the server; every change an
event at the version the person saw); this module only draws the controls and reports the
outcome as plain text (names and titles are people's text, never Markdown).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

import psycopg
import streamlit as st

from pebble import db, deals, events
from pebble.auth import NotAllowed, User

#: The quick tasks a card offers: button label -> (task title, days until due).
QUICK_TASKS: dict[str, tuple[str, int]] = {
    "Send COA": ("Send COA", 1),
    "Follow up quote": ("Follow up quote", 2),
    "Call back": ("Call back", 0),
}
#: Session-state key of the last outcome (kind, headline, detail), shown on the next run.
TASK_FLASH = "task_flash"


def connect() -> psycopg.Connection:
    return psycopg.connect(db.warehouse_url(), autocommit=True, connect_timeout=10)


def run_command(what: str, command: Callable[[psycopg.Connection], Any], tz: tzinfo) -> bool:
    """Run one ``pebble.deals`` command; the outcome goes to :data:`TASK_FLASH`. True if it
    was recorded."""
    try:
        with connect() as conn:
            command(conn)
    except events.VersionConflict as exc:
        flash = (
            "error",
            "Someone else changed it first: nothing was saved.",
            deals.conflict_message(exc, tz),
        )
        st.cache_data.clear()  # the page now shows their change
    except NotAllowed as exc:
        flash = ("error", "Not allowed.", str(exc))
    except (deals.DealError, events.EventError) as exc:
        flash = ("error", "Not saved.", str(exc))
    else:
        st.session_state[TASK_FLASH] = ("success", "Saved.", what)
        st.cache_data.clear()
        return True
    st.session_state[TASK_FLASH] = flash
    return False


def show_flash(key: str = TASK_FLASH) -> None:
    """The last outcome: a fixed headline, the detail as plain text.

    It is drawn in a container that is there on every run, flash or not: when the flash is
    gone on the next run, what follows keeps its place, so an expander or popover the
    person opened meanwhile (the new-task form) stays open instead of being drawn anew,
    closed."""
    flash = st.session_state.pop(key, None)
    with st.container():
        if flash:
            kind, headline, detail = flash
            (st.success if kind == "success" else st.error)(headline)
            st.text(detail)


def quick_due(days: int, today: date) -> date:
    """``days`` working days after ``today`` (Saturday and Sunday skipped)."""
    due = today
    while days > 0:
        due += timedelta(days=1)
        if due.weekday() < 5:
            days -= 1
    return due


def _create_for_card(
    user: User,
    card_id: str,
    company_key: str | None,
    owner: str,
    tz: tzinfo,
    quick: str | None = None,
) -> None:
    """A quick task (``quick``: a :data:`QUICK_TASKS` label) or the one typed in."""
    if quick is not None:
        title, days = QUICK_TASKS[quick]
        due = quick_due(days, datetime.now(tz).date())
    else:
        title = str(st.session_state.get("card_task_title") or "")
        due = st.session_state.get("card_task_due")
        if not isinstance(due, date):
            st.session_state[TASK_FLASH] = ("error", "Not saved.", "Choose the day it is due.")
            return
    if (
        run_command(
            f"Task added: {title.strip()} (due {due:%d %b %Y}, {owner}).",
            lambda conn: deals.create_task(
                conn,
                user,
                title=title,
                due_on=due,
                owner=owner,
                linked_type="card",
                linked_id=card_id,
                company_key=company_key,
            ),
            tz,
        )
        and quick is None
    ):
        st.session_state["card_task_title"] = ""


def add_task_control(user: User, card: dict[str, Any], tz: tzinfo) -> None:
    """The card's "Add task" popover: one click for a usual task (due on the next working
    day or two, for the card's assignee, else the user), or a title and day of one's own.
    The outcome shows on the next run (:func:`show_flash`)."""
    card_id = card["card_id"]
    owner = card.get("assignee") or user.name
    company_key = card.get("company_key")
    show_flash()
    with st.popover("Add task", icon=":material/add_task:"):
        st.caption(f"For {owner}, linked to this card")
        for label in QUICK_TASKS:
            st.button(
                label,
                key=f"card_task_{label}",
                on_click=_create_for_card,
                args=(user, card_id, company_key, owner, tz, label),
            )
        st.text_input("Other task", key="card_task_title", placeholder="e.g. Send TDS")
        st.date_input(
            "Due", key="card_task_due", value=datetime.now(tz).date(), format="DD/MM/YYYY"
        )
        st.button(
            "Add",
            key="card_task_add",
            on_click=_create_for_card,
            args=(user, card_id, company_key, owner, tz),
        )
