"""Landing normalised Focus documents in the warehouse's ``raw`` schema.

One header table and one line table per voucher kind, keyed by ``doc_no`` (lines by
``doc_no, line_no``); the tables come from the warehouse migrations. Each document keeps
its Focus JSON in ``document`` (jsonb) and a ``content_hash`` of its normalised form.
Landing COPYs a batch into a temporary table, then upserts
(:func:`ingest.common.staging.copy_merge`): a new document is inserted, a changed one
replaced (its lines too), an unchanged one left alone, so landing the same documents again
changes nothing. Documents that cannot be read go to ``raw.rejects`` (source ``focus``, the
kind, the doc_no, the Focus JSON); when one lands later its rejects are marked resolved.
The incremental cursor is written in the same transaction, so a failed landing moves
neither data nor cursor.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from ingest.common.cursors import set_cursor
from ingest.common.rejects import record_reject, resolve_rejects
from ingest.common.report import LandReport
from ingest.common.staging import copy_merge, copy_rows
from ingest.focus.settings import INVOICES, QC_INSPECTIONS, SALES_ORDERS

SOURCE = "focus"
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


def new_report(kind: str) -> LandReport:
    """An empty report for one voucher kind (its header and line tables)."""
    spec = KIND_SPECS[kind]
    return LandReport(SOURCE, tables=(spec.header.name, spec.lines.name, "rejects"))


def land_documents(
    conn: psycopg.Connection,
    kind: str,
    documents: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]],
    *,
    cursor: str | None = None,
    rejects: Iterable[tuple[str, str, Mapping[str, Any]]] = (),
    run_id: str | None = None,
) -> LandReport:
    """Upsert (normalised record, Focus document) pairs of voucher ``kind`` in one transaction.

    ``rejects`` are (doc_no, reason, Focus document) for documents that could not be read;
    they go to ``raw.rejects``. When ``cursor`` is given it is stored as the kind's
    incremental cursor in that same transaction. A doc_no repeated in the batch keeps its
    last occurrence (the earlier ones count as duplicates).
    """
    spec = KIND_SPECS[kind]
    report = new_report(kind)
    latest: dict[str, tuple[Mapping[str, Any], Mapping[str, Any]]] = {}
    for record, document in documents:
        report.seen += 1
        latest[record["doc_no"]] = (record, document)
    report.duplicates = report.seen - len(latest)
    header_rows: list[Row] = []
    line_rows: dict[str, list[Row]] = {}
    for doc_no, (record, document) in latest.items():
        (row,) = spec.header.rows(record)
        header_rows.append((*row, json.dumps(document, ensure_ascii=False), content_hash(record)))
        line_rows[doc_no] = spec.lines.rows(record)

    with conn.transaction():
        if header_rows:
            _upsert(conn, spec, header_rows, line_rows, report)
            resolve_rejects(conn, SOURCE, latest, source_kind=kind)
        for doc_no, reason, document in rejects:
            recorded = record_reject(
                conn,
                source=SOURCE,
                source_kind=kind,
                locator=doc_no,
                reason=reason,
                payload=_reject_payload(document),
                run_id=run_id,
            )
            report.seen += 1
            report.rejected += 1
            report.rejects.append(recorded.as_dict())
        if cursor is not None:
            set_cursor(conn, CURSOR_SOURCE, kind, cursor)
    return report


def _reject_payload(document: Mapping[str, Any]) -> bytes:
    """The Focus JSON of a rejected document as bytes, whatever it holds (a lone surrogate
    is escaped, inf and NaN are written as JavaScript does)."""
    text = json.dumps(document, ensure_ascii=False, default=str)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(document, ensure_ascii=True, default=str).encode("ascii")


def _upsert(
    conn: psycopg.Connection,
    spec: KindSpec,
    header_rows: list[Row],
    line_rows: dict[str, list[Row]],
    report: LandReport,
) -> None:
    header = spec.header
    names = header.column_names
    merged = copy_merge(
        conn,
        f"raw.{header.name}",
        names,
        header_rows,
        key=header.key,
        update=[n for n in names if n not in header.key],
        also_set="loaded_at = now()",
        update_when="t.content_hash IS DISTINCT FROM EXCLUDED.content_hash",
        returning=("doc_no",),
    )
    report.landed += merged.changed
    report.updated += merged.updated
    report.duplicates += len(header_rows) - merged.changed
    changed = [doc_no for (doc_no,) in merged.returned]
    if not changed:
        return
    lines = spec.lines
    conn.execute(
        sql.SQL("DELETE FROM {} WHERE doc_no = ANY(%s)").format(sql.Identifier("raw", lines.name)),
        (changed,),
    )
    # The changed documents have no lines left: their new lines go straight in.
    report.extra["lines_written"] = report.extra.get("lines_written", 0) + copy_rows(
        conn,
        f"raw.{lines.name}",
        lines.column_names,
        (row for doc_no in changed for row in line_rows[doc_no]),
    )
