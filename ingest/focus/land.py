"""Landing normalised Focus documents in the warehouse's ``raw`` schema.

One header table and one line table per voucher kind, keyed by ``doc_no`` (lines by
``doc_no, line_no``). Each document keeps its Focus JSON in ``document`` (jsonb) and a
``content_hash`` of its normalised form. Landing COPYs a batch into temporary tables, then
upserts: a new document is inserted, a changed one replaced (its lines too), an unchanged
one left alone, so landing the same documents again changes nothing. The incremental cursor
is written in the same transaction, so a failed landing moves neither data nor cursor.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from ingest.common.cursors import set_cursor
from ingest.focus.fields import INVOICES, QC_INSPECTIONS, SALES_ORDERS

CURSOR_SOURCE = "focus"
Row = tuple[Any, ...]


@dataclass(frozen=True)
class TableSpec:
    """A raw table: its name, typed columns (key first) and how to build rows from a record."""

    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]
    rows: Callable[[Mapping[str, Any]], list[Row]]

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]


@dataclass(frozen=True)
class KindSpec:
    header: TableSpec
    lines: TableSpec


@dataclass
class LandResult:
    """What one landing did: documents inserted, updated (content changed) and unchanged."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    lines_written: int = 0
    rejected: int = 0
    changed_doc_nos: list[str] = field(default_factory=list)

    def add(self, other: LandResult) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.lines_written += other.lines_written
        self.rejected += other.rejected
        self.changed_doc_nos.extend(other.changed_doc_nos)


def content_hash(record: Mapping[str, Any]) -> str:
    """A stable hash of a normalised record (key order and whitespace do not matter)."""
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _item_lines(record: Mapping[str, Any]) -> list[Row]:
    return [
        (
            record["doc_no"],
            line["line_no"],
            line["item_code"],
            line["item_name"],
            line["qty"],
            line["unit"],
            line["rate"],
            line["amount"],
        )
        for line in record["lines"]
    ]


def _qc_results(record: Mapping[str, Any]) -> list[Row]:
    rows = []
    for number, param in enumerate(record["params"], start=1):
        result = param["result"]
        numeric = result if isinstance(result, int | float) else None
        rows.append(
            (
                record["doc_no"],
                number,
                param["name"],
                param["unit"],
                param["min"],
                param["max"],
                numeric,
                None if result is None else str(result),
                param["pass"],
            )
        )
    return rows


_LINE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("doc_no", "text NOT NULL"),
    ("line_no", "integer NOT NULL"),
    ("item_code", "text"),
    ("item_name", "text"),
    ("quantity", "numeric"),
    ("unit", "text"),
    ("rate", "numeric"),
    ("amount", "numeric"),
)
_DOC_TAIL: tuple[tuple[str, str], ...] = (
    ("document", "jsonb NOT NULL"),
    ("content_hash", "text NOT NULL"),
)

