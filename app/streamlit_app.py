"""Entry file: sign-in, the pages each role may open, and a banner saying what is still running.

Nobody sees anything but the sign-in form until they sign in (``pebble.auth.authenticate``
against ``auth.users``). A session idle for ``PEBBLE_SESSION_IDLE_MINUTES`` (default 60) is
signed out. The navigation lists only the pages of the user's role, and every page checks
the role again itself (``app.auth.require_role``): hiding a page is not the guard.

Single sign-on (optional): with an ``[auth]`` section for ``microsoft`` in
``.streamlit/secrets.toml`` the form also offers "Sign in with Microsoft 365"; the account
is the one named by the e-mail address the identity provider gives (docs/security.md).
"""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg
import streamlit as st

from app.auth import (
    SESSION_EXPIRED,
    SESSION_METHOD,
    sign_in_session,
    sign_out_session,
    touch_session,
)
from app.status_banner import banner_for
from pebble import auth, db
from pebble.auth import User
from pebble.settings import get_settings
from pebble.status import read_status

log = logging.getLogger(__name__)

st.set_page_config(page_title="Pebble", page_icon=":material/inbox:", layout="wide")

HERE = Path(__file__).resolve().parent
#: The identity provider of single sign-on, as named in secrets.toml ([auth.microsoft]).
OIDC_PROVIDER = "microsoft"
#: Set to the e-mail address single sign-on vouched for but no account matched, so the
#: refusal is recorded once, not on every rerun.
SESSION_OIDC_REFUSED = "pebble_oidc_refused"

#: The app's pages: (file, title, icon, url path, roles that may open it, shown in the menu).
#: A page whose file does not exist (yet) is left out.
PAGES: tuple[tuple[str, str, str, str, tuple[str, ...], bool], ...] = (
    ("pages/kanban.py", "Kanban", ":material/view_kanban:", "kanban", ("sales", "ops", "manager"), True),
    ("pages/card.py", "Card", ":material/mail:", "card", ("sales", "ops", "manager"), False),
    ("pages/prelead.py", "Prelead screening", ":material/fact_check:", "prelead", ("marketing", "manager"), True),
    ("pages/router.py", "Stream router", ":material/alt_route:", "router", ("admin", "manager"), True),
    ("pages/users.py", "Users", ":material/group:", "users", ("admin",), True),
    ("pages/qc.py", "Quality control", ":material/science:", "qc", ("qc", "manager"), True),
    ("pages/dashboards.py", "Dashboards", ":material/monitoring:", "dashboards", ("manager",), True),
    ("pages/pipeline.py", "Pipeline", ":material/view_week:", "pipeline", ("sales", "ops", "manager", "admin"), True),
    ("pages/tasks.py", "My tasks", ":material/task_alt:", "tasks", ("sales", "ops", "qc", "marketing", "manager"), True),
    ("pages/tenders.py", "Tenders", ":material/gavel:", "tenders", ("sales", "manager"), True),
    ("pages/assistant.py", "Ask Pebble", ":material/chat:", "ask", ("marketing", "sales", "ops", "qc", "manager", "admin"), True),
    ("pages/company.py", "Company 360", ":material/domain:", "company", ("marketing", "sales", "ops", "qc", "manager", "admin"), True),
)  # fmt: skip


def _oidc_configured() -> bool:
    """Streamlit's OIDC sign-in is available and secrets.toml configures our provider."""
    if not hasattr(st, "login"):
        return False
    try:
        if not st.secrets.load_if_toml_exists():
            return False
        section = st.secrets.get("auth")
        return bool(section) and OIDC_PROVIDER in section
    except Exception:  # an unreadable secrets file: no single sign-on
        return False


def _oidc_email() -> str | None:
    """The e-mail address of the identity-provider session, if there is one."""
    try:
        if not st.user.is_logged_in:
            return None
        email = st.user.get("email")
    except Exception:
        return None
    return email if isinstance(email, str) and email.strip() else None


