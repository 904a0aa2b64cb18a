"""Typed Dagster resources shared by every domain."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import psycopg

from pebble import db


class WarehouseResource(dg.ConfigurableResource):
    """The PostgreSQL warehouse. Without a URL it follows Pebble's settings
    (``DATABASE_URL``, else the embedded server).

    Its connections are in autocommit mode, as on the command line: every statement, and
    every ``with conn.transaction():`` block, commits on its own. A connector's per-batch
    commits (mail batches, IMAP cursors, Focus "resume from there") therefore survive a
    later failure, a killed run or a restarted server. Work that must be atomic across
    several statements goes inside ``with conn.transaction():`` (or :meth:`transaction`).
    """

    #: Leave unset in a deployment: resource config is shown in the Dagster UI, password
    #: included. Tests point the resource at a throwaway database with it.
    database_url: str | None = None

    def url(self) -> str:
        return self.database_url or db.warehouse_url()

    @contextmanager
    def connection(self, autocommit: bool = True) -> Iterator[psycopg.Connection]:
        """An autocommit connection, closed at the end of the block.

        ``autocommit=False`` opens one transaction around the whole block (committed on
        success, rolled back on error), in which every ``conn.transaction()`` is only a
        savepoint: nothing is kept if the block fails. Use it only for reads that need one
        snapshot, never for a landing.

        The warehouse is migrated to the newest schema first (once per process and URL)."""
        url = self.url()
        db.upgrade(url)
        with db.connect_url(url, autocommit=autocommit) as conn:
            yield conn

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        """A connection inside one real transaction: committed when the block ends,
        rolled back (entirely) if it raises."""
        with self.connection() as conn, conn.transaction():
            yield conn
