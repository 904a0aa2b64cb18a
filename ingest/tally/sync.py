"""Pull from Tally and land in the warehouse, incrementally and all-or-nothing.

Each pull runs in one transaction with its cursor update: if Tally drops the connection,
answers with an error or sends a broken document halfway through, nothing of that pull is
kept and the cursor does not move, so the last good data stays as it was.

Cursors (``raw.ingest_cursors``, source ``tally``):
- ``stock_groups.alter_id`` / ``ledgers.alter_id``: only masters altered since are pulled.
- ``vouchers.alter_id``: only vouchers altered since are pulled, in date windows.
Stock items are pulled whole each time: closing balances move with every voucher
without changing the item's AlterID. They land as snapshots (only changed items add rows).

A record holding a value that cannot be read (a date that is no date, text where a number
belongs) does not stop its collection: it goes to ``raw.rejects`` (source ``tally``, the
collection as kind, its GUID or name as locator, its XML as payload) in the same
transaction, and the pull continues. Connection failures and broken documents still abort
the collection, keeping nothing of it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

import psycopg

from ingest.common.cursors import get_cursor, set_cursor
from ingest.common.rejects import record_reject
from ingest.common.report import LandReport
from ingest.tally import land
from ingest.tally.client import TallyClient
from ingest.tally.parse import OnReject, Record

log = logging.getLogger(__name__)

SOURCE = "tally"
#: Every collection a sync pulls, masters first; and the raw tables each lands in.
COLLECTIONS: dict[str, tuple[str, ...]] = {
    "stock-groups": ("tally_stock_groups",),
    "stock-items": ("tally_stock_items",),
    "ledgers": ("tally_ledgers",),
    "vouchers": ("tally_vouchers", "tally_voucher_lines"),
}


def sync(
    conn: psycopg.Connection,
    client: TallyClient | None = None,
    *,
    collections: Sequence[str] | None = None,
    run_id: str | None = None,
) -> LandReport:
    """Pull the collections (default: all, masters first) into the warehouse.

    Each collection lands in its own transaction with its cursor; the report has a part per
    collection. A connection failure raises :class:`~ingest.tally.errors.TallyConnectionError`
    (after the client's bounded retries), keeping the collections landed before it.
    """
    client = client or TallyClient()
    wanted = list(COLLECTIONS) if not collections else list(collections)
    unknown = [c for c in wanted if c not in COLLECTIONS]
    if unknown:
        raise ValueError(f"unknown Tally collections {unknown}; expected {list(COLLECTIONS)}")
    pulls: dict[str, Callable[..., LandReport]] = {
        "stock-groups": pull_stock_groups,
        "stock-items": pull_stock_items,
        "ledgers": pull_ledgers,
        "vouchers": pull_vouchers,
    }
    report = LandReport(SOURCE, tables=("rejects",))
    for collection in (c for c in COLLECTIONS if c in wanted):
        report.add(pulls[collection](conn, client, run_id=run_id), collection)
    return report


def _part(collection: str) -> LandReport:
    return LandReport(SOURCE, tables=COLLECTIONS[collection])


def _finish(part: LandReport) -> LandReport:
    """Records neither landed nor rejected were unchanged: duplicates of what is stored."""
    part.duplicates = max(0, part.seen - part.landed - part.rejected)
    return part


def _rejecter(conn: psycopg.Connection, part: LandReport, run_id: str | None) -> OnReject:
    """An ``on_reject`` that records each unreadable record in raw.rejects (and counts it)."""

    def on_reject(collection: str, label: str, reason: str, payload: bytes) -> None:
        record = record_reject(
            conn,
            source=SOURCE,
            source_kind=collection,
            locator=label,
            reason=reason,
            payload=payload,
            run_id=run_id,
        )
        part.seen += 1
        part.rejected += 1
        part.rejects.append(record.as_dict())

    return on_reject


def _cursor(conn: psycopg.Connection, key: str) -> int:
    value = get_cursor(conn, SOURCE, key)
    return int(value) if value is not None else 0


def pull_stock_items(
    conn: psycopg.Connection,
    client: TallyClient,
    snapshot_at: datetime | None = None,
    *,
    run_id: str | None = None,
) -> LandReport:
    """Snapshot every stock item's closing stock, rate and value."""
    snapshot_at = snapshot_at or datetime.now(UTC)
    part = _part("stock-items")
    with conn.transaction():
        on_reject = _rejecter(conn, part, run_id)
        records = list(client.records("stock-items", on_reject=on_reject))
        part.seen += len(records)
        part.landed = land.land_stock_items(conn, records, snapshot_at)
    return _finish(part)


def _pull_masters(
    conn: psycopg.Connection,
    client: TallyClient,
    collection: str,
    lander: Callable[[psycopg.Connection, list[Record]], int],
    run_id: str | None,
) -> LandReport:
    key = f"{collection.replace('-', '_')}.alter_id"
    part = _part(collection)
    with conn.transaction():
        last = _cursor(conn, key)
        part.cursor_before = part.cursor_after = str(last)
        company = client.company_info()
        high = company.get("alt_mst_id")
        if high is not None and high <= last:
            return part
        on_reject = _rejecter(conn, part, run_id)
        records = list(client.records(collection, alter_id_above=last or None, on_reject=on_reject))
        part.seen += len(records)
        part.landed = lander(conn, records)
        # Objects altered while we pulled carry ids above the company's mark: next time.
        seen = max((r["alter_id"] or 0 for r in records), default=last)
        new_cursor = high if high is not None else seen
        set_cursor(conn, SOURCE, key, str(new_cursor))
        part.cursor_after = str(new_cursor)
    return _finish(part)


def pull_stock_groups(
    conn: psycopg.Connection, client: TallyClient, *, run_id: str | None = None
) -> LandReport:
    """Stock groups altered since the last pull."""
    return _pull_masters(conn, client, "stock-groups", land.land_stock_groups, run_id)


def pull_ledgers(
    conn: psycopg.Connection, client: TallyClient, *, run_id: str | None = None
) -> LandReport:
    """Ledgers (party masters) altered since the last pull."""
    return _pull_masters(conn, client, "ledgers", land.land_ledgers, run_id)


def pull_vouchers(
    conn: psycopg.Connection,
    client: TallyClient,
    from_date: date | None = None,
    to_date: date | None = None,
    *,
    run_id: str | None = None,
) -> LandReport:
    """Vouchers altered since the last pull, in date windows over the books.

    With an explicit date range the cursor is left alone (other dates were not looked at).
    """
    key = "vouchers.alter_id"
    part = _part("vouchers")
    with conn.transaction():
        last = _cursor(conn, key)
        part.cursor_before = part.cursor_after = str(last)
        company = client.company_info()
        high = company.get("alt_vch_id")
        full_range = from_date is None and to_date is None
        if full_range and high is not None and high <= last:
            return part
        start = from_date or company.get("books_from") or date(2000, 4, 1)
        end = to_date or company.get("last_voucher_date") or date.today()
        on_reject = _rejecter(conn, part, run_id)
        for batch in client.vouchers(start, end, alter_id_above=last or None, on_reject=on_reject):
            part.seen += len(batch)
            part.landed += land.land_vouchers(conn, batch)
        if full_range:
            cursor = high if high is not None else last
            set_cursor(conn, SOURCE, key, str(cursor))
            part.cursor_after = str(cursor)
    return _finish(part)
