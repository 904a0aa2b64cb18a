"""Land Tally records in the warehouse's ``raw`` schema (tables from the migrations).

Rows are copied (PostgreSQL COPY) into a temporary table, then merged with one
``INSERT ... ON CONFLICT`` (:func:`ingest.common.staging.copy_merge`), so landing the same
records again changes nothing:

- ``raw.tally_stock_items``: snapshots over time, one row per item and ``snapshot_at``,
  added only when something about the item changed since its latest snapshot; never
  overwritten.
- ``raw.tally_stock_groups``, ``raw.tally_ledgers``, ``raw.tally_vouchers``: one row per
  GUID; a higher ``alter_id`` replaces the row (and, for vouchers, its lines in
  ``raw.tally_voucher_lines``).

Every function runs in a transaction (a savepoint inside the caller's), so a failure leaves
the tables as they were.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ingest.common.staging import copy_merge, copy_rows
from ingest.tally.parse import Record

#: An existing row is replaced by a newer AlterID, or by the same AlterID with other content.
_NEWER = (
    "coalesce(t.alter_id, -1) < coalesce(EXCLUDED.alter_id, -1) "
    "OR (coalesce(t.alter_id, -1) = coalesce(EXCLUDED.alter_id, -1) "
    "AND t.row_hash <> EXCLUDED.row_hash)"
)
#: A stock item gets a snapshot row when it differs from its latest snapshot.
_CHANGED_SINCE_LATEST = (
    "s.row_hash IS DISTINCT FROM (SELECT t.row_hash FROM raw.tally_stock_items t "
    "WHERE t.guid = s.guid ORDER BY t.snapshot_at DESC LIMIT 1)"
)

STOCK_ITEM_COLUMNS = (
    "guid", "name", "parent", "unit", "opening_qty", "opening_value", "closing_qty", "rate",
    "value", "hsn", "gst_rate", "aliases", "pack", "pack_size", "master_id", "alter_id",
)  # fmt: skip
STOCK_GROUP_COLUMNS = ("guid", "name", "parent", "master_id", "alter_id")
LEDGER_COLUMNS = (
    "guid", "name", "parent", "gstin", "gstins", "pan", "state", "email", "mobile", "address",
    "opening_balance", "master_id", "alter_id",
)  # fmt: skip
VOUCHER_COLUMNS = (
    "guid", "voucher_type", "voucher_number", "voucher_date", "party", "party_gstin",
    "reference", "order_refs", "is_cancelled", "is_optional", "total", "vehicle_no", "lr_no",
    "ledger_entries", "master_id", "alter_id",
)  # fmt: skip
LINE_COLUMNS = (
    "voucher_guid", "line_no", "item", "qty", "unit", "billed_qty", "rate", "rate_unit",
    "amount", "order_no", "godown",
)  # fmt: skip


def record_key(record: Record, kind: str) -> str:
    """The row key: Tally's GUID, else a stable stand-in for exports that lack it."""
    if record.get("guid"):
        return str(record["guid"])
    if record.get("master_id") is not None:
        return f"{kind}:master:{record['master_id']}"
    if kind == "voucher":
        return f"voucher:{record.get('voucher_type')}:{record.get('number')}:{record.get('date')}"
    if not record.get("name"):
        raise ValueError(f"a {kind} record has neither GUID, MasterID nor name: {record!r}")
    return f"{kind}:name:{record['name']}"


def _row_hash(values: Sequence[Any]) -> str:
    payload = json.dumps([_plain(v) for v in values], default=str, sort_keys=True)
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    return value.obj if isinstance(value, Jsonb) else value


def _merge_keyed(
    conn: psycopg.Connection, table: str, columns: Sequence[str], rows: list[tuple]
) -> list[str]:
    """Merge rows into ``table`` by guid (newer AlterID wins); returns the guids added or
    replaced."""
    merged = copy_merge(
        conn,
        table,
        columns,
        rows,
        key=("guid",),
        update=[c for c in columns if c != "guid"],
        also_set="loaded_at = now()",
        update_when=_NEWER,
        returning=("guid",),
    )
    return [guid for (guid,) in merged.returned]


