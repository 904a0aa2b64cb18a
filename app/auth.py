"""The app's guards: every page starts with :func:`require_role`, every action checks
:func:`pebble.auth.require` again before it writes.

The signed-in user lives in the server-side session state (``SESSION_USER``); the entry
script (``app/streamlit_app.py``) signs people in and out.
"""

from __future__ import annotations

import streamlit as st

from pebble.auth import User

#: Session-state key of the signed-in :class:`pebble.auth.User`.
SESSION_USER = "pebble_user"


def current_user() -> User | None:
    user = st.session_state.get(SESSION_USER)
    return user if isinstance(user, User) else None


def require_role(*roles: str) -> User:
    """The signed-in user, if their role is one of ``roles``; otherwise the page says why
    and stops here (nothing below it runs, so nothing of the page is sent)."""
    user = current_user()
    if user is None:
        st.warning("Sign in to open this page.")
        st.stop()
    if user.role not in roles:
        st.error(f"Your role ({user.role}) may not open this page.")
        st.stop()
    return user
