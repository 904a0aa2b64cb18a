"""The app's guards: every page starts with :func:`require_role`, every action checks
:func:`pebble.auth.require` again before it writes.

The signed-in user lives in the server-side session state (``SESSION_USER``); the entry
script (``app/streamlit_app.py``) signs people in and out.
"""

from __future__ import annotations

import logging
import time

import streamlit as st

from pebble import auth, db
from pebble.auth import User

log = logging.getLogger(__name__)

#: Session-state key of the signed-in :class:`pebble.auth.User`.
SESSION_USER = "pebble_user"


def current_user() -> User | None:
    user = st.session_state.get(SESSION_USER)
    return user if isinstance(user, User) else None


def require_role(*roles: str) -> User:
    """The signed-in user, if their role is one of ``roles``; otherwise the page says why
    and stops here (nothing below it runs, so nothing of the page is sent).

    It also ends a session idle for too long (:func:`touch_session`): Streamlit may run a
    page without the entry script (see ``app/streamlit_app.py``)."""
    user = touch_session()
    if user is None:
        st.warning("Sign in to open this page.")
        st.stop()
    if user.role not in roles:
        st.error(f"Your role ({user.role}) may not open this page.")
        st.stop()
    return user


#: Session-state keys beside the user: when and how they signed in, and their last activity
#: (epoch seconds). A session with a user but no last-activity time counts as active now.
SESSION_SIGNED_IN_AT = "pebble_signed_in_at"
SESSION_LAST_SEEN = "pebble_last_seen"
SESSION_METHOD = "pebble_sign_in_method"
#: Set when the last session ended by expiry, so the form says why.
SESSION_EXPIRED = "pebble_session_expired"


def sign_in_session(user: User, method: str = "password") -> None:
    """Remember ``user`` as signed in on this session (after :func:`pebble.auth.authenticate`)."""
    now = time.time()
    st.session_state[SESSION_USER] = user
    st.session_state[SESSION_SIGNED_IN_AT] = now
    st.session_state[SESSION_LAST_SEEN] = now
    st.session_state[SESSION_METHOD] = method
    st.session_state.pop(SESSION_EXPIRED, None)


def sign_out_session(reason: str = "user") -> User | None:
    """Forget the signed-in user (recording ``SignedOut``); returns who it was."""
    user = current_user()
    for key in (SESSION_USER, SESSION_SIGNED_IN_AT, SESSION_LAST_SEEN, SESSION_METHOD):
        st.session_state.pop(key, None)
    if user is not None:
        try:
            with db.connect(autocommit=True) as conn:
                auth.sign_out(conn, user, reason)
        except Exception:  # the session ends whether or not the event could be written
            log.warning("could not record the sign-out of %r", user.name, exc_info=True)
    if reason == "expired":
        st.session_state[SESSION_EXPIRED] = True
    return user


def touch_session() -> User | None:
    """The signed-in user after an activity check: a session idle for longer than
    ``PEBBLE_SESSION_IDLE_MINUTES`` is signed out (``SignedOut`` expired) and None returned;
    otherwise its last activity becomes now."""
    user = current_user()
    if user is None:
        return None
    now = time.time()
    if auth.is_idle(st.session_state.get(SESSION_LAST_SEEN), now):
        sign_out_session("expired")
        return None
    st.session_state[SESSION_LAST_SEEN] = now
    return user
