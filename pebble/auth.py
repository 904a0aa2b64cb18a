"""Who is signed in: the user of a session, and the role checks every page and action makes;
local accounts (``auth.users``) with argon2id password hashes, signing in and out.

No Streamlit here: the app's guards (``app/auth.py``) and the CLI (``pebble user``) both use
it. Every account change and every sign-in, sign-out and refusal is an event of entity type
``user`` (entity id: the user name) in ``ops.events``; no event holds a password or a hash.
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import polars as pl
import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pebble import events
from pebble.roles import ROLE_STREAMS, check_role
from pebble.settings import get_settings


class NotAllowed(PermissionError):
    """The signed-in user's role may not do this."""


@dataclass(frozen=True)
class User:
    """A signed-in person: the account name (the ``actor`` of their events) and role."""

    name: str
    role: str
    display_name: str | None = None

    def __post_init__(self) -> None:
        check_role(self.role)

    @property
    def streams(self) -> tuple[str, ...]:
        """The mail streams this user's cards come from."""
        return ROLE_STREAMS[self.role]

    def label(self) -> str:
        return f"{self.display_name or self.name} ({self.role})"


def require(user: User | None, *roles: str, action: str = "do this") -> User:
    """``user`` if signed in with one of ``roles``, else :class:`NotAllowed` saying why.

    Every write checks this on the server side, whatever the page showed."""
    for role in roles:
        check_role(role)
    if user is None:
        raise NotAllowed(f"sign in to {action}")
    if user.role not in roles:
        raise NotAllowed(
            f"{user.name} signs in as {user.role}, and only {', '.join(roles)} may {action}"
        )
    return user


# --- local accounts: passwords, sign-in, sign-out -------------------------------------------
#
# Passwords are hashed with argon2id (argon2-cffi's PasswordHasher, RFC 9106 parameters).
# Neither a password nor a hash is ever logged, put in an event or in an error message.

#: A user name as the table's CHECK takes it (migration 0006).
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
NAME_RULE = (
    "1 to 64 characters: lower-case letters, digits and . _ @ -, starting with a letter or a digit"
)
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024
#: Longest name a refused sign-in is recorded under (anything typed is recorded, cut here).
_MAX_RECORDED_NAME = 200

SIGN_IN_REASONS = ("bad_password", "unknown_user", "rate_limited", "disabled")


class AccountError(ValueError):
    """An account change that cannot be made as asked (bad name, role or password)."""


class UserExists(AccountError):
    """``pebble user add`` for a name that already has an account."""


class UnknownUser(AccountError):
    """An account change for a name without an account."""


class SignInRefused(Exception):
    """A sign-in refused; ``reason`` is one of :data:`SIGN_IN_REASONS`.

    Show :attr:`public_message`: it does not say whether the name exists."""

    def __init__(self, reason: str, name: str, retry_after_minutes: int | None = None) -> None:
        if reason not in SIGN_IN_REASONS:
            raise ValueError(f"unknown sign-in refusal {reason!r}")
        self.reason = reason
        self.name = name
        self.retry_after_minutes = retry_after_minutes
        super().__init__(f"sign-in refused for {name!r}: {reason}")

    @property
    def public_message(self) -> str:
        if self.reason == "rate_limited":
            wait = self.retry_after_minutes or 1
            return (
                "Too many failed sign-ins for this name. Try again in "
                f"{wait} minute{'s' if wait != 1 else ''}, or ask an admin to reset the password."
            )
        if self.reason == "disabled":
            return "This account is disabled. Ask an admin."
        return "Wrong user name or password."


_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash of a random password: unknown names are checked against it, so they take as
    long as a wrong password does."""
    return _hasher.hash(secrets.token_urlsafe(24))


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (checked for length first)."""
    check_password(password)
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True if ``password`` matches ``password_hash``; False for a wrong password or a
    hash that is not argon2 (never raises on a bad guess)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_name(name: str) -> str:
    """``name`` stripped, if it is a valid account name; else an :class:`AccountError`."""
    name = name.strip() if isinstance(name, str) else ""
    if not NAME_PATTERN.fullmatch(name):
        raise AccountError(f"user names are {NAME_RULE}")
    return name


def check_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"the password is too short: at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise AccountError(f"the password is too long: at most {MAX_PASSWORD_CHARS} characters")
    return password