def _sign_in_with_oidc(email: str) -> None:
    if st.session_state.get(SESSION_OIDC_REFUSED) == email:
        st.error("Your Microsoft 365 account has no Pebble account. Ask an admin.")
        if st.button("Sign out of Microsoft 365", key="oidc_sign_out"):
            st.session_state.pop(SESSION_OIDC_REFUSED, None)
            st.logout()
        return
    try:
        with db.connect(autocommit=True) as conn:
            user = auth.sign_in_oidc(conn, email)
    except auth.SignInRefused:
        st.session_state[SESSION_OIDC_REFUSED] = email
        st.rerun()
    sign_in_session(user, "oidc")
    st.rerun()


def _sign_in_form() -> None:
    """The sign-in form; the script stops after it (nothing else is sent)."""
    st.title("Pebble")
    if st.session_state.pop(SESSION_EXPIRED, False):
        minutes = get_settings().session_idle_minutes
        st.info(f"You were signed out after {minutes:g} minutes without activity.")
    oidc = _oidc_configured()
    email = _oidc_email() if oidc else None
    if email is not None:
        _sign_in_with_oidc(email)
        st.stop()
    with st.form("sign_in"):
        name = st.text_input("User name", key="signin_name", autocomplete="username", max_chars=200)
        password = st.text_input(
            "Password",
            type="password",
            key="signin_password",
            autocomplete="current-password",
            max_chars=auth.MAX_PASSWORD_CHARS,
        )
        submitted = st.form_submit_button("Sign in", key="signin_submit", type="primary")
    if submitted:
        try:
            with db.connect(autocommit=True) as conn:
                user = auth.authenticate(conn, name, password)
        except auth.SignInRefused as exc:
            st.error(exc.public_message)
        except (psycopg.Error, db.DatabaseConnectionError):
            log.warning("sign-in could not reach the warehouse", exc_info=True)
            st.error("Signing in is not possible right now: the warehouse cannot be reached.")
        else:
            sign_in_session(user, "password")
            st.rerun()
    if oidc and st.button("Sign in with Microsoft 365", key="oidc_sign_in"):
        st.login(OIDC_PROVIDER)
    st.stop()


def _sign_out() -> None:
    """The sign-out button's callback: it runs before the next script run, whatever page
    that run shows."""
    method = st.session_state.get(SESSION_METHOD)
    sign_out_session("user")
    if method == "oidc":
        st.logout()  # end the identity-provider session too, or it would sign in again


def _sidebar(user: User) -> None:
    with st.sidebar:
        st.text(f"Signed in as {user.label()}")
        st.button("Sign out", key="sign_out", icon=":material/logout:", on_click=_sign_out)


def _nothing_here() -> None:
    st.title("Pebble")
    st.info("There is no screen for your role yet.")


def _pages(user: User) -> list[st.Page]:
    """The pages ``user``'s role may open whose files exist; the first shown one is the
    default (the root URL). A role without any gets a page saying so."""
    pages: list[st.Page] = []
    has_default = False
    for path, title, icon, url, roles, shown in PAGES:
        if user.role not in roles or not (HERE / path).is_file():
            continue
        default = shown and not has_default
        has_default = has_default or default
        visibility = "visible" if shown else "hidden"
        pages.append(
            st.Page(
                path, title=title, icon=icon, url_path=url, default=default, visibility=visibility
            )
        )
    if not has_default:
        pages.insert(0, st.Page(_nothing_here, title="Home", url_path="home", default=True))
    return pages


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


method = st.session_state.get(SESSION_METHOD)
signed_in = touch_session()
if signed_in is None:
    if method == "oidc" and st.session_state.get(SESSION_EXPIRED):
        st.logout()  # end the identity-provider session too, or it would sign in again
    # Always through st.navigation: until some run calls it, Streamlit serves the files of
    # app/pages/ by their URL without running this script (its pages-folder mode), so every
    # page also checks the role itself (app.auth.require_role).
    sign_in = st.Page(_sign_in_form, title="Sign in", icon=":material/login:", default=True)
    st.navigation([sign_in], position="hidden").run()
    st.stop()
_sidebar(signed_in)
_status_banner()
st.navigation(_pages(signed_in)).run()
