"""My tasks: what is overdue first, then due today, upcoming, and done (collapsed). Complete
a task, give it to someone else, or add one (title, due day, owner, what it is about).

A manager sees everyone's tasks (or one person's) and changes nothing. Every change is one
event through ``pebble.deals``, which checks the role and that the person owns or created
the task; someone else's change since the list was drawn is a conflict that names them.
The owner filter lives in the URL (``?owner=``). Task text is people's text: tables and
``st.text`` only.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from app.auth import require_role
from app.dashboards.figures import card_url, company_url
from app.tasks import connect, run_command, show_flash
from pebble import deals
from pebble.auth import User
from pebble.settings import get_settings

TZ = ZoneInfo(get_settings().timezone)
EVERYONE = "__everyone__"
HEADINGS = {
    "overdue": "Overdue",
    "today": "Due today",
    "upcoming": "Upcoming",
    "done": "Done",
}
SHOWN = ["title", "due_on", "owner", "open", "linked_type", "linked_id", "company_key", "note",
         "created_by", "task_id"]  # fmt: skip

LINKS = {
    "open": st.column_config.LinkColumn("open", display_text="Open", width="small"),
    "due_on": st.column_config.DateColumn("due", format="DD MMM YYYY"),
    "done_at": st.column_config.DatetimeColumn("done at", format="DD MMM YYYY HH:mm"),
}


def _link(task: dict) -> str | None:
    """The page a task is about: its card, else its company's Company 360."""
    if task["linked_type"] == "card" and task["linked_id"]:
        return card_url(task["linked_id"])
    if task["linked_type"] == "company" and task["linked_id"]:
        return company_url(task["linked_id"])
    return company_url(task["company_key"])


def _with_link(rows: pl.DataFrame) -> pl.DataFrame:
    """The rows with their "open" link, and times on the local clock."""
    return rows.with_columns(
        pl.Series("open", [_link(t) for t in rows.iter_rows(named=True)], dtype=pl.String),
        pl.col("done_at").dt.convert_time_zone(str(TZ)),
    )


user = require_role(*deals.TASK_READERS)
can_write = user.role in deals.TASK_WRITERS
is_manager = user.role == "manager"


@st.cache_data(ttl=5, max_entries=64, show_spinner=False)
def _tasks(who: User, owner: str | None, everyone: bool) -> pl.DataFrame:
    with connect() as conn:
        return deals.list_tasks(conn, who, owner=owner, everyone=everyone, tz=TZ)


@st.cache_data(ttl=60, show_spinner=False)
def _owners() -> list[str]:
    with connect() as conn:
        return deals.task_owners(conn)


def _complete(task_id: str, version: int) -> None:
    if run_command(
        "Task done.",
        lambda conn: deals.complete_task(
            conn, user, task_id, version, note=st.session_state.get("task_done_note")
        ),
        TZ,
    ):  # the note was this task's: the next one shown starts without it
        st.session_state["task_done_note"] = ""


def _reassign(task_id: str, version: int) -> None:
    to = (st.session_state.get("task_reassign_to") or "").strip()
    run_command(
        f"Task given to {to}.",
        lambda conn: deals.assign_task(conn, user, task_id, to, version),
        TZ,
    )


def _create() -> None:
    state = st.session_state
    link_type = state.get("task_new_link_type") or None
    link_id = (state.get("task_new_link_id") or "").strip() or None
    if run_command(
        f"Task added: {(state.get('task_new_title') or '').strip()}.",
        lambda conn: deals.create_task(
            conn,
            user,
            title=state.get("task_new_title") or "",
            due_on=state.get("task_new_due"),
            owner=(state.get("task_new_owner") or "").strip() or None,
            linked_type=link_type,
            linked_id=link_id,
            note=state.get("task_new_note"),
        ),
        TZ,
    ):  # a refused task keeps what was typed
        for key in ("task_new_title", "task_new_link_id", "task_new_note"):
            state[key] = ""


st.title("My tasks" if not is_manager else "Tasks")
show_flash()