KIND_SPECS: dict[str, KindSpec] = {
    SALES_ORDERS: KindSpec(
        header=TableSpec(
            "focus_sales_orders",
            (
                ("doc_no", "text NOT NULL"),
                ("doc_date", "date NOT NULL"),
                ("customer_code", "text"),
                ("customer_name", "text"),
                ("gstin", "text"),
                ("po_ref", "text"),
                ("status", "text"),
                ("total", "numeric"),
                *_DOC_TAIL,
            ),
            ("doc_no",),
            lambda r: [
                (
                    r["doc_no"],
                    r["date"],
                    r["customer_code"],
                    r["customer_name"],
                    r["gstin"],
                    r["po_ref"],
                    r["status"],
                    r["total"],
                )
            ],
        ),
        lines=TableSpec(
            "focus_sales_order_lines", _LINE_COLUMNS, ("doc_no", "line_no"), _item_lines
        ),
    ),
    INVOICES: KindSpec(
        header=TableSpec(
            "focus_invoices",
            (
                ("doc_no", "text NOT NULL"),
                ("doc_date", "date NOT NULL"),
                ("order_no", "text"),
                ("customer_code", "text"),
                ("customer_name", "text"),
                ("gstin", "text"),
                ("vehicle_no", "text"),
                ("lr_no", "text"),
                ("taxable_value", "numeric"),
                ("gst_amount", "numeric"),
                ("total", "numeric"),
                *_DOC_TAIL,
            ),
            ("doc_no",),
            lambda r: [
                (
                    r["doc_no"],
                    r["date"],
                    r["order_no"],
                    r["customer_code"],
                    r["customer_name"],
                    r["gstin"],
                    r["vehicle_no"],
                    r["lr_no"],
                    r["taxable_value"],
                    r["gst_amount"],
                    r["total"],
                )
            ],
        ),
        lines=TableSpec("focus_invoice_lines", _LINE_COLUMNS, ("doc_no", "line_no"), _item_lines),
    ),
    QC_INSPECTIONS: KindSpec(
        header=TableSpec(
            "focus_qc_inspections",
            (
                ("doc_no", "text NOT NULL"),
                ("doc_date", "date NOT NULL"),
                ("batch_no", "text"),
                ("product_code", "text"),
                ("product_name", "text"),
                ("order_no", "text"),
                ("result", "text"),
                ("coa_status", "text"),
                *_DOC_TAIL,
            ),
            ("doc_no",),
            lambda r: [
                (
                    r["doc_no"],
                    r["date"],
                    r["batch_no"],
                    r["product_code"],
                    r["product_name"],
                    r["order_no"],
                    r["result"],
                    r["coa_status"],
                )
            ],
        ),
        lines=TableSpec(
            "focus_qc_results",
            (
                ("doc_no", "text NOT NULL"),
                ("line_no", "integer NOT NULL"),
                ("param_name", "text"),
                ("unit", "text"),
                ("min_value", "numeric"),
                ("max_value", "numeric"),
                ("result_value", "numeric"),
                ("result_text", "text"),
                ("passed", "boolean"),
            ),
            ("doc_no", "line_no"),
            _qc_results,
        ),
    ),
}


def _create_table(conn: psycopg.Connection, spec: TableSpec, *, audit: bool) -> None:
    parts = [
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(ctype))  # types are constants
        for name, ctype in spec.columns
    ]
    if audit:
        parts.append(sql.SQL("first_loaded_at timestamptz NOT NULL DEFAULT now()"))
        parts.append(sql.SQL("loaded_at timestamptz NOT NULL DEFAULT now()"))
    parts.append(
        sql.SQL("PRIMARY KEY ({})").format(sql.SQL(", ").join(map(sql.Identifier, spec.key)))
    )
    conn.execute(
        sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(
            sql.Identifier("raw", spec.name), sql.SQL(", ").join(parts)
        )
    )


REJECTS_DDL = """
CREATE TABLE IF NOT EXISTS raw.focus_rejects (
    kind         text NOT NULL,
    doc_no       text NOT NULL,
    error        text NOT NULL,
    document     jsonb NOT NULL,
    rejected_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, doc_no)
)
"""


def ensure_tables(conn: psycopg.Connection) -> None:
    """Create the raw Focus tables if missing (and the raw schema).

    ``raw.focus_rejects`` keeps documents that could not be read (with the reason), so a
    bad document neither blocks the pull nor gets lost; it leaves that table once it lands.
    """
    conn.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for spec in KIND_SPECS.values():
        _create_table(conn, spec.header, audit=True)
        _create_table(conn, spec.lines, audit=False)
    conn.execute(REJECTS_DDL)


def _copy_into_temp(
    conn: psycopg.Connection, spec: TableSpec, rows: Iterable[Row]
) -> sql.Identifier:
    temp = sql.Identifier(f"tmp_{spec.name}")
    conn.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(temp))
    conn.execute(
        sql.SQL("CREATE TEMP TABLE {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP").format(
            temp, sql.Identifier("raw", spec.name)
        )
    )
    columns = sql.SQL(", ").join(map(sql.Identifier, spec.column_names))
    with conn.cursor() as cur:
        with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(temp, columns)) as copy:
            for row in rows:
                copy.write_row(row)
    return temp