def land_stock_items(
    conn: psycopg.Connection, records: Iterable[Record], snapshot_at: datetime
) -> int:
    """Add a snapshot row for every item that changed since its latest snapshot.

    Returns the number of rows added (0 when nothing changed: landing is idempotent).
    """
    rows = []
    for r in records:
        values = (
            record_key(r, "stock_item"),
            *((r.get(c) or []) if c == "aliases" else r.get(c) for c in STOCK_ITEM_COLUMNS[1:]),
        )
        rows.append((*values, _row_hash(values)))
    rows = [(*row, snapshot_at) for row in _dedupe_snapshot(rows)]
    return copy_merge(
        conn,
        "raw.tally_stock_items",
        (*STOCK_ITEM_COLUMNS, "row_hash", "snapshot_at"),
        rows,
        key=("guid", "snapshot_at"),
        where=_CHANGED_SINCE_LATEST,
    ).inserted


def _dedupe_snapshot(rows: list[tuple]) -> list[tuple]:
    by_key: dict[str, tuple] = {}
    for row in rows:
        by_key[row[0]] = row
    return list(by_key.values())


def _land_keyed(
    conn: psycopg.Connection,
    records: Iterable[Record],
    kind: str,
    table: str,
    columns: Sequence[str],
    value_of: Any,
) -> int:
    rows = []
    for r in records:
        values = (record_key(r, kind), *(value_of(r, c) for c in columns[1:]))
        rows.append((*values, _row_hash(values)))
    rows = _dedupe_alter(rows, columns)
    return len(_merge_keyed(conn, f"raw.{table}", (*columns, "row_hash"), rows))


def _dedupe_alter(rows: list[tuple], columns: Sequence[str]) -> list[tuple]:
    alter_index = list(columns).index("alter_id")
    best: dict[str, tuple] = {}
    for row in rows:
        current = best.get(row[0])
        if current is None or (row[alter_index] or -1) >= (current[alter_index] or -1):
            best[row[0]] = row
    return list(best.values())


def _value(record: Record, column: str) -> Any:
    return record.get(column)


def land_stock_groups(conn: psycopg.Connection, records: Iterable[Record]) -> int:
    """Upsert stock groups by GUID (higher alter_id wins); returns rows added or changed."""
    return _land_keyed(
        conn, records, "stock_group", "tally_stock_groups", STOCK_GROUP_COLUMNS, _value
    )


def land_ledgers(conn: psycopg.Connection, records: Iterable[Record]) -> int:
    """Upsert ledgers by GUID (higher alter_id wins); returns rows added or changed."""

    def value(record: Record, column: str) -> Any:
        if column in {"gstins", "address"}:
            return list(record.get(column) or [])
        return record.get(column)

    return _land_keyed(conn, records, "ledger", "tally_ledgers", LEDGER_COLUMNS, value)


def land_vouchers(conn: psycopg.Connection, records: Iterable[Record]) -> int:
    """Upsert vouchers by GUID and replace the lines of every voucher added or changed.

    Returns the number of vouchers added or changed.
    """
    records = list(records)
    renamed = {"voucher_number": "number", "voucher_date": "date"}

    def value(record: Record, column: str) -> Any:
        if column == "order_refs":
            return list(record.get("order_refs") or [])
        if column == "ledger_entries":
            return Jsonb(record.get("ledger_entries") or [])
        return record.get(renamed.get(column, column))

    lines_by_key: dict[str, list[tuple]] = {}
    for record in records:
        key = record_key(record, "voucher")
        lines_by_key[key] = [
            (key, *(line.get(c) for c in LINE_COLUMNS[1:])) for line in record.get("lines") or []
        ]
    with conn.transaction():
        changed = _land_keyed_returning(conn, records, value)
        if changed:
            conn.execute(
                "DELETE FROM raw.tally_voucher_lines WHERE voucher_guid = ANY(%s)", (changed,)
            )
            copy_rows(
                conn,
                "raw.tally_voucher_lines",
                LINE_COLUMNS,
                (line for key in changed for line in lines_by_key.get(key, [])),
            )
        return len(changed)


def _land_keyed_returning(
    conn: psycopg.Connection, records: list[Record], value_of: Any
) -> list[str]:
    rows = []
    for r in records:
        values = (record_key(r, "voucher"), *(value_of(r, c) for c in VOUCHER_COLUMNS[1:]))
        rows.append((*values, _row_hash(values)))
    rows = _dedupe_alter(rows, VOUCHER_COLUMNS)
    return _merge_keyed(conn, "raw.tally_vouchers", (*VOUCHER_COLUMNS, "row_hash"), rows)
