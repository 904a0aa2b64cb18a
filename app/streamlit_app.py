"""Entry file: page routing, and a banner saying what is still running."""

import streamlit as st

from app.status_banner import banner_for
from pebble.status import read_status

st.set_page_config(page_title="Pebble", page_icon=":material/inbox:", layout="wide")


@st.fragment(run_every=10)
def _status_banner() -> None:
    """Re-read every 10 s; when a running materialisation lands more, redraw the page so
    the new cards appear."""
    status = read_status()
    banner = banner_for(status)
    if banner is not None:
        kind, text = banner
        getattr(st, kind)(text, icon=":material/sync:" if kind == "info" else None)
    progress = None if status is None else (status.state, status.done)
    last = st.session_state.get("pebble_progress")
    st.session_state["pebble_progress"] = progress
    if last is not None and last != progress:
        st.rerun()


_status_banner()
pages = [
    st.Page("pages/kanban.py", title="Kanban", icon=":material/view_kanban:", default=True),
]
st.navigation(pages).run()
