"""Land Tally records in the warehouse's ``raw`` schema.

Rows are copied (PostgreSQL COPY) into a temporary table, then merged with one
``INSERT ... ON CONFLICT`` so landing the same records again changes nothing:

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
from psycopg import sql
from psycopg.types.json import Jsonb

from ingest.tally.records import Record

DDL = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE TABLE IF NOT EXISTS raw.tally_stock_items (
    guid          text NOT NULL,
    snapshot_at   timestamptz NOT NULL,
    name          text NOT NULL,
    parent        text,
    unit          text,
    opening_qty   numeric,
    opening_value numeric,
    closing_qty   numeric,
    rate          numeric,
    value         numeric,
    hsn           text,
    gst_rate      numeric,
    master_id     bigint,
    alter_id      bigint,
    row_hash      text NOT NULL,
    loaded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (guid, snapshot_at)
);
CREATE TABLE IF NOT EXISTS raw.tally_stock_groups (
    guid       text PRIMARY KEY,
    name       text NOT NULL,
    parent     text,
    master_id  bigint,
    alter_id   bigint,
    row_hash   text NOT NULL,
    loaded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS raw.tally_ledgers (
    guid            text PRIMARY KEY,
    name            text NOT NULL,
    parent          text,
    gstin           text,
    gstins          text[] NOT NULL DEFAULT '{}',
    pan             text,
    state           text,
    email           text,
    mobile          text,
    address         text[] NOT NULL DEFAULT '{}',
    opening_balance numeric,
    master_id       bigint,
    alter_id        bigint,
    row_hash        text NOT NULL,
    loaded_at       timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS raw.tally_vouchers (
    guid           text PRIMARY KEY,
    voucher_type   text,
    voucher_number text,
    voucher_date   date,
    party          text,
    party_gstin    text,
    reference      text,
    order_refs     text[] NOT NULL DEFAULT '{}',
    is_cancelled   boolean NOT NULL DEFAULT false,
    is_optional    boolean NOT NULL DEFAULT false,
    total          numeric,
    vehicle_no     text,
    lr_no          text,
    ledger_entries jsonb NOT NULL DEFAULT '[]',
    master_id      bigint,
    alter_id       bigint,
    row_hash       text NOT NULL,
    loaded_at      timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS raw.tally_voucher_lines (
    voucher_guid text NOT NULL REFERENCES raw.tally_vouchers (guid) ON DELETE CASCADE,
    line_no      integer NOT NULL,
    item         text,
    qty          numeric,
    unit         text,
    billed_qty   numeric,
    rate         numeric,
    rate_unit    text,
    amount       numeric,
    order_no     text,
    godown       text,
    PRIMARY KEY (voucher_guid, line_no)
);
"""

STOCK_ITEM_COLUMNS = (
    "guid", "name", "parent", "unit", "opening_qty", "opening_value", "closing_qty", "rate",
    "value", "hsn", "gst_rate", "master_id", "alter_id",
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


def ensure_tables(conn: psycopg.Connection) -> None:
    """Create the raw Tally tables if missing."""
    conn.execute(DDL)


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


def _stage(conn: psycopg.Connection, name: str, target: str, columns: Sequence[str]) -> None:
    conn.execute(
        sql.SQL(
            "CREATE TEMP TABLE IF NOT EXISTS {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA"
        ).format(
            sql.Identifier(name),
            sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL(target),
        )
    )
    conn.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(name)))


def _copy(
    conn: psycopg.Connection, table: str, columns: Sequence[str], rows: Iterable[tuple]
) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(*table.split(".")), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _upsert(conn: psycopg.Connection, stage: str, target: str, columns: Sequence[str]) -> list[str]:
    """Merge the staged rows into ``target`` by guid; returns the guids added or replaced."""
    cols = sql.SQL(", ").join(map(sql.Identifier, columns))
    updates = sql.SQL(", ").join(
        sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c))
        for c in columns
        if c != "guid"
    )
    query = sql.SQL(
        "INSERT INTO {target} AS t ({cols}) SELECT {cols} FROM {stage} "
        "ON CONFLICT (guid) DO UPDATE SET {updates}, loaded_at = now() "
        "WHERE coalesce(t.alter_id, -1) < coalesce(EXCLUDED.alter_id, -1) "
        "OR (coalesce(t.alter_id, -1) = coalesce(EXCLUDED.alter_id, -1) "
        "AND t.row_hash <> EXCLUDED.row_hash) "
        "RETURNING t.guid"
    ).format(target=sql.SQL(target), cols=cols, stage=sql.Identifier(stage), updates=updates)
    return [row[0] for row in conn.execute(query).fetchall()]


def land_stock_items(
    conn: psycopg.Connection, records: Iterable[Record], snapshot_at: datetime
) -> int:
    """Add a snapshot row for every item that changed since its latest snapshot.

    Returns the number of rows added (0 when nothing changed: landing is idempotent).
    """
    rows = []
    for r in records:
        values = (record_key(r, "stock_item"), *(r.get(c) for c in STOCK_ITEM_COLUMNS[1:]))
        rows.append((*values, _row_hash(values)))
    rows = _dedupe_snapshot(rows)
    columns = (*STOCK_ITEM_COLUMNS, "row_hash")
    with conn.transaction():
        ensure_tables(conn)
        _stage(conn, "tally_stage_stock_items", "raw.tally_stock_items", columns)
        _copy(conn, "tally_stage_stock_items", columns, rows)
        cols = sql.SQL(", ").join(map(sql.Identifier, columns))
        s_cols = sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(c)) for c in columns)
        cur = conn.execute(
            sql.SQL(
                "INSERT INTO raw.tally_stock_items ({cols}, snapshot_at) "
                "SELECT {s_cols}, %s FROM tally_stage_stock_items s "
                "LEFT JOIN LATERAL (SELECT t.row_hash FROM raw.tally_stock_items t "
                "  WHERE t.guid = s.guid ORDER BY t.snapshot_at DESC LIMIT 1) latest ON true "
                "WHERE latest.row_hash IS DISTINCT FROM s.row_hash "
                "ON CONFLICT (guid, snapshot_at) DO NOTHING"
            ).format(cols=cols, s_cols=s_cols),
            (snapshot_at,),
        )
        return cur.rowcount


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
    all_columns = (*columns, "row_hash")
    stage = f"tally_stage_{kind}s"
    with conn.transaction():
        ensure_tables(conn)
        _stage(conn, stage, f"raw.{table}", all_columns)
        _copy(conn, stage, all_columns, rows)
        return len(_upsert(conn, stage, f"raw.{table}", all_columns))


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
        ensure_tables(conn)
        changed = _land_keyed_returning(conn, records, value)
        if changed:
            conn.execute(
                "DELETE FROM raw.tally_voucher_lines WHERE voucher_guid = ANY(%s)", (changed,)
            )
            _copy(
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
    all_columns = (*VOUCHER_COLUMNS, "row_hash")
    _stage(conn, "tally_stage_vouchers", "raw.tally_vouchers", all_columns)
    _copy(conn, "tally_stage_vouchers", all_columns, rows)
    return _upsert(conn, "tally_stage_vouchers", "raw.tally_vouchers", all_columns)
