"""Shared fixtures: a real PostgreSQL for every database test.

With ``DATABASE_URL`` set, tests create throwaway databases on that server; without it,
one embedded PostgreSQL (pgserver) is started for the session in a temporary directory.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pebble import db
from pebble.settings import get_settings

CORPUS_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora"


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """URL of the server tests run against (the admin database)."""
    external = os.environ.get("DATABASE_URL")
    if external:
        yield make_conninfo(external, dbname="postgres")
        return
    import pgserver

    # Not under pytest's basetemp: pytest resets that tree to mode 0700, and as root the
    # embedded server runs as its own system user, which must traverse the path.
    home = Path(tempfile.mkdtemp(prefix="pebble-test-pg-"))
    server = pgserver.get_server(home / "pg", cleanup_mode="delete")
    yield server.get_uri("postgres")
    server.cleanup()
    shutil.rmtree(home, ignore_errors=True)


def _url_for(server_url: str, dbname: str) -> str:
    params = conninfo_to_dict(server_url)
    params["dbname"] = dbname
    return db._to_url(params)


@pytest.fixture
def fresh_database_url(pg_server_url: str) -> Iterator[str]:
    """A new empty database for one test, dropped afterwards."""
    name = f"pebble_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = _url_for(pg_server_url, name)
    yield url
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        # and Dagster's database beside it, which a test that runs Dagster creates
        for dbname in (name, f"{name}_dagster"):
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
            )


@pytest.fixture
def pebble_env(
    fresh_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Point every pebble component at a fresh database and a temporary PEBBLE_HOME."""
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("PEBBLE_HOME", str(tmp_path / "pebble_home"))
    monkeypatch.delenv(db.RESOLVED_URL_ENV, raising=False)
    monkeypatch.delenv("PEBBLE_DAGSTER_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield fresh_database_url
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def migrated_template(pg_server_url: str) -> Iterator[str]:
    """A database migrated to the newest schema once per session, which each ``warehouse``
    test copies (CREATE DATABASE ... TEMPLATE) instead of running every migration again."""
    name = f"pebble_template_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    db.upgrade(_url_for(pg_server_url, name), cached=False)
    yield name
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def warehouse(
    pebble_env: str, pg_server_url: str, migrated_template: str
) -> Iterator[psycopg.Connection]:
    """An autocommit connection to a fresh warehouse database, migrated to the newest
    schema (every Python-owned table exists, empty but for seed rows)."""
    name = conninfo_to_dict(pebble_env)["dbname"]
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(migrated_template)
            )
        )
    assert db.upgrade(pebble_env, cached=False) == db.head_revision()
    with psycopg.connect(pebble_env, autocommit=True) as conn:
        yield conn


@pytest.fixture
def bare_warehouse(pebble_env: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection to a fresh database with only the schemas raw/staging/marts
    and no tables: for code that must cope with tables that do not exist yet."""
    with psycopg.connect(pebble_env, autocommit=True) as conn:
        db.ensure_schemas(conn)
        yield conn


@pytest.fixture
def embedded_home() -> Iterator[Path]:
    """A PEBBLE_HOME outside pytest's basetemp, for tests that start the embedded server."""
    home = Path(tempfile.mkdtemp(prefix="pebble-test-home-"))
    yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def flanker_corpus() -> Path:
    """The shared corpus of real odd emails; fails clearly when the checkout lacks it."""
    path = CORPUS_DIR / "flanker-messages"
    if not path.is_dir():
        pytest.fail(
            f"email corpus not found at {path}: tests need ../shared/corpora beside the repo"
        )
    return path


@pytest.fixture
def app_url(warehouse: psycopg.Connection, pebble_env: str, tmp_path: Path) -> Iterator[str]:
    """The app's login role, made by db.ensure_app_role after the migrations (as pebble up
    does), under a name of this test's own; dropped afterwards."""
    role = f"pebble_app_{uuid.uuid4().hex[:8]}"
    url = db.ensure_app_role(pebble_env, role=role, password_file=tmp_path / "pw")
    assert url is not None
    yield url
    with psycopg.connect(pebble_env, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.fixture(autouse=True)
def _keep_the_main_module() -> Iterator[None]:
    """Streamlit's AppTest installs the page it runs as ``__main__``; a later multiprocessing
    child started by spawn or a fork server re-runs ``__main__`` and, being a page, dies at
    once, over and over (a pool then waits forever). Every test, wherever its AppTest is,
    gets the real one back."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main
