"""Database resolution: an external server from ``DATABASE_URL`` or an embedded PostgreSQL.

The embedded server is `pgserver` (PostgreSQL 16 from a wheel) with its data under
``$PEBBLE_HOME/pg``. It is shared by every process that asks for it (pgserver keeps a
handle list on disk) and stops when the last process holding a handle exits.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pebble.settings import get_settings

log = logging.getLogger(__name__)

#: Child processes started by `pebble up` inherit the resolved URL here, so they share the
#: server without starting (or stopping) it themselves.
RESOLVED_URL_ENV = "PEBBLE_RESOLVED_DATABASE_URL"
WAREHOUSE_SCHEMAS = ("raw", "staging", "marts")
#: Alembic's migrations (revisions in ``versions/``) and where it records the applied one.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_SCHEMA = "ops"
VERSION_TABLE = "alembic_version"
#: Session advisory lock held while migrating ("pebmigra"), so concurrent upgrades queue.
MIGRATION_LOCK_KEY = 0x7065626D69677261


@lru_cache(maxsize=4)
def _embedded_server(pgdata: Path) -> Any:
    import warnings

    with warnings.catch_warnings():
        # platformdirs warns on import when XDG_RUNTIME_DIR is unset (servers, CI); harmless
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import pgserver  # imported lazily: only the embedded path needs it

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    return pgserver.get_server(pgdata, cleanup_mode="stop")


def embedded_pgdata() -> Path:
    return get_settings().home / "pg"


def start_embedded() -> str:
    """Start (or attach to) the embedded server and return its URL for database `pebble`."""
    server = _embedded_server(embedded_pgdata())
    url = server.get_uri("pebble")
    ensure_database(url)
    return url


def stop_embedded() -> None:
    """Release this process's handle on the embedded server (stops it if it was the last)."""
    pgdata = embedded_pgdata().resolve()
    if _embedded_server.cache_info().currsize:
        try:
            _embedded_server(pgdata).cleanup()
        finally:
            _embedded_server.cache_clear()


def is_embedded() -> bool:
    return get_settings().database_url is None and RESOLVED_URL_ENV not in os.environ


def warehouse_url() -> str:
    """The warehouse database URL: ``DATABASE_URL`` if set, else the embedded server's."""
    settings = get_settings()
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    if RESOLVED_URL_ENV in os.environ:
        return os.environ[RESOLVED_URL_ENV]
    return start_embedded()


def dagster_url() -> str:
    """Dagster's storage database: its own database beside the warehouse, created if missing."""
    settings = get_settings()
    if settings.dagster_database_url is not None:
        return settings.dagster_database_url.get_secret_value()
    params = conninfo_to_dict(warehouse_url())
    params["dbname"] = f"{params.get('dbname') or 'postgres'}_dagster"
    url = _to_url(params)
    ensure_database(url)
    return url


def _to_url(params: dict[str, Any]) -> str:
    """Render libpq params as a postgresql:// URL (SQLAlchemy and dbt need URLs or parts)."""
    from urllib.parse import quote, urlencode

    user = quote(str(params.get("user") or ""), safe="")
    password = params.get("password")
    auth = f"{user}:{quote(str(password), safe='')}@" if password else (f"{user}@" if user else "")
    host = str(params.get("host") or "")
    query: dict[str, str] = {}
    netloc_host = host
    if host.startswith("/"):
        query["host"] = host
        netloc_host = ""
    port = params.get("port")
    netloc = f"{auth}{netloc_host}{':' + str(port) if port and netloc_host else ''}"
    for key, value in params.items():
        if key not in {"user", "password", "host", "port", "dbname"} and value is not None:
            query[key] = str(value)
    if port and not netloc_host:
        query["port"] = str(port)
    tail = f"?{urlencode(query, quote_via=quote)}" if query else ""
    return f"postgresql://{netloc}/{quote(str(params.get('dbname') or ''), safe='')}{tail}"


def redact(url: str) -> str:
    """A URL safe to print: the password replaced by ***."""
    return re.sub(r"(postgres(?:ql)?://[^:/@]*:)[^@]*@", r"\1***@", url)


