"""`pebble user`: add, reset, role and list accounts as the warehouse owner, with clear
errors and a non-zero exit for a bad role, a taken name or a short password."""

from __future__ import annotations

import psycopg
from typer.testing import CliRunner

from pebble import auth
from pebble.cli import app
from pebble.settings import get_settings

PASSWORD = "correct horse battery"


def _run(*args: str, input: str | None = None):
    return CliRunner().invoke(app, ["user", *args], input=input, terminal_width=200)


def test_add_reads_the_password_from_stdin_and_the_account_signs_in(
    warehouse: psycopg.Connection,
) -> None:
    result = _run(
        "add", "priya", "--role", "sales", "--display-name", "Priya Shah", "--password-stdin",
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "added priya (sales)" in result.output
    assert PASSWORD not in result.output
    user = auth.authenticate(warehouse, "priya", PASSWORD)
    assert (user.role, user.display_name) == ("sales", "Priya Shah")
    (actor,) = warehouse.execute(
        "SELECT actor FROM ops.events WHERE event_type = 'UserAdded'"
    ).fetchone()
    assert actor.startswith("cli:")

    listed = _run("list")
    assert listed.exit_code == 0
    assert listed.output.startswith("priya\tsales\tPriya Shah\tactive\tlast sign-in ")


def test_add_prompts_twice_when_no_stdin_flag(warehouse: psycopg.Connection) -> None:
    mismatch = _run("add", "ravi", "--role", "ops", input=f"{PASSWORD}\nother password\n")
    assert mismatch.exit_code != 0
    assert "do not match" in mismatch.output
    result = _run("add", "ravi", "--role", "ops", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # hidden input is not echoed
    assert auth.authenticate(warehouse, "ravi", PASSWORD).role == "ops"


def test_clear_errors_and_a_non_zero_exit(warehouse: psycopg.Connection) -> None:
    unknown_role = _run("add", "meera", "--role", "boss", "--password-stdin", input=PASSWORD)
    assert unknown_role.exit_code == 2
    assert "unknown role 'boss'; expected one of marketing, sales, ops, qc, manager, admin" in (
        unknown_role.output
    )
    short = _run("add", "meera", "--role", "marketing", "--password-stdin", input="short\n")
    assert short.exit_code == 2 and "too short: at least 10 characters" in short.output
    bad_name = _run("add", "Meera Iyer", "--role", "marketing", "--password-stdin", input=PASSWORD)
    assert bad_name.exit_code == 2 and "lower-case letters" in bad_name.output

    assert (
        _run("add", "meera", "--role", "marketing", "--password-stdin", input=PASSWORD).exit_code
        == 0
    )
    taken = _run("add", "meera", "--role", "sales", "--password-stdin", input=PASSWORD)
    assert taken.exit_code == 1 and "'meera' already exists" in taken.output
    missing = _run("reset", "nobody", "--password-stdin", input=PASSWORD)
    assert missing.exit_code == 1 and "no user 'nobody'" in missing.output
    assert warehouse.execute("SELECT username, role FROM auth.users").fetchall() == [
        ("meera", "marketing")
    ]  # fmt: skip


def test_reset_and_role(warehouse: psycopg.Connection) -> None:
    auth.add_user(warehouse, "arjun", "admin", PASSWORD, actor="test")
    reset = _run(
        "reset", "arjun", "--password-stdin", "--reason", "forgotten", input="a new password\n"
    )
    assert reset.exit_code == 0, reset.output
    assert auth.authenticate(warehouse, "arjun", "a new password").name == "arjun"
    role = _run("role", "arjun", "manager")
    assert role.exit_code == 0 and "arjun is now manager" in role.output
    assert auth.authenticate(warehouse, "arjun", "a new password").role == "manager"
    assert _run("role", "arjun", "boss").exit_code == 2


def test_the_demo_gets_one_account_per_role(
    warehouse: psycopg.Connection, tmp_path, monkeypatch
) -> None:
    from pebble.demo_stack import DEMO_USERS, ensure_demo_users

    monkeypatch.delenv("PEBBLE_DEMO_PASSWORD", raising=False)

    get_settings.cache_clear()
    lines = ensure_demo_users(warehouse, home=tmp_path)
    path = tmp_path / "demo-users.txt"
    assert path.stat().st_mode & 0o777 == 0o600
    written = [line.split(" ") for line in path.read_text().splitlines()]
    assert [(name, role) for name, role, _ in written] == [(n, r) for n, r, _ in DEMO_USERS]
    assert {role for _, role, _ in written} == {
        "marketing",
        "sales",
        "ops",
        "qc",
        "manager",
        "admin",
    }
    passwords = {name: password for name, _, password in written}
    assert auth.authenticate(warehouse, "priya", passwords["priya"]).role == "sales"
    assert lines[0].startswith("demo sign-in: meera (marketing), priya (sales)")
    assert any(str(path) in line for line in lines)
    assert not any(password in line for line in lines for password in passwords.values())

    # again: nothing changes; a missing account gets PEBBLE_DEMO_PASSWORD
    warehouse.execute("DELETE FROM auth.users WHERE username = 'arjun'")
    monkeypatch.setenv("PEBBLE_DEMO_PASSWORD", "demo password 123")
    get_settings.cache_clear()
    again = ensure_demo_users(warehouse, home=tmp_path)
    assert path.read_text().splitlines() == [" ".join(w) for w in written]
    assert auth.authenticate(warehouse, "arjun", "demo password 123").role == "admin"
    assert auth.authenticate(warehouse, "priya", passwords["priya"]).name == "priya"
    assert "  password: the value of PEBBLE_DEMO_PASSWORD" in again