def _append_user_event(
    conn: psycopg.Connection, event_type: str, name: str, *, actor: str, payload: dict[str, Any]
) -> events.Recorded:
    """Append one user event at the name's current version, once more on a conflict
    (sign-ins under one name can race; each is its own fact, none overwrites another)."""
    event = events.new_event(event_type, name, actor=actor, payload=payload)
    for attempt in (1, 2):
        version = events.current_version(conn, "user", name)
        try:
            return events.append(conn, event, version)
        except events.VersionConflict:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def add_user(
    conn: psycopg.Connection,
    name: str,
    role: str,
    password: str,
    *,
    actor: str,
    display_name: str | None = None,
) -> User:
    """Create a local account (``auth.users``) and record ``UserAdded``, in one transaction.

    Needs the warehouse owner (the app's role may not write ``auth.users``)."""
    name = check_name(name)
    try:
        check_role(role)
    except ValueError as exc:
        raise AccountError(str(exc)) from None
    display_name = (display_name or "").strip() or None
    if display_name is not None and len(display_name) > 200:
        raise AccountError("the display name is longer than 200 characters")
    password_hash = hash_password(password)
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO auth.users (username, display_name, role, password_hash) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (username) DO NOTHING RETURNING username",
            (name, display_name, role, password_hash),
        ).fetchone()
        if row is None:
            raise UserExists(f"user {name!r} already exists (reset the password instead)")
        payload: dict[str, Any] = {"role": role}
        if display_name:
            payload["display_name"] = display_name
        _append_user_event(conn, "UserAdded", name, actor=actor, payload=payload)
    return User(name, role, display_name)


def reset_password(
    conn: psycopg.Connection, name: str, password: str, *, actor: str, reason: str | None = None
) -> None:
    """Set a new password and record ``UserPasswordReset`` (never the password). A reset
    also lifts a rate limit: only refusals after it count."""
    name = check_name(name)
    password_hash = hash_password(password)
    with conn.transaction():
        row = conn.execute(
            "UPDATE auth.users SET password_hash = %s, password_changed_at = now() "
            "WHERE username = %s RETURNING username",
            (password_hash, name),
        ).fetchone()
        if row is None:
            raise UnknownUser(f"no user {name!r}")
        payload = {"reason": reason.strip()} if reason and reason.strip() else {}
        _append_user_event(conn, "UserPasswordReset", name, actor=actor, payload=payload)


def set_role(conn: psycopg.Connection, name: str, role: str, *, actor: str) -> User:
    """Give an account another role and record ``UserRoleChanged``. The person's open app
    session keeps its role until they sign in again."""
    name = check_name(name)
    try:
        check_role(role)
    except ValueError as exc:
        raise AccountError(str(exc)) from None
    with conn.transaction():
        row = conn.execute(
            "SELECT role, display_name FROM auth.users WHERE username = %s FOR UPDATE", (name,)
        ).fetchone()
        if row is None:
            raise UnknownUser(f"no user {name!r}")
        previous, display_name = row
        if previous != role:
            conn.execute("UPDATE auth.users SET role = %s WHERE username = %s", (role, name))
            _append_user_event(
                conn,
                "UserRoleChanged",
                name,
                actor=actor,
                payload={"role": role, "previous_role": previous},
            )
    return User(name, role, display_name)


def _recent_failures(conn: psycopg.Connection, name: str, window_minutes: float) -> int:
    """Refused sign-ins under ``name`` within the window, since its last successful sign-in
    and its last password change (refusals for the rate limit itself do not count)."""
    row = conn.execute(
        """
        SELECT count(*) FROM ops.events
        WHERE event_type = 'SignInFailed' AND entity_id = %(name)s
          AND occurred_at > now() - make_interval(secs => %(window)s)
          AND payload ->> 'reason' <> 'rate_limited'
          AND occurred_at > coalesce(
                (SELECT max(occurred_at) FROM ops.events
                 WHERE entity_type = 'user' AND entity_id = %(name)s
                   AND event_type = 'SignedIn'), '-infinity')
          AND occurred_at > coalesce(
                (SELECT password_changed_at FROM auth.users WHERE username = %(name)s),
                '-infinity')
        """,
        {"name": name, "window": window_minutes * 60},
    ).fetchone()
    return int(row[0])


def _refuse(conn: psycopg.Connection, name: str, reason: str, **extra: Any) -> SignInRefused:
    # recorded, not logged: a name typed by mistake may be a password (admins see events)
    _append_user_event(conn, "SignInFailed", name, actor=name, payload={"reason": reason})
    return SignInRefused(reason, name, **extra)


