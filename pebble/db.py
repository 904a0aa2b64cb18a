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
from collections.abc import Iterator, Mapping
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
    params = parse_url(warehouse_url())
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
    """A URL (or libpq conninfo string) safe to print: every password in it replaced by ***,
    also when the text is too malformed to parse."""
    return redact_text(url, url)


def _secrets(url: str) -> set[str]:
    """The password(s) in ``url``, as written and percent-encoded/decoded.

    A URL libpq parses has exactly its ``password``. One it cannot parse (and whose text
    libpq then quotes in its error) is searched by hand: the userinfo after ``user:`` up to
    the last ``@`` before any query (so passwords holding ``@`` or ``/`` count whole), and
    ``password=`` values."""
    from urllib.parse import quote, unquote

    found: set[str] = set()
    try:
        password = conninfo_to_dict(url).get("password")
        parsed = True
    except psycopg.Error:
        password, parsed = None, False
    if password:
        found.add(str(password))
    if not parsed:
        for chunk in re.split(r"\s+", url):
            rest = chunk.split("//", 1)[1] if "//" in chunk else chunk
            userinfo, at, _host = rest.split("?", 1)[0].rpartition("@")
            if at and ":" in userinfo:
                found.add(userinfo.split(":", 1)[1])
        pattern = r"password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&]+)"
        for match in re.finditer(pattern, url, re.IGNORECASE):
            found.add(match.group(1).strip("'"))
    return {
        form for value in found if value for form in (value, unquote(value), quote(value, safe=""))
    }


def redact_text(text: str, url: str) -> str:
    """``text`` (an error message, a log line) with every password of ``url`` removed."""
    for secret in sorted(_secrets(url), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


class DatabaseConnectionError(psycopg.OperationalError):
    """The warehouse could not be reached, or its URL is not valid. The message never holds
    the password (libpq quotes the URL it could not parse, password included)."""

    code = "DATABASE_UNAVAILABLE"


class DatabaseUrlError(DatabaseConnectionError):
    """``DATABASE_URL`` (or another database URL) is not a valid PostgreSQL URL."""

    code = "DATABASE_URL_INVALID"


class DatabaseMissing(DatabaseConnectionError):
    """The server answered, but the database (or role) named in the URL does not exist."""

    code = "DATABASE_MISSING"


URL_HINT = "expected postgresql://user@host:port/dbname, the password after the user and a colon"


def _connection_error(exc: BaseException, url: str, what: str) -> DatabaseConnectionError:
    """A typed, one-line, password-free error for a failure to parse or reach ``url``."""
    detail = " ".join(redact_text(str(exc), url).split())
    where = redact(url)
    if isinstance(exc, psycopg.ProgrammingError) or not isinstance(exc, psycopg.Error):
        return DatabaseUrlError(
            f"cannot use {what}: its URL is not a valid PostgreSQL URL (check DATABASE_URL; "
            f"{URL_HINT}): {detail}"
        )
    if isinstance(exc, psycopg.OperationalError) and "does not exist" in detail:
        return DatabaseMissing(f"cannot connect to {what} ({where}): {detail}")
    return DatabaseConnectionError(f"cannot connect to {what} ({where}): {detail}")


def parse_url(url: str, what: str = "the warehouse") -> dict[str, Any]:
    """libpq's parameters of ``url``; a :class:`DatabaseUrlError` (password removed) if it
    does not parse."""
    try:
        return conninfo_to_dict(url)
    except psycopg.Error as exc:
        error = _connection_error(exc, url, what)
    raise error  # outside the handler: the original message (with the password) is not chained


def connect_url(
    url: str, *, autocommit: bool = False, what: str = "the warehouse", **kwargs: Any
) -> psycopg.Connection:
    """``psycopg.connect(url)``, with any failure raised as a :class:`DatabaseConnectionError`
    whose message names the server but never the password."""
    kwargs.setdefault("connect_timeout", 10)
    try:
        return psycopg.connect(url, autocommit=autocommit, **kwargs)
    except psycopg.Error as exc:
        error = _connection_error(exc, url, what)
    raise error


def ensure_database(url: str) -> None:
    """Create the database named in ``url`` if it does not exist (needs CREATEDB)."""
    params = parse_url(url)
    dbname = params.get("dbname")
    if not dbname:
        return
    try:
        with connect_url(url):
            return
    except DatabaseMissing:
        pass
    admin = make_conninfo(url, dbname="postgres")
    with connect_url(admin, autocommit=True) as conn:
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        except psycopg.errors.DuplicateDatabase:
            pass  # created concurrently by another process


def connect(autocommit: bool = False) -> psycopg.Connection:
    """A new connection to the warehouse."""
    return connect_url(warehouse_url(), autocommit=autocommit)


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
        creator=lambda: connect_url(target),
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
    with connect_url(url or warehouse_url()) as conn:
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
    params = parse_url(url or warehouse_url())
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


# --- the app's own role --------------------------------------------------------------------

#: The login role the app connects as: read-only on what it shows, plus the event API's write.
APP_ROLE = "pebble_app"
#: Schemas the app reads (USAGE, SELECT on every table, also on tables created later).
APP_READ_SCHEMAS = ("marts", "staging", "ops", "auth")
#: The only tables the app may write (INSERT), granted once their migration created them.
APP_INSERT_TABLES = (("ops", "events"),)
#: File under $PEBBLE_HOME holding the app role's generated password (mode 0600).
APP_PASSWORD_FILE = "app-db-password"
#: Transaction advisory lock held while the role and its grants are set up ("pebbleap").
APP_ROLE_LOCK_KEY = 0x7065626265656170

#: Variables a child process must not inherit when it gets only the app's URL.
_OWNER_SECRETS = ("PEBBLE_DAGSTER_DATABASE_URL", "PEBBLE_PG_PASSWORD", "PGPASSWORD")


def app_password_path() -> Path:
    return get_settings().home / APP_PASSWORD_FILE


def _app_password(path: Path) -> str:
    """The app role's password, generated on first use and kept in ``path`` (mode 0600)."""
    import secrets

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)
        password = path.read_text(encoding="ascii").strip()
        if password:
            return password
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC, 0o600)
    password = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(password + "\n")
    return password