owner: str | None = None
everyone = False
if is_manager:
    names = _owners()
    wanted = st.query_params.get("owner") or EVERYONE
    if "tasks_owner" not in st.session_state:
        st.session_state["tasks_owner"] = wanted
    choices = [EVERYONE, *names]
    if st.session_state["tasks_owner"] not in choices:
        choices.append(st.session_state["tasks_owner"])
    st.selectbox(
        "Whose tasks",
        choices,
        key="tasks_owner",
        format_func=lambda o: "Everyone" if o == EVERYONE else o,
    )
    picked = st.session_state["tasks_owner"]
    everyone = picked == EVERYONE
    owner = None if everyone else picked
    if (st.query_params.get("owner") or EVERYONE) != picked:
        if everyone:
            del st.query_params["owner"]
        else:
            st.query_params["owner"] = picked

tasks = _tasks(user, owner, everyone)
counts = {b: tasks.filter(pl.col("bucket") == b).height for b in deals.TASK_BUCKETS}
metrics = st.columns(3)
metrics[0].metric("Overdue", counts["overdue"])
metrics[1].metric("Due today", counts["today"])
metrics[2].metric("Upcoming", counts["upcoming"])

if not tasks.height:
    st.info("No tasks yet." + (" Add one below." if can_write else ""))
for bucket in deals.TASK_BUCKETS:
    rows = tasks.filter(pl.col("bucket") == bucket)
    if not rows.height:
        continue
    if bucket == "done":
        with st.expander(f"{HEADINGS[bucket]} ({rows.height})", expanded=False):
            st.dataframe(
                _with_link(rows).select([*SHOWN, "done_at", "done_by"]),
                hide_index=True,
                key="tasks_done",
                column_config=LINKS,
            )
        continue
    st.subheader(f"{HEADINGS[bucket]} ({rows.height})")
    st.dataframe(
        _with_link(rows).select(SHOWN), hide_index=True, key=f"tasks_{bucket}", column_config=LINKS
    )

open_tasks = tasks.filter(~pl.col("is_done"))
if can_write and open_tasks.height:
    st.subheader("Complete or reassign")
    labels = {
        t["task_id"]: f"{t['title']} · due {t['due_on']:%d %b %Y} · {t['owner']}"
        for t in open_tasks.iter_rows(named=True)
    }
    versions = dict(zip(open_tasks["task_id"], open_tasks["version"], strict=True))
    chosen = st.selectbox("Task", list(labels), key="task_pick", format_func=labels.get)
    left, right = st.columns(2)
    with left:
        st.text_input("Note (optional)", key="task_done_note")
        st.button("Mark done", key="task_done", on_click=_complete,
                  args=(chosen, int(versions[chosen])))  # fmt: skip
    with right:
        names = [n for n in _owners() if n != user.name]
        if names:
            st.selectbox("Give to", names, key="task_reassign_to")
        else:
            st.text_input("Give to", key="task_reassign_to")
        st.button("Reassign", key="task_reassign", on_click=_reassign,
                  args=(chosen, int(versions[chosen])))  # fmt: skip

if can_write:
    with st.expander("New task", expanded=not tasks.height):
        st.text_input("Title", key="task_new_title", placeholder="e.g. Send COA")
        st.date_input("Due", key="task_new_due", value=datetime.now(TZ).date(), format="DD/MM/YYYY")
        st.text_input("Owner", key="task_new_owner", value=user.name)
        left, right = st.columns(2)
        left.selectbox(
            "About",
            ["", *deals.LINK_TYPES],
            key="task_new_link_type",
            format_func=lambda t: "(nothing)" if not t else t,
        )
        right.text_input(
            "Its id or key", key="task_new_link_id", placeholder="card id, company key…"
        )
        st.text_input("Note", key="task_new_note")
        st.button("Add task", key="task_new_add", on_click=_create)
elif is_manager:
    st.caption("Read only: a manager sees everyone's tasks and changes nothing.")
