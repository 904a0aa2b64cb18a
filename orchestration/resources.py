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
    def connection(self) -> Iterator[psycopg.Connection]:
        """A connection in a transaction: committed on success, rolled back on error."""
        with psycopg.connect(self.url(), connect_timeout=10) as conn:
            with conn.transaction():
                db.ensure_schemas(conn)
            yield conn
