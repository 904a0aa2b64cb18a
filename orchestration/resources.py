"""Typed Dagster resources shared by every domain."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import psycopg

from pebble import db


class WarehouseResource(dg.ConfigurableResource):
    """The PostgreSQL warehouse. Without a URL it follows Pebble's settings
    (``DATABASE_URL``, else the embedded server)."""

    database_url: str | None = None

    def url(self) -> str:
        return self.database_url or db.warehouse_url()

    @contextmanager
    def connection(self, autocommit: bool = False) -> Iterator[psycopg.Connection]:
        """A connection, committed on success and rolled back on error. With ``autocommit``
        each statement, and each ``conn.transaction()`` block, commits on its own: what a
        landing needs for its per-batch commits to survive a later failure.

        The warehouse is migrated to the newest schema first (once per process and URL)."""
        url = self.url()
        db.upgrade(url)
        with psycopg.connect(url, autocommit=autocommit, connect_timeout=10) as conn:
            yield conn