def authenticate(conn: psycopg.Connection, name: str, password: str) -> User:
    """The account's :class:`User` if ``password`` is right; records ``SignedIn``.

    Otherwise records ``SignInFailed`` and raises :class:`SignInRefused`: ``rate_limited``
    (too many refusals under this name lately: the password is not even checked),
    ``unknown_user`` (checked against a dummy hash, so it takes as long as a wrong password),
    ``bad_password``, or ``disabled`` (only said once the password was right). Names are
    compared in lower case. Works with the app's role (reads ``auth.users``, appends)."""
    typed = name.strip().lower() if isinstance(name, str) else ""
    if not typed:
        raise SignInRefused("unknown_user", "")
    recorded = typed[:_MAX_RECORDED_NAME]
    limits = get_settings()
    if _recent_failures(conn, recorded, limits.signin_window_minutes) >= limits.signin_max_failures:
        raise _refuse(
            conn,
            recorded,
            "rate_limited",
            retry_after_minutes=math.ceil(limits.signin_window_minutes),
        )
    row = None
    if NAME_PATTERN.fullmatch(typed):
        row = conn.execute(
            "SELECT username, role, display_name, password_hash, disabled FROM auth.users "
            "WHERE username = %s",
            (typed,),
        ).fetchone()
    if row is None:
        verify_password(_dummy_hash(), password if isinstance(password, str) else "")
        raise _refuse(conn, recorded, "unknown_user")
    username, role, display_name, password_hash, disabled = row
    if not verify_password(password_hash, password if isinstance(password, str) else ""):
        raise _refuse(conn, username, "bad_password")
    if disabled:
        raise _refuse(conn, username, "disabled")
    user = User(username, role, display_name)
    _append_user_event(
        conn, "SignedIn", username, actor=username, payload={"method": "password", "role": role}
    )
    return user


def sign_in_oidc(conn: psycopg.Connection, email: str) -> User:
    """The account of a person the identity provider vouched for (single sign-on).

    The account name is the e-mail address, in lower case: ``pebble user add
    priya@example.in --role sales`` first. No account (or a disabled one) is refused and
    recorded like a password sign-in; records ``SignedIn`` with method ``oidc``."""
    typed = email.strip().lower() if isinstance(email, str) else ""
    if not typed:
        raise SignInRefused("unknown_user", "")
    row = None
    if NAME_PATTERN.fullmatch(typed):
        row = conn.execute(
            "SELECT username, role, display_name, disabled FROM auth.users WHERE username = %s",
            (typed,),
        ).fetchone()
    if row is None:
        raise _refuse(conn, typed[:_MAX_RECORDED_NAME], "unknown_user")
    username, role, display_name, disabled = row
    if disabled:
        raise _refuse(conn, username, "disabled")
    _append_user_event(
        conn, "SignedIn", username, actor=username, payload={"method": "oidc", "role": role}
    )
    return User(username, role, display_name)


def sign_out(conn: psycopg.Connection, user: User, reason: str = "user") -> None:
    """Record ``SignedOut`` (``reason`` "user" or "expired")."""
    _append_user_event(conn, "SignedOut", user.name, actor=user.name, payload={"reason": reason})


def is_idle(last_seen: float | None, now: float, idle_minutes: float | None = None) -> bool:
    """True when a session last active at ``last_seen`` (epoch seconds) has expired."""
    if last_seen is None:
        return False
    limit = get_settings().session_idle_minutes if idle_minutes is None else idle_minutes
    return now - last_seen > limit * 60


# --- reading accounts (no hashes) -----------------------------------------------------------

_TIME = pl.Datetime("us", "UTC")
#: The columns of :func:`list_users` and their types.
USER_COLUMNS: dict[str, pl.DataType] = {
    "username": pl.String(),
    "display_name": pl.String(),
    "role": pl.String(),
    "disabled": pl.Boolean(),
    "created_at": _TIME,
    "password_changed_at": _TIME,
    "last_signed_in_at": _TIME,
}


def list_users(conn: psycopg.Connection) -> pl.DataFrame:
    """Every account, without its hash, with its last successful sign-in."""
    rows = conn.execute(
        """
        SELECT u.username, u.display_name, u.role, u.disabled, u.created_at,
               u.password_changed_at,
               (SELECT max(e.occurred_at) FROM ops.events AS e
                WHERE e.entity_type = 'user' AND e.entity_id = u.username
                  AND e.event_type = 'SignedIn') AS last_signed_in_at
        FROM auth.users AS u
        ORDER BY u.username
        """
    ).fetchall()
    return pl.DataFrame(rows, schema=USER_COLUMNS, orient="row")


#: The columns of :func:`recent_sign_in_events` and their types.
SIGN_IN_EVENT_COLUMNS: dict[str, pl.DataType] = {
    "occurred_at": _TIME,
    "user_name": pl.String(),
    "event": pl.String(),
    "detail": pl.String(),
    "role": pl.String(),
}


def recent_sign_in_events(conn: psycopg.Connection, limit: int = 200) -> pl.DataFrame:
    """The latest sign-in, sign-out and refused sign-in events, newest first. ``detail`` is
    the method (sign-in) or the reason (sign-out, refusal)."""
    rows = conn.execute(
        """
        SELECT occurred_at, entity_id, event_type,
               coalesce(payload ->> 'method', payload ->> 'reason'), payload ->> 'role'
        FROM ops.events
        WHERE entity_type = 'user' AND event_type IN ('SignedIn', 'SignedOut', 'SignInFailed')
        ORDER BY event_seq DESC
        LIMIT %s
        """,
        (limit,),
    ).fetchall()
    return pl.DataFrame(rows, schema=SIGN_IN_EVENT_COLUMNS, orient="row")
