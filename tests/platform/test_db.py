"""Database resolution: DATABASE_URL wins; otherwise an embedded server under PEBBLE_HOME."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg
import pytest

from pebble import db
from pebble.settings import get_settings


def test_database_url_wins(pebble_env: str) -> None:
    assert db.warehouse_url() == pebble_env
    assert not db.is_embedded()


def test_redact_hides_the_password() -> None:
    assert db.redact("postgresql://app:s3cret@db:5432/x") == "postgresql://app:***@db:5432/x"
    assert "s3cret" not in db.redact("postgres://u:s3cret@h/x")


def test_url_round_trip_keeps_socket_host_and_escapes() -> None:
    url = db._to_url({"user": "p", "password": "a@b", "host": "/tmp/sock dir", "dbname": "d"})
    parts = db.libpq_parts(url)
    assert parts["host"] == "/tmp/sock dir"
    assert parts["password"] == "a@b"
    assert parts["dbname"] == "d"


def test_embedded_server_lives_under_pebble_home_and_keeps_data(embedded_home: Path) -> None:
    """Two separate processes: the second sees what the first wrote, from $PEBBLE_HOME/pg."""
    home = embedded_home
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", db.RESOLVED_URL_ENV}}
    env["PEBBLE_HOME"] = str(home)
    script = textwrap.dedent(
        """
        import sys
        from pebble import db
        with db.connect(autocommit=True) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS kept (n int)")
            if sys.argv[1] == "write":
                conn.execute("INSERT INTO kept VALUES (42)")
            print(conn.execute("SELECT coalesce(sum(n), 0) FROM kept").fetchone()[0])
        db.stop_embedded()
        """
    )
    first = subprocess.run(
        [sys.executable, "-c", script, "write"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    assert (home / "pg" / "PG_VERSION").exists()
    second = subprocess.run(
        [sys.executable, "-c", script, "read"], env=env, capture_output=True, text=True, timeout=120
    )
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "42"
    # stopped cleanly: no server left running for that data directory
    assert not (home / "pg" / "postmaster.pid").exists()


def test_dagster_storage_gets_its_own_database(pebble_env: str) -> None:
    url = db.dagster_url()
    assert url != pebble_env
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0].endswith("_dagster")
    with psycopg.connect(db.warehouse_url(), autocommit=True) as conn:
        conn.execute("SELECT 1")
    name = db.libpq_parts(url)["dbname"]
    with psycopg.connect(
        psycopg.conninfo.make_conninfo(pebble_env, dbname="postgres"), autocommit=True
    ) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_settings_defaults_to_dot_pebble(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PEBBLE_HOME", raising=False)
    get_settings.cache_clear()
    try:
        assert get_settings().home == (Path.cwd() / ".pebble").resolve()
    finally:
        get_settings.cache_clear()


def test_dagster_storage_rebuilds_in_other_processes_from_settings(pebble_env: str) -> None:
    """Run workers and the daemon rebuild each storage from (module, class); all resolve."""
    from dagster._serdes import ConfigurableClassData

    storage = ConfigurableClassData("pebble.dagster_storage", "PebbleStorage", "{}").rehydrate(
        as_type=object
    )
    try:
        for data in (
            storage.event_storage_data,
            storage.run_storage_data,
            storage.schedule_storage_data,
        ):
            component = data.rehydrate(as_type=object)
            assert data.module_name == "pebble.dagster_storage"
            assert type(component).__module__.startswith("dagster_postgres")
        assert storage.run_storage.get_runs(limit=1) == []
    finally:
        name = db.libpq_parts(db.dagster_url())["dbname"]
        storage.event_log_storage.dispose()
        storage.run_storage.dispose()
        storage.schedule_storage.dispose()
        with psycopg.connect(
            psycopg.conninfo.make_conninfo(pebble_env, dbname="postgres"), autocommit=True
        ) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