def land_documents(
    conn: psycopg.Connection,
    kind: str,
    documents: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]],
    *,
    cursor: str | None = None,
    rejects: Iterable[tuple[str, str, Mapping[str, Any]]] = (),
) -> LandResult:
    """Upsert (normalised record, Focus document) pairs of voucher ``kind`` in one transaction.

    ``rejects`` are (doc_no, reason, Focus document) for documents that could not be read;
    they are kept in ``raw.focus_rejects``. When ``cursor`` is given it is stored as the
    kind's incremental cursor in that same transaction. A doc_no repeated in the batch keeps
    its last occurrence.
    """
    spec = KIND_SPECS[kind]
    latest: dict[str, tuple[Mapping[str, Any], Mapping[str, Any]]] = {}
    for record, document in documents:
        latest[record["doc_no"]] = (record, document)
    header_rows: list[Row] = []
    line_rows: dict[str, list[Row]] = {}
    for doc_no, (record, document) in latest.items():
        (row,) = spec.header.rows(record)
        header_rows.append((*row, json.dumps(document, ensure_ascii=False), content_hash(record)))
        line_rows[doc_no] = spec.lines.rows(record)

    rejected = {doc_no: (reason, document) for doc_no, reason, document in rejects}

    result = LandResult()
    with conn.transaction():
        ensure_tables(conn)
        if header_rows:
            result = _upsert(conn, spec, header_rows, line_rows)
            conn.execute(
                "DELETE FROM raw.focus_rejects WHERE kind = %s AND doc_no = ANY(%s)",
                (kind, list(latest)),
            )
        with conn.cursor() as cur:
            cur.executemany(
                """
                INSERT INTO raw.focus_rejects (kind, doc_no, error, document)
                VALUES (%s, %s, %s, %s::jsonb)
                ON CONFLICT (kind, doc_no) DO UPDATE
                SET error = EXCLUDED.error, document = EXCLUDED.document, rejected_at = now()
                WHERE raw.focus_rejects.document IS DISTINCT FROM EXCLUDED.document
                   OR raw.focus_rejects.error IS DISTINCT FROM EXCLUDED.error
                """,
                [
                    (kind, doc_no, reason, json.dumps(document, ensure_ascii=False))
                    for doc_no, (reason, document) in rejected.items()
                ],
            )
        result.rejected = len(rejected)
        if cursor is not None:
            set_cursor(conn, CURSOR_SOURCE, kind, cursor)
    return result


def _upsert(
    conn: psycopg.Connection,
    spec: KindSpec,
    header_rows: list[Row],
    line_rows: dict[str, list[Row]],
) -> LandResult:
    header = spec.header
    temp = _copy_into_temp(conn, header, header_rows)
    target = sql.Identifier("raw", header.name)
    names = header.column_names
    columns = sql.SQL(", ").join(map(sql.Identifier, names))
    updates = sql.SQL(", ").join(
        sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(n), sql.Identifier(n))
        for n in names
        if n not in header.key
    )
    upsert = sql.SQL(
        "INSERT INTO {target} ({columns}) SELECT {columns} FROM {temp} "
        "ON CONFLICT (doc_no) DO UPDATE SET {updates}, loaded_at = now() "
        "WHERE {target}.content_hash IS DISTINCT FROM EXCLUDED.content_hash "
        "RETURNING doc_no, (xmax = 0) AS inserted"
    ).format(target=target, columns=columns, temp=temp, updates=updates)
    changed = conn.execute(upsert).fetchall()
    result = LandResult(
        inserted=sum(1 for _, inserted in changed if inserted),
        updated=sum(1 for _, inserted in changed if not inserted),
        changed_doc_nos=[doc_no for doc_no, _ in changed],
    )
    result.unchanged = len(header_rows) - len(changed)
    if not changed:
        return result
    changed_nos = result.changed_doc_nos
    lines = spec.lines
    conn.execute(
        sql.SQL("DELETE FROM {} WHERE doc_no = ANY(%s)").format(sql.Identifier("raw", lines.name)),
        (changed_nos,),
    )
    rows = [row for doc_no in changed_nos for row in line_rows[doc_no]]
    if rows:
        line_temp = _copy_into_temp(conn, lines, rows)
        line_columns = sql.SQL(", ").join(map(sql.Identifier, lines.column_names))
        conn.execute(
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
                sql.Identifier("raw", lines.name), line_columns, line_columns, line_temp
            )
        )
    result.lines_written = len(rows)
    return result
