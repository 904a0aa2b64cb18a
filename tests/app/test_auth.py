"""Local accounts: argon2id hashes, sign-in and its refusals (wrong password, unknown name,
rate limit, disabled account), each recorded as an event that holds no secret."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from pebble import auth, events
from pebble.auth import SignInRefused, User
from pebble.settings import get_settings

PASSWORD = "correct horse battery"


def _events(conn: psycopg.Connection, name: str) -> list[tuple[str, dict]]:
    return [(e.event_type, e.payload) for e in events.history(conn, "user", name)]


def _refusal(conn: psycopg.Connection, name: str, password: str) -> str:
    with pytest.raises(SignInRefused) as refused:
        auth.authenticate(conn, name, password)
    return refused.value.reason


def test_passwords_are_hashed_with_argon2id() -> None:
    hashed = auth.hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
    assert auth.hash_password(PASSWORD) != hashed  # salted
    assert auth.verify_password(hashed, PASSWORD)
    assert not auth.verify_password(hashed, PASSWORD + "!")
    assert not auth.verify_password("not a hash", PASSWORD)
    with pytest.raises(auth.AccountError, match="at least 10 characters"):
        auth.hash_password("short")


def test_an_account_signs_in_with_its_password(warehouse: psycopg.Connection) -> None:
    user = auth.add_user(
        warehouse, "priya", "sales", PASSWORD, actor="cli:root", display_name="Priya Shah"
    )
    assert user == User("priya", "sales", "Priya Shah")
    stored = warehouse.execute(
        "SELECT role, password_hash, disabled FROM auth.users WHERE username = 'priya'"
    ).fetchone()
    assert stored[0] == "sales" and stored[1].startswith("$argon2id$") and stored[2] is False

    assert auth.authenticate(warehouse, "  Priya ", PASSWORD) == user  # case and spaces
    auth.sign_out(warehouse, user, "expired")
    assert _events(warehouse, "priya") == [
        ("UserAdded", {"role": "sales", "display_name": "Priya Shah"}),
        ("SignedIn", {"method": "password", "role": "sales"}),
        ("SignedOut", {"reason": "expired"}),
    ]
    frame = auth.list_users(warehouse)
    assert frame["username"].to_list() == ["priya"]
    assert "password_hash" not in frame.columns
    assert frame["last_signed_in_at"][0] is not None


def test_wrong_password_and_unknown_user_are_refused_alike(warehouse: psycopg.Connection) -> None:
    auth.add_user(warehouse, "priya", "sales", PASSWORD, actor="cli:root")
    with pytest.raises(SignInRefused) as wrong:
        auth.authenticate(warehouse, "priya", "not the password")
    with pytest.raises(SignInRefused) as unknown:
        auth.authenticate(warehouse, "nobody", PASSWORD)
    assert (wrong.value.reason, unknown.value.reason) == ("bad_password", "unknown_user")
    assert wrong.value.public_message == unknown.value.public_message  # says nothing more
    assert _events(warehouse, "priya")[-1] == ("SignInFailed", {"reason": "bad_password"})
    assert _events(warehouse, "nobody") == [("SignInFailed", {"reason": "unknown_user"})]
    # a name the table could never hold is refused (and recorded) the same way
    assert _refusal(warehouse, "Robert'); DROP TABLE auth.users;--", PASSWORD) == "unknown_user"
    assert warehouse.execute("SELECT count(*) FROM auth.users").fetchone()[0] == 1


def test_five_failures_lock_the_name_until_the_window_passes_or_a_reset(
    warehouse: psycopg.Connection,
) -> None:
    auth.add_user(warehouse, "priya", "sales", PASSWORD, actor="cli:root")
    for _ in range(5):
        assert _refusal(warehouse, "priya", "guess guess guess") == "bad_password"
    # the right password no longer helps: it is not even checked
    with pytest.raises(SignInRefused) as locked:
        auth.authenticate(warehouse, "priya", PASSWORD)
    assert locked.value.reason == "rate_limited" and locked.value.retry_after_minutes == 15
    assert "15 minutes" in locked.value.public_message
    # unknown names are limited the same way (no way to tell them apart)
    for _ in range(5):
        assert _refusal(warehouse, "ghost", "guess guess guess") == "unknown_user"
    assert _refusal(warehouse, "ghost", PASSWORD) == "rate_limited"
    # an admin's reset lifts the lock
    auth.reset_password(warehouse, "priya", PASSWORD + "2", actor="cli:root", reason="locked")
    assert auth.authenticate(warehouse, "priya", PASSWORD + "2").name == "priya"
    assert ("UserPasswordReset", {"reason": "locked"}) in _events(warehouse, "priya")


def test_failures_older_than_the_window_do_not_count(
    warehouse: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PEBBLE_SIGNIN_MAX_FAILURES", "2")
    get_settings.cache_clear()
    auth.add_user(warehouse, "ravi", "ops", PASSWORD, actor="cli:root")
    warehouse.execute("UPDATE auth.users SET password_changed_at = now() - interval '1 hour'")
    old = datetime.now(UTC) - timedelta(minutes=16)
    for version in (2, 3, 4):
        event = events.new_event(
            "SignInFailed", "ravi", actor="ravi", payload={"reason": "bad_password"},
            occurred_at=old,
        )  # fmt: skip
        events.append(warehouse, event, version - 1)
    assert auth.authenticate(warehouse, "ravi", PASSWORD).role == "ops"
    # two fresh failures reach the lowered limit
    _refusal(warehouse, "ravi", "guess guess guess")
    _refusal(warehouse, "ravi", "guess guess guess")
    assert _refusal(warehouse, "ravi", PASSWORD) == "rate_limited"


def test_a_disabled_account_is_refused_only_with_the_right_password(
    warehouse: psycopg.Connection,
) -> None:
    auth.add_user(warehouse, "qasim", "qc", PASSWORD, actor="cli:root")
    warehouse.execute("UPDATE auth.users SET disabled = true WHERE username = 'qasim'")
    assert _refusal(warehouse, "qasim", "wrong password!") == "bad_password"
    assert _refusal(warehouse, "qasim", PASSWORD) == "disabled"


def test_accounts_are_checked_before_they_are_stored(warehouse: psycopg.Connection) -> None:
    auth.add_user(warehouse, "arjun", "admin", PASSWORD, actor="cli:root")
    with pytest.raises(auth.UserExists, match="'arjun' already exists"):
        auth.add_user(warehouse, "arjun", "sales", PASSWORD, actor="cli:root")
    with pytest.raises(auth.AccountError, match="marketing, sales, ops, qc, manager, admin"):
        auth.add_user(warehouse, "meera", "boss", PASSWORD, actor="cli:root")
    with pytest.raises(auth.AccountError, match="lower-case letters"):
        auth.add_user(warehouse, "Meera Iyer", "marketing", PASSWORD, actor="cli:root")
    with pytest.raises(auth.AccountError, match="at least 10"):
        auth.add_user(warehouse, "meera", "marketing", "123456789", actor="cli:root")
    with pytest.raises(auth.UnknownUser):
        auth.reset_password(warehouse, "meera", PASSWORD, actor="cli:root")
    assert auth.set_role(warehouse, "arjun", "manager", actor="cli:root").role == "manager"
    assert _events(warehouse, "arjun")[-1] == (
        "UserRoleChanged",
        {"role": "manager", "previous_role": "admin"},
    )
    assert warehouse.execute("SELECT username FROM auth.users").fetchall() == [("arjun",)]


def test_no_event_holds_a_password_or_a_hash(warehouse: psycopg.Connection) -> None:
    auth.add_user(warehouse, "priya", "sales", PASSWORD, actor="cli:root")
    auth.reset_password(warehouse, "priya", PASSWORD + "!", actor="cli:root")
    auth.authenticate(warehouse, "priya", PASSWORD + "!")
    _refusal(warehouse, "priya", PASSWORD)
    _refusal(warehouse, "nobody", "secret-for-nobody")
    (hashed,) = warehouse.execute("SELECT password_hash FROM auth.users").fetchone()
    stored = warehouse.execute(
        "SELECT string_agg(entity_id || ' ' || actor || ' ' || payload::text, ' ') FROM ops.events"
    ).fetchone()[0]
    for secret in (PASSWORD, "secret-for-nobody", hashed, "$argon2"):
        assert secret not in stored
    assert len(events.history(warehouse, "user", "priya")) == 4
    frame = auth.recent_sign_in_events(warehouse)
    assert frame["event"].to_list() == ["SignInFailed", "SignInFailed", "SignedIn"]
    assert frame["detail"].to_list() == ["unknown_user", "bad_password", "password"]


def test_the_app_role_signs_people_in_but_cannot_change_accounts(
    warehouse: psycopg.Connection, app_url: str
) -> None:
    auth.add_user(warehouse, "priya", "sales", PASSWORD, actor="cli:root")
    with psycopg.connect(app_url, autocommit=True) as app:
        assert auth.authenticate(app, "priya", PASSWORD).role == "sales"
        assert _refusal(app, "priya", "wrong password!") == "bad_password"
        assert auth.list_users(app).height == 1
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            auth.reset_password(app, "priya", "a new password", actor="priya")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            auth.add_user(app, "mallory", "admin", PASSWORD, actor="mallory")
    assert [t for t, _ in _events(warehouse, "priya")] == ["UserAdded", "SignedIn", "SignInFailed"]


def test_an_idle_session_expires() -> None:
    assert not auth.is_idle(None, 10_000.0)
    assert not auth.is_idle(1_000.0, 1_000.0 + 59 * 60, idle_minutes=60)
    assert auth.is_idle(1_000.0, 1_000.0 + 61 * 60, idle_minutes=60)
