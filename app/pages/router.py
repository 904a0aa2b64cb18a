"""Stream router: which stream a mailbox's mail and a sender's mail go to, before the model.

Admins change routes (each change an event with who and why); managers read them; nobody
else opens the page. Queries and commands live in ``app.router`` (no Streamlit there), and
every command checks the role again on the server side. Patterns, subjects and senders are
shown as plain text (dataframes, ``st.text``), never as Markdown.
"""

import psycopg
import streamlit as st

from app.auth import require_role
from app.router import (
    PREVIEW_DAYS,
    RULE_KINDS,
    RouteError,
    conflict_message,
    mailbox_routes,
    normalise_rule,
    preview,
    remove_rule,
    route_history,
    route_rules,
    rule_versions,
    set_mailbox_route,
    set_rule,
)
from ml.taxonomy import STREAMS
from pebble import db
from pebble.auth import NotAllowed
from pebble.events import VersionConflict, route_rule_id

user = require_role("admin", "manager")
can_write = user.role == "admin"

st.title("Stream router")
st.caption(
    "Rules apply before the model, from the next scoring run on (mail already scored keeps "
    "its stream). Precedence: sender address, then sender domain, then subject pattern, "
    "then the mailbox's stream, then the model."
)


def _refused(problem: Exception) -> None:
    """A change not saved: our headline, then the details as plain text."""
    if isinstance(problem, VersionConflict):
        st.error("Not saved: someone else changed this route first.")
        st.text(conflict_message(problem))
    elif isinstance(problem, NotAllowed):
        st.error("Not saved: your role may not change routes.")
    else:
        st.error("Not saved.")
        st.text(str(problem))


conn = psycopg.connect(db.warehouse_url(), autocommit=True, connect_timeout=10)


def _saved(what: str) -> None:
    st.session_state["router_saved"] = what
    conn.close()
    st.rerun()


def _seen(key: str, now: dict[str, int]) -> dict[str, int]:
    """The versions the person saw (the previous run's), and remember this run's: a change
    expects what was on the screen, so someone else's change meanwhile is a conflict."""
    before = st.session_state.get(key, now)
    st.session_state[key] = now
    return before


if saved := st.session_state.pop("router_saved", None):
    st.success(saved)

# --- mailboxes -----------------------------------------------------------------------------
st.subheader("Mailboxes")
mailboxes = mailbox_routes(conn)
seen_mailboxes = _seen(
    "router_mailbox_versions",
    dict(zip(mailboxes["mailbox"].to_list(), mailboxes["version"].to_list(), strict=True)),
)
st.dataframe(mailboxes, hide_index=True, key="router_mailboxes")
if can_write and mailboxes.height:
    with st.form("router_mailbox_form"):
        st.caption("Send all new mail of a mailbox to one stream.")
        mailbox = st.selectbox("Mailbox", mailboxes["mailbox"].to_list(), key="router_mailbox")
        stream = st.selectbox("Stream", STREAMS, key="router_mailbox_stream")
        why = st.text_input("Why (required)", key="router_mailbox_reason")
        if st.form_submit_button("Change the mailbox's stream"):
            try:
                set_mailbox_route(conn, user, mailbox, stream, why,
                                  int(seen_mailboxes.get(mailbox, 0)))  # fmt: skip
            except (RouteError, VersionConflict, NotAllowed) as problem:
                _refused(problem)
            else:
                _saved(f"Mailbox {mailbox} now routes to {stream}.")

# --- sender rules --------------------------------------------------------------------------
st.subheader("Sender rules")
rules = route_rules(conn)
versions = _seen("router_rule_versions", rule_versions(conn))
if rules.height:
    st.dataframe(rules, hide_index=True, key="router_rules")
else:
    st.text("No sender rules: the model decides (or the mailbox's stream).")

if can_write:
    st.markdown("**Add or change a rule**")
    kind = st.selectbox(
        "Match on", list(RULE_KINDS), format_func=RULE_KINDS.get, key="router_rule_kind"
    )
    pattern = st.text_input("Pattern", key="router_rule_pattern")
    rule_stream = st.selectbox("Stream", STREAMS, key="router_rule_stream")
    if pattern.strip():
        try:
            shown = preview(conn, kind, pattern, rule_stream)
        except RouteError as problem:
            st.error("This pattern cannot be a rule.")
            st.text(str(problem))
        else:
            if not shown.cards_built:
                st.info("No cards built yet: nothing to preview.")
            else:
                st.info(
                    f"This rule would have matched {shown.count} cards in the last "
                    f"{shown.days} days ({shown.changes} of them are in another stream now)."
                )
                if shown.count:
                    st.caption(f"The newest {shown.cards.height} of them:")
                    st.dataframe(shown.cards, hide_index=True, key="router_preview")
    rule_reason = st.text_input("Why (required)", key="router_rule_reason")
    if st.button("Save rule", key="router_rule_save"):
        try:
            rule_id = route_rule_id(kind, normalise_rule(conn, kind, pattern))
            set_rule(conn, user, kind, pattern, rule_stream, rule_reason,
                     versions.get(rule_id, 0))  # fmt: skip
        except (RouteError, VersionConflict, NotAllowed) as problem:
            _refused(problem)
        else:
            _saved(f"Rule saved: {kind} rule to {rule_stream}.")

    if rules.height:
        st.markdown("**Remove a rule**")
        with st.form("router_remove_form"):
            rule_id = st.selectbox("Rule", rules["rule_id"].to_list(), key="router_remove_rule")
            remove_reason = st.text_input("Why (required)", key="router_remove_reason")
            if st.form_submit_button("Remove rule"):
                try:
                    remove_rule(conn, user, rule_id, remove_reason, versions.get(rule_id, 0))
                except (RouteError, VersionConflict, NotAllowed) as problem:
                    _refused(problem)
                else:
                    _saved("Rule removed: its mail goes back to the model from the next run.")

# --- history -------------------------------------------------------------------------------
st.subheader("History")
history = route_history(conn)
if history.height:
    st.dataframe(history, hide_index=True, key="router_history")
else:
    st.text("No route changes yet.")
st.caption(f"Previews look back {PREVIEW_DAYS} days, at each card's latest sender and subject.")
conn.close()
