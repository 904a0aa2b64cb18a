"""Pull from Tally and land in the warehouse, incrementally and all-or-nothing.

Each pull runs in one transaction with its cursor update: if Tally drops the connection,
answers with an error or sends a broken document halfway through, nothing of that pull is
kept and the cursor does not move, so the last good data stays as it was.

Cursors (``raw.ingest_cursors``, source ``tally``):
- ``stock_groups.alter_id`` / ``ledgers.alter_id``: only masters altered since are pulled.
- ``vouchers.alter_id``: only vouchers altered since are pulled, in date windows.
Stock items are pulled whole each time: closing balances move with every voucher
without changing the item's AlterID. They land as snapshots (only changed items add rows).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import psycopg

from ingest.common.cursors import get_cursor, set_cursor
from ingest.tally import land
from ingest.tally.client import TallyClient
from ingest.tally.records import Record

log = logging.getLogger(__name__)

SOURCE = "tally"


@dataclass(frozen=True)
class PullResult:
    """What one pull did: records received, rows landed and the cursor after it."""

    collection: str
    received: int
    landed: int
    cursor: int | None = None


def _cursor(conn: psycopg.Connection, key: str) -> int:
    value = get_cursor(conn, SOURCE, key)
    return int(value) if value is not None else 0


def pull_stock_items(
    conn: psycopg.Connection, client: TallyClient, snapshot_at: datetime | None = None
) -> PullResult:
    """Snapshot every stock item's closing stock, rate and value."""
    snapshot_at = snapshot_at or datetime.now(UTC)
    with conn.transaction():
        records = list(client.records("stock-items"))
        landed = land.land_stock_items(conn, records, snapshot_at)
    return PullResult("stock-items", len(records), landed)


def _pull_masters(
    conn: psycopg.Connection,
    client: TallyClient,
    collection: str,
    lander: Callable[[psycopg.Connection, list[Record]], int],
) -> PullResult:
    key = f"{collection.replace('-', '_')}.alter_id"
    with conn.transaction():
        last = _cursor(conn, key)
        company = client.company_info()
        high = company.get("alt_mst_id")
        if high is not None and high <= last:
            return PullResult(collection, 0, 0, last)
        records = list(client.records(collection, alter_id_above=last or None))
        landed = lander(conn, records)
        # Objects altered while we pulled carry ids above the company's mark: next time.
        seen = max((r["alter_id"] or 0 for r in records), default=last)
        new_cursor = high if high is not None else seen
        set_cursor(conn, SOURCE, key, str(new_cursor))
    return PullResult(collection, len(records), landed, new_cursor)


def pull_stock_groups(conn: psycopg.Connection, client: TallyClient) -> PullResult:
    """Stock groups altered since the last pull."""
    return _pull_masters(conn, client, "stock-groups", land.land_stock_groups)


def pull_ledgers(conn: psycopg.Connection, client: TallyClient) -> PullResult:
    """Ledgers (party masters) altered since the last pull."""
    return _pull_masters(conn, client, "ledgers", land.land_ledgers)


def pull_vouchers(
    conn: psycopg.Connection,
    client: TallyClient,
    from_date: date | None = None,
    to_date: date | None = None,
) -> PullResult:
    """Vouchers altered since the last pull, in date windows over the books.

    With an explicit date range the cursor is left alone (other dates were not looked at).
    """
    key = "vouchers.alter_id"
    with conn.transaction():
        last = _cursor(conn, key)
        company = client.company_info()
        high = company.get("alt_vch_id")
        full_range = from_date is None and to_date is None
        if full_range and high is not None and high <= last:
            return PullResult("vouchers", 0, 0, last)
        start = from_date or company.get("books_from") or date(2000, 4, 1)
        end = to_date or company.get("last_voucher_date") or date.today()
        received = landed = 0
        for batch in client.vouchers(start, end, alter_id_above=last or None):
            received += len(batch)
            landed += land.land_vouchers(conn, batch)
        cursor = last
        if full_range:
            cursor = high if high is not None else last
            set_cursor(conn, SOURCE, key, str(cursor))
    return PullResult("vouchers", received, landed, cursor)


def pull_all(conn: psycopg.Connection, client: TallyClient) -> list[PullResult]:
    """Every collection, masters first (each its own transaction)."""
    return [
        pull_stock_groups(conn, client),
        pull_stock_items(conn, client),
        pull_ledgers(conn, client),
        pull_vouchers(conn, client),
    ]
