"""Ask Pebble: a chat whose answers come from the warehouse's tools (ml.assistant), within
the signed-in user's role.

Every role may open it; what a role may ask is checked in the tool layer
(``ml.assistant.roles.TOOL_ROLES``), so a refused question says why. An answer lists its
sources (table and key). A write (a task, a deal moved) is only proposed: the page shows
it with Confirm and Cancel, and Confirm appends the event under the user's name. Answers
and warehouse text are shown as plain text and tables, never as Markdown or HTML.
"""

from __future__ import annotations

import polars as pl
import psycopg
import streamlit as st

from app.auth import require_role
from ml.assistant import Proposal, ask, confirm
from ml.assistant.examples import examples
from ml.assistant.roles import TOOL_ROLES, TOOL_TITLES
from pebble import db
from pebble.auth import NotAllowed
from pebble.events import EventError, VersionConflict
from pebble.roles import ROLES

user = require_role(*ROLES)
HISTORY = "ask_history"

st.title("Ask Pebble")


def _connect() -> psycopg.Connection:
    return psycopg.connect(db.warehouse_url(), autocommit=True, connect_timeout=10)


@st.cache_data(ttl=600, max_entries=4)
def _examples(_url_key: str) -> list[tuple[str, str]]:
    with _connect() as conn:
        return examples(conn)


with st.expander("What can I ask?"):
    mine = [TOOL_TITLES[t] for t, roles in TOOL_ROLES.items() if user.role in roles]
    st.text(f"As {user.role} you may ask about: " + "; ".join(mine) + ".")
    st.text("Examples from the warehouse (they work without an LLM):")
    for _tool, question in _examples(db.warehouse_url()):
        st.code(question, language=None)
    st.text(
        "Writes: 'create a task to call <company> tomorrow', 'move deal <deal id> to quoted'."
        " They are proposed first; nothing is written until you press Confirm."
    )

history: list[dict] = st.session_state.setdefault(HISTORY, [])

question = st.chat_input("Ask about a company, orders, receivables, prices, stock, QC ...")
if question:
    with _connect() as conn:
        answer = ask(conn, user, question)
    history.append(
        {
            "question": question,
            "answer": answer.to_dict(),
            "proposals": {p.event_id: "pending" for p in answer.proposals},
        }
    )


def _decide(entry: dict, proposal: dict, action: str) -> None:
    if action == "cancel":
        entry["proposals"][proposal["event_id"]] = "cancelled"
        return
    try:
        with _connect() as conn:
            recorded = confirm(conn, user, Proposal.from_dict(proposal))
        entry["proposals"][proposal["event_id"]] = (
            f"done: {recorded.event_type} {recorded.entity_id} (version {recorded.entity_version})"
        )
    except VersionConflict as exc:
        entry["proposals"][proposal["event_id"]] = f"not done: {exc}"
    except (NotAllowed, EventError) as exc:
        entry["proposals"][proposal["event_id"]] = f"not done: {exc}"


for n, entry in enumerate(history):
    data = entry["answer"]
    with st.chat_message("user"):
        st.text(entry["question"])
    with st.chat_message("assistant"):
        if data["refused"]:
            st.error("Not within your role:")
        if data["flags"]:
            st.warning("The answer stated figures no tool returned; the results are shown instead.")
            st.text("Flagged: " + "; ".join(data["flags"]))
        st.text(data["text"])
        for note in data["notes"]:
            st.text(f"Note: {note}")
        if data["sources"]:
            st.dataframe(pl.DataFrame(data["sources"]), hide_index=True, key=f"ask_sources_{n}")
        for proposal in data["proposals"]:
            status = entry["proposals"].get(proposal["event_id"], "pending")
            st.text(f"Proposed: {proposal['summary']}")
            if status == "pending":
                left, right = st.columns(2)
                left.button(
                    "Confirm",
                    key=f"ask_confirm_{proposal['event_id']}",
                    type="primary",
                    on_click=_decide,
                    args=(entry, proposal, "confirm"),
                )
                right.button(
                    "Cancel",
                    key=f"ask_cancel_{proposal['event_id']}",
                    on_click=_decide,
                    args=(entry, proposal, "cancel"),
                )
            else:
                st.text(status[:1].upper() + status[1:])
