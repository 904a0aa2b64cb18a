"""Alembic environment: runs the revisions in ``versions/`` against the warehouse.

The database is the one Pebble resolves (:func:`pebble.db.warehouse_url`) unless the caller
hands over a connection (``config.attributes["connection"]``, as :func:`pebble.db.upgrade`
does) or a URL (``config.attributes["url"]``). A session-level advisory lock serialises
migrations between processes: whoever waits reads the version table only after the first
has committed, and then finds nothing left to do. All pending revisions run in one
transaction (PostgreSQL's DDL is transactional), so a failure leaves the previous revision.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from pebble.db import MIGRATION_LOCK_KEY, VERSION_SCHEMA, VERSION_TABLE, sqlalchemy_engine

#: How long one migration statement waits for a table lock before the upgrade fails.
LOCK_TIMEOUT = "120s"


def _run(connection: Connection) -> None:
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    # A table busy in a long transaction makes DDL wait; fail with a message instead of
    # hanging (while the others queue on the advisory lock above, which has no timeout).
    connection.execute(text(f"SET lock_timeout = '{LOCK_TIMEOUT}'"))
    # the version table's schema must exist before Alembic looks for its table
    connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{VERSION_SCHEMA}"'))
    connection.commit()
    done = False
    try:
        context.configure(
            connection=connection,
            version_table=VERSION_TABLE,
            version_table_schema=VERSION_SCHEMA,
            transaction_per_migration=False,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
        done = True
    finally:
        try:
            connection.rollback()
            connection.execute(text("RESET lock_timeout"))
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            connection.commit()
        except SQLAlchemyError:
            if done:
                raise
            # the migration's own error is the one to report; a broken connection has
            # released the lock already


def run_migrations_online() -> None:
    config = context.config
    given = config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    engine = sqlalchemy_engine(config.attributes.get("url"))
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) mode is not supported: run `pebble db upgrade`")
run_migrations_online()