def ensure_app_role(
    url: str | None = None, *, role: str = APP_ROLE, password_file: Path | None = None
) -> str | None:
    """Create (or refresh) the app's login role and its grants; return the app's URL.

    The role may read every table of ``APP_READ_SCHEMAS`` (default privileges cover the
    tables the warehouse owner creates later, e.g. each dbt run) and insert into
    ``APP_INSERT_TABLES`` that exist; nothing else (``raw`` is out of its reach). Its
    password is generated once and kept in ``$PEBBLE_HOME/app-db-password`` (mode 0600);
    the server only ever receives its SCRAM verifier.

    Returns None, with a warning, when the connecting role may not create roles (an
    external server where the owner lacks CREATEROLE): the caller then uses the owner URL.
    Run it after :func:`upgrade`, so the tables to grant on exist."""
    target = url or warehouse_url()
    params = parse_url(target)
    with connect_url(target, autocommit=True) as conn:
        allowed = conn.execute(
            "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        if not (allowed and allowed[0]):
            log.warning(
                "the warehouse role cannot create roles (CREATEROLE): the app connects as the "
                "owner, with write access to every table. Grant CREATEROLE once, or create "
                "the role %s yourself, to give the app read-only access.",
                role,
            )
            return None
        password = _app_password(password_file or app_password_path())
        verifier = conn.pgconn.encrypt_password(
            password.encode(), role.encode(), b"scram-sha-256"
        ).decode()
        for attempt in (1, 2):
            try:
                with conn.transaction():
                    # roles are shared by the server's databases, this lock by one database's
                    # sessions: a role created meanwhile from another database is retried
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (APP_ROLE_LOCK_KEY,))
                    _create_or_alter_role(conn, role, verifier)
                    _grant_app(conn, role)
                break
            except psycopg.errors.DuplicateObject:
                if attempt == 2:
                    raise
    params.update(user=role, password=password)
    return _to_url(params)


def _create_or_alter_role(conn: psycopg.Connection, role: str, verifier: str) -> None:
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    statement = "ALTER ROLE {} WITH" if exists else "CREATE ROLE {} WITH"
    conn.execute(
        sql.SQL(
            statement + " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD {}"
        ).format(sql.Identifier(role), sql.Literal(verifier))
    )


def _grant_app(conn: psycopg.Connection, role: str) -> None:
    who = sql.Identifier(role)
    dbname = conn.execute("SELECT current_database()").fetchone()[0]
    conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(dbname), who))
    for schema in APP_READ_SCHEMAS:
        name = sql.Identifier(schema)
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(name))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(name, who))
        conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(name, who))
        conn.execute(
            sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(
                name, who
            )
        )
    for schema, table in APP_INSERT_TABLES:
        qualified = f'"{schema}"."{table}"'
        if conn.execute("SELECT to_regclass(%s)", (qualified,)).fetchone()[0] is None:
            continue
        conn.execute(sql.SQL("GRANT INSERT ON {} TO {}").format(sql.Identifier(schema, table), who))
        sequences = conn.execute(
            "SELECT pg_get_serial_sequence(%s, attname) FROM pg_attribute"
            " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            (qualified, qualified),
        ).fetchall()
        for (sequence,) in sequences:
            if sequence:
                seq_schema, _, seq_name = sequence.partition(".")
                conn.execute(
                    sql.SQL("GRANT USAGE ON SEQUENCE {} TO {}").format(
                        sql.Identifier(seq_schema.strip('"'), seq_name.strip('"')), who
                    )
                )


def app_url(url: str | None = None, *, role: str = APP_ROLE) -> str:
    """The URL the app connects with: the ``pebble_app`` role's (see
    :func:`ensure_app_role`), or the owner's URL when that role cannot be set up."""
    target = url or warehouse_url()
    try:
        return ensure_app_role(target, role=role) or target
    except DatabaseConnectionError:
        raise
    except psycopg.Error as exc:  # e.g. schemas owned by another role: GRANT refused
        log.warning(
            "the app's read-only role could not be set up (%s): the app connects as the owner",
            redact_text(" ".join(str(exc).split()), target),
        )
        return target


def app_env(env: Mapping[str, str], *, role: str = APP_ROLE) -> dict[str, str]:
    """``env`` for the app's process: its database variables all point at the app's URL,
    and the owner's password and Dagster's URL are left out."""
    url = app_url(env.get(RESOLVED_URL_ENV), role=role)
    out = {key: value for key, value in env.items() if key not in _OWNER_SECRETS}
    out.update(dbt_env(url))
    out.pop("PEBBLE_PG_PASSWORD", None)
    out["DATABASE_URL"] = url
    out[RESOLVED_URL_ENV] = url
    return out