def ensure_database(url: str) -> None:
    """Create the database named in ``url`` if it does not exist (needs CREATEDB)."""
    params = conninfo_to_dict(url)
    dbname = params.get("dbname")
    if not dbname:
        return
    try:
        with psycopg.connect(url, connect_timeout=10):
            return
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
    admin = make_conninfo(url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        except psycopg.errors.DuplicateDatabase:
            pass  # created concurrently by another process


def connect(autocommit: bool = False) -> psycopg.Connection:
    """A new connection to the warehouse."""
    return psycopg.connect(warehouse_url(), autocommit=autocommit, connect_timeout=10)


@contextmanager
def transaction() -> Iterator[psycopg.Connection]:
    """A connection whose work commits on success and rolls back on error."""
    with connect() as conn:
        with conn.transaction():
            yield conn


def ensure_schemas(conn: psycopg.Connection | None = None) -> None:
    """Create the warehouse schemas (raw, staging, marts) if missing.

    Superseded by :func:`upgrade`, which creates them and every table; kept for callers
    that only need the schemas."""
    if conn is None:
        with connect(autocommit=True) as own:
            ensure_schemas(own)
        return
    for schema in WAREHOUSE_SCHEMAS:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


# --- migrations ----------------------------------------------------------------------------

_upgraded: dict[str, str] = {}
_upgrade_lock = threading.Lock()


def sqlalchemy_engine(url: str | None = None) -> Any:
    """A SQLAlchemy engine (psycopg 3 driver, no pool) on the warehouse or ``url``.

    The libpq URL or conninfo string is handed to psycopg as is, so socket hosts, options
    and passwords need no translation into SQLAlchemy's URL form."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    target = url or warehouse_url()
    return create_engine(
        "postgresql+psycopg://",
        creator=lambda: psycopg.connect(target, connect_timeout=10),
        poolclass=NullPool,
    )


def alembic_config(url: str | None = None) -> Any:
    """Alembic's configuration, built in code (no alembic.ini): scripts in
    ``pebble/migrations``, the database ``url`` (default: the warehouse)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # new revision files are named NNNN_<slug>.py (see `pebble db revision`)
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if url is not None:
        config.attributes["url"] = url
    return config


@lru_cache(maxsize=1)
def _revisions() -> tuple[str, frozenset[str]]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    heads = script.get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migrations must have exactly one head, found {sorted(heads)}")
    return heads[0], frozenset(rev.revision for rev in script.walk_revisions())


def head_revision() -> str:
    """The newest revision in ``pebble/migrations/versions``."""
    return _revisions()[0]


def current_revision(url: str | None = None) -> str | None:
    """The revision the database is at (``ops.alembic_version``), or None if never migrated."""
    with psycopg.connect(url or warehouse_url(), connect_timeout=10) as conn:
        table = conn.execute(
            "SELECT to_regclass(%s)", (f'"{VERSION_SCHEMA}"."{VERSION_TABLE}"',)
        ).fetchone()
        if table is None or table[0] is None:
            return None
        row = conn.execute(
            sql.SQL("SELECT version_num FROM {}").format(
                sql.Identifier(VERSION_SCHEMA, VERSION_TABLE)
            )
        ).fetchone()
        return None if row is None else row[0]


def upgrade(url: str | None = None, *, cached: bool = True) -> str:
    """Apply every pending migration to the warehouse (or ``url``); returns the head revision.

    Idempotent, and safe when several processes call it at once (they queue on an advisory
    lock; the later ones find nothing to do). A database already at head costs one query,
    and after the first call none: the result is remembered per process and URL
    (``cached=False`` checks the database again)."""
    target = url or warehouse_url()
    if cached and target in _upgraded:
        return _upgraded[target]
    with _upgrade_lock:
        if cached and target in _upgraded:
            return _upgraded[target]
        head, known = _revisions()
        current = current_revision(target)
        if current is not None and current not in known:
            raise RuntimeError(
                f"the warehouse is at schema revision {current}, which this release does not "
                f"know (its newest is {head}): it was migrated by a newer release"
            )
        if current != head:
            _run_alembic_upgrade(target)
            reached = current_revision(target)
            if reached != head:
                raise RuntimeError(f"migrations stopped at {reached}, expected {head}")
        _upgraded[target] = head
        return head


def _run_alembic_upgrade(url: str) -> None:
    from alembic import command

    config = alembic_config(url)
    engine = sqlalchemy_engine(url)
    try:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()
    log.info("warehouse %s migrated to %s", redact(url), head_revision())


def libpq_parts(url: str | None = None) -> dict[str, str]:
    """host/port/user/password/dbname of the warehouse, for the dbt profile."""
    params = conninfo_to_dict(url or warehouse_url())
    return {
        "host": str(params.get("host") or "127.0.0.1"),
        "port": str(params.get("port") or "5432"),
        "user": str(params.get("user") or "postgres"),
        "password": str(params.get("password") or ""),
        "dbname": str(params.get("dbname") or "postgres"),
    }


def runtime_env() -> dict[str, str]:
    """Environment for child processes and in-process tools (Dagster, dbt, Streamlit).

    Resolves the database once (starting the embedded server if needed) and hands the
    result down, so every component agrees on where data lives.
    """
    settings = get_settings()
    url = warehouse_url()
    dagster_url()  # created up front, so Dagster's processes only connect
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    _link_dagster_yaml(settings.dagster_home)
    return {
        RESOLVED_URL_ENV: url,
        "DAGSTER_HOME": str(settings.dagster_home),
        "PEBBLE_HOME": str(settings.home),
        **dbt_env(url),
    }


def dbt_env(url: str | None = None) -> dict[str, str]:
    """The variables the dbt profile (dbt/profiles.yml) reads, for the resolved warehouse."""
    parts = libpq_parts(url)
    return {
        "PEBBLE_PG_HOST": parts["host"],
        "PEBBLE_PG_PORT": parts["port"],
        "PEBBLE_PG_USER": parts["user"],
        "PEBBLE_PG_PASSWORD": parts["password"],
        "PEBBLE_PG_DBNAME": parts["dbname"],
        "DBT_PROFILES_DIR": str(Path(__file__).resolve().parent.parent / "dbt"),
    }


def apply_runtime_env() -> dict[str, str]:
    """Resolve the database and export :func:`runtime_env` into this process's environment."""
    env = runtime_env()
    os.environ.update(env)
    return env


def _link_dagster_yaml(dagster_home: Path) -> None:
    from pebble.settings import PROJECT_ROOT

    target = dagster_home / "dagster.yaml"
    source = PROJECT_ROOT / "dagster.yaml"
    if target.is_symlink() and target.resolve() == source.resolve():
        return
    if target.exists() or target.is_symlink():
        target.unlink()
    target.symlink_to(source)
