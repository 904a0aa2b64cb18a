"""Secrets stay out of messages, and the app connects with its own narrow role."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict

from pebble import db

SECRET = "S3cretPw"
PEBBLE = str(Path(sys.executable).parent / "pebble")
ROOT = Path(__file__).resolve().parents[2]

#: The mistyped URL from the report (no ':' after the scheme), and others that fail.
BAD_URLS = {
    "mistyped": f"postgres//dbuser:{SECRET}@127.0.0.1:5432/db",
    "unreachable": f"postgresql://dbuser:{SECRET}@127.0.0.1:1/db",
    "conninfo": f"host=127.0.0.1 port=1 user=dbuser password={SECRET}",
    "encoded": f"postgresql://dbuser:{SECRET}%40x%2F@127.0.0.1:1/db",
}


@pytest.mark.parametrize("kind", sorted(BAD_URLS))
def test_connection_errors_are_typed_and_never_hold_the_password(kind: str) -> None:
    url = BAD_URLS[kind]
    with pytest.raises(db.DatabaseConnectionError) as caught:
        db.connect_url(url, connect_timeout=3)
    error = caught.value
    assert SECRET not in str(error)
    assert "\n" not in str(error)
    # the libpq error (which quotes the URL) is neither the cause nor the context
    assert error.__cause__ is None and error.__context__ is None
    assert isinstance(error, psycopg.OperationalError)  # existing handlers still catch it
    if kind == "mistyped":
        assert isinstance(error, db.DatabaseUrlError)
        assert "not a valid PostgreSQL URL" in str(error)
        assert "expected postgresql://user@host:port/dbname" in str(error)
    else:
        assert "cannot connect to the warehouse" in str(error)
        assert "127.0.0.1" in str(error)
    assert SECRET not in db.redact(url)


def test_a_url_that_does_not_parse_is_a_typed_error() -> None:
    with pytest.raises(db.DatabaseUrlError) as caught:
        db.parse_url(BAD_URLS["mistyped"])
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("command", "kind"),
    [
        (["db", "upgrade"], "mistyped"),
        (["materialize", "--no-demo"], "mistyped"),
        (["mail", "load", "{drop}"], "mistyped"),
        (["mail", "load", "{drop}"], "unreachable"),
        (["db", "upgrade"], "unreachable"),
    ],
)
def test_commands_print_one_line_without_the_password(
    command: list[str], kind: str, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "one.eml").write_bytes(b"From: a@example.in\r\nSubject: hi\r\n\r\nhello\r\n")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PEBBLE_", "PG")) and key != "DATABASE_URL"
    }
    env |= {"DATABASE_URL": BAD_URLS[kind], "PEBBLE_HOME": str(tmp_path / "home")}
    args = [PEBBLE, *(part.format(drop=drop) for part in command)]
    done = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert SECRET not in output
    assert "Traceback" not in output
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, output
    expected = "not a valid PostgreSQL URL" if kind == "mistyped" else "cannot connect"
    assert lines[0].startswith("error: ") and expected in lines[0]


# --- the app's role ------------------------------------------------------------------------


@pytest.fixture
def app_role(warehouse: psycopg.Connection) -> Iterator[str]:
    """A role name of this test's own (roles are shared by every database of a server),
    dropped with everything granted to it afterwards."""
    role = f"pebble_app_{uuid.uuid4().hex[:8]}"
    yield role
    with psycopg.connect(warehouse.info.dsn, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        if exists:
            admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_the_app_role_reads_marts_and_cannot_write_raw(
    warehouse: psycopg.Connection, pebble_env: str, app_role: str, tmp_path: Path
) -> None:
    warehouse.execute("CREATE SCHEMA IF NOT EXISTS marts")
    warehouse.execute("CREATE TABLE marts.trust_before (n int)")
    warehouse.execute("INSERT INTO marts.trust_before VALUES (1)")
    secret_file = tmp_path / "home" / db.APP_PASSWORD_FILE
    url = db.ensure_app_role(pebble_env, role=app_role, password_file=secret_file)
    assert url is not None
    # a table dbt creates later is readable too (default privileges)
    warehouse.execute("CREATE TABLE marts.trust_after (n int)")

    params = conninfo_to_dict(url)
    password = secret_file.read_text().strip()
    assert params["user"] == app_role and params["password"] == password
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    stored = warehouse.execute(
        "SELECT rolpassword, rolsuper, rolcreaterole, rolcreatedb FROM pg_authid"
        " WHERE rolname = %s",
        (app_role,),
    ).fetchone()
    assert stored[0].startswith("SCRAM-SHA-256$") and password not in stored[0]
    assert stored[1:] == (False, False, False)

    with psycopg.connect(url, autocommit=True) as app:
        assert app.execute("SELECT current_user").fetchone()[0] == app_role
        assert app.execute("SELECT n FROM marts.trust_before").fetchall() == [(1,)]
        assert app.execute("SELECT count(*) FROM marts.trust_after").fetchone()[0] == 0
        assert app.execute("SELECT count(*) FROM ops.alembic_version").fetchone()[0] == 1
        denied = [
            "INSERT INTO raw.emails (email_key) VALUES ('x')",
            "SELECT count(*) FROM raw.emails",
            "DELETE FROM raw.rejects",
            "INSERT INTO marts.trust_before VALUES (2)",
            "UPDATE marts.trust_before SET n = 3",
            "CREATE TABLE marts.trust_mine (n int)",
            "DROP TABLE marts.trust_before",
        ]
        for statement in denied:
            with pytest.raises(errors.InsufficientPrivilege):
                app.execute(statement)
    # the same URL again: the password is kept, not regenerated
    again = db.ensure_app_role(pebble_env, role=app_role, password_file=secret_file)
    assert again == url


def test_the_app_role_may_insert_events_only(
    warehouse: psycopg.Connection, pebble_env: str, app_role: str, tmp_path: Path
) -> None:
    # ops.events comes from migration 0005 (tests/platform/test_events.py tests the API)
    url = db.ensure_app_role(pebble_env, role=app_role, password_file=tmp_path / "pw")
    assert url is not None
    with psycopg.connect(url, autocommit=True) as app:
        app.execute(
            "INSERT INTO ops.events (event_id, event_type, entity_type, entity_id,"
            " entity_version, actor, payload, occurred_at) VALUES (gen_random_uuid(),"
            " 'CardMoved', 'card', 't1', 1, 'priya', '{\"to\": \"done\"}', now())"
        )
        assert app.execute("SELECT count(*) FROM ops.events").fetchone()[0] >= 1
        for statement in ("UPDATE ops.events SET actor = 'x'", "DELETE FROM ops.events"):
            with pytest.raises(errors.InsufficientPrivilege):
                app.execute(statement)


def test_the_app_gets_only_its_own_url(
    warehouse: psycopg.Connection, pebble_env: str, app_role: str
) -> None:
    owner = dict(os.environ) | {
        db.RESOLVED_URL_ENV: pebble_env,
        "DATABASE_URL": pebble_env,
        "PEBBLE_DAGSTER_DATABASE_URL": pebble_env + "_dagster",
        **db.dbt_env(pebble_env),
    }
    env = db.app_env(owner, role=app_role)
    assert conninfo_to_dict(env["DATABASE_URL"])["user"] == app_role
    assert env[db.RESOLVED_URL_ENV] == env["DATABASE_URL"]
    assert env["PEBBLE_PG_USER"] == app_role
    assert "PEBBLE_DAGSTER_DATABASE_URL" not in env and "PEBBLE_PG_PASSWORD" not in env
    assert pebble_env not in env.values()


def test_without_createrole_the_app_falls_back_to_the_owner_with_a_warning(
    warehouse: psycopg.Connection,
    pebble_env: str,
    app_role: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    owner = f"pebble_owner_{uuid.uuid4().hex[:8]}"
    warehouse.execute(
        sql.SQL("CREATE ROLE {} LOGIN NOCREATEROLE NOSUPERUSER").format(sql.Identifier(owner))
    )
    try:
        params = conninfo_to_dict(pebble_env) | {"user": owner}
        url = db._to_url(params)
        with caplog.at_level(logging.WARNING, logger="pebble.db"):
            assert db.ensure_app_role(url, role=app_role) is None
            assert db.app_url(url, role=app_role) == url
        assert "cannot create roles" in caplog.text
        role = warehouse.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (app_role,))
        assert role.fetchone() is None
    finally:
        warehouse.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(owner)))
