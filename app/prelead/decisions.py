"""Prelead screening, deciding: approve, reject, merge (one row at the version the person
saw), bulk decisions (one all-or-nothing append), the export and the audit trail."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from app.prelead.common import (
    _FORMULA_TRIGGERS,
    DECIDERS,
    DECISIONS,
    EVENT_OF,
    SelectionChanged,
    _exists,
    _frame,
    split_prelead_id,
)
from app.prelead.queue import (
    Filters,
    _queue_ready,
    _where,
    company_exists,
)
from pebble import events
from pebble.auth import User, require

# --- decisions ------------------------------------------------------------------------------


def _event(
    user: User,
    prelead_id: str,
    decision: str,
    reason: str | None,
    into_company_key: str | None,
) -> events.Event:
    batch, row_no = split_prelead_id(prelead_id)
    payload: dict[str, Any] = {"batch": batch, "row_no": row_no}
    if reason and reason.strip():
        payload["reason"] = reason.strip()
    if decision == "merged":
        payload["into_company_key"] = into_company_key
    return events.new_event(
        EVENT_OF[decision],
        prelead_id,
        actor=user.name,
        payload=payload,
        company_key=into_company_key if decision == "merged" else None,
    )


def _check_decision(
    conn: psycopg.Connection, decision: str, reason: str | None, into_company_key: str | None
) -> None:
    if decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}")
    if decision == "rejected" and not (reason and reason.strip()):
        raise ValueError("a rejection needs a reason")
    if decision == "merged":
        if not (into_company_key and into_company_key.strip()):
            raise ValueError("choose the company to merge into")
        if not company_exists(conn, into_company_key):
            raise ValueError(f"no CRM company {into_company_key!r}")


def decide(
    conn: psycopg.Connection,
    user: User | None,
    prelead_id: str,
    expected_version: int,
    decision: str,
    *,
    reason: str | None = None,
    into_company_key: str | None = None,
) -> events.Recorded:
    """Record one decision at the version the person saw; raises
    :class:`pebble.events.VersionConflict` if someone decided the row since."""
    user = require(user, *DECIDERS, action="decide preleads")
    _check_decision(conn, decision, reason, into_company_key)
    event = _event(user, prelead_id, decision, reason, into_company_key)
    return events.append(conn, event, expected_version=expected_version)


def approve(conn, user, prelead_id, expected_version, *, reason=None):  # noqa: ANN001, ANN201
    """PreleadApproved: the lead becomes a CRM record at the next dbt build."""
    return decide(conn, user, prelead_id, expected_version, "approved", reason=reason)


def reject(conn, user, prelead_id, expected_version, *, reason):  # noqa: ANN001, ANN201
    """PreleadRejected, with its reason (required)."""
    return decide(conn, user, prelead_id, expected_version, "rejected", reason=reason)


def merge(conn, user, prelead_id, expected_version, *, into_company_key, reason=None):  # noqa: ANN001, ANN201
    """PreleadMerged: the lead is ``into_company_key``, a company of the CRM master."""
    return decide(
        conn,
        user,
        prelead_id,
        expected_version,
        "merged",
        reason=reason,
        into_company_key=into_company_key,
    )


def selection(conn: psycopg.Connection, filters: Filters) -> list[tuple[str, int]]:
    """(prelead_id, current version) of every row ``filters`` selects (all pages)."""
    _queue_ready(conn)
    where, params = _where(filters)
    query = sql.SQL(
        "SELECT q.prelead_id, coalesce(d.version, 0) FROM marts.prelead_queue AS q "
        "LEFT JOIN LATERAL (SELECT version FROM ops.prelead_decisions AS d "
        "WHERE d.prelead_id = q.prelead_id) AS d ON true WHERE {} ORDER BY q.score DESC, q.row_no"
    ).format(where)
    return [(r[0], int(r[1])) for r in conn.execute(query, params).fetchall()]


@dataclass(frozen=True)
class BulkResult:
    decision: str
    rows: int
    duplicates: int = 0
    prelead_ids: list[str] = field(default_factory=list)


def bulk_decide(
    conn: psycopg.Connection,
    user: User | None,
    filters: Filters,
    decision: str,
    *,
    reason: str | None = None,
    into_company_key: str | None = None,
    expected_rows: int | None = None,
) -> BulkResult:
    """One decision for every row ``filters`` selects, in one :func:`events.append_many`
    (all or nothing), each at its version in ``ops.prelead_decisions``.

    ``expected_rows`` is how many rows the person saw selected: if the filter now selects
    another number (someone decided some meanwhile), nothing is written
    (:class:`SelectionChanged`). A concurrent decision between reading and writing is a
    :class:`pebble.events.VersionConflict`, and nothing is written either."""
    user = require(user, *DECIDERS, action="decide preleads")
    _check_decision(conn, decision, reason, into_company_key)
    items = selection(conn, filters)
    if expected_rows is not None and len(items) != expected_rows:
        raise SelectionChanged(
            f"{len(items)} rows match now, not the {expected_rows} shown: someone decided "
            "some of them meanwhile; look again and repeat"
        )
    return bulk_decide_rows(
        conn, user, items, decision, reason=reason, into_company_key=into_company_key
    )


def bulk_decide_rows(
    conn: psycopg.Connection,
    user: User | None,
    items: Sequence[tuple[str, int]],
    decision: str,
    *,
    reason: str | None = None,
    into_company_key: str | None = None,
) -> BulkResult:
    """One decision for the rows ``items`` names, each at the version the person saw, in
    one :func:`events.append_many` (all or nothing)."""
    user = require(user, *DECIDERS, action="decide preleads")
    _check_decision(conn, decision, reason, into_company_key)
    batch = [
        (_event(user, prelead_id, decision, reason, into_company_key), int(version))
        for prelead_id, version in items
    ]
    recorded = events.append_many(conn, batch)
    return BulkResult(
        decision,
        sum(not r.duplicate for r in recorded),
        sum(r.duplicate for r in recorded),
        [r.entity_id for r in recorded],
    )


def conflict_message(exc: events.VersionConflict) -> str:
    """A VersionConflict in the page's words."""
    who = f" by {exc.last_actor}" if exc.last_actor else ""
    when = f" at {exc.last_occurred_at:%Y-%m-%d %H:%M %Z}" if exc.last_occurred_at else ""
    what = (exc.last_event_type or "a decision").removeprefix("Prelead").lower()
    return (
        f"Row {exc.entity_id} changed since you opened it: {what}{who}{when} "
        f"(version {exc.current}, you saw {exc.expected}). Nothing was saved; the view is "
        "reloaded, decide again."
    )


# --- export and audit -----------------------------------------------------------------------

EXPORT_COLUMNS: tuple[str, ...] = (
    "prelead_id",
    "batch",
    "row_no",
    "company_name",
    "decision",
    "merged_into",
    "reason",
    "decided_by",
    "decided_at",
    "version",
    "is_current",
)


def decision_history(
    conn: psycopg.Connection, batch: str | None = None, *, newest: int | None = None
) -> pl.DataFrame:
    """Every decision event (in row order, each row's events oldest first), optionally of
    one batch: who decided what, when and why; ``is_current`` marks each row's latest.
    ``newest`` keeps only that many of the most recent events (for the page)."""
    # the queue's key is <batch>:<row_no> (its primary key), the event's id <batch>/<row_no>
    name = (
        sql.SQL(
            "(SELECT q.company_name FROM marts.prelead_queue AS q WHERE q.prelead_key = "
            "(e.payload ->> 'batch') || ':' || (e.payload ->> 'row_no'))"
        )
        if _exists(conn, "marts.prelead_queue")
        else sql.SQL("NULL::text")
    )
    query = sql.SQL(
        """
        SELECT * FROM (
            SELECT e.entity_id AS prelead_id, e.payload ->> 'batch' AS batch,
                   (e.payload ->> 'row_no')::bigint AS row_no, {name} AS company_name,
                   CASE e.event_type WHEN 'PreleadApproved' THEN 'approved'
                        WHEN 'PreleadRejected' THEN 'rejected' ELSE 'merged' END AS decision,
                   e.payload ->> 'into_company_key' AS merged_into,
                   e.payload ->> 'reason' AS reason, e.actor AS decided_by,
                   e.occurred_at AS decided_at, e.entity_version::bigint AS version,
                   e.entity_version = max(e.entity_version) OVER (PARTITION BY e.entity_id)
                       AS is_current,
                   e.event_seq
            FROM ops.events AS e
            WHERE e.entity_type = 'prelead'
              AND (%(batch)s::text IS NULL OR e.payload ->> 'batch' = %(batch)s)
            ORDER BY e.event_seq DESC
            LIMIT %(newest)s
        ) AS h
        ORDER BY batch, row_no, version
        """
    ).format(name=name)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, {"batch": batch, "newest": newest}).fetchall()
    for row in rows:
        del row["event_seq"]
    schema = {c: pl.String for c in EXPORT_COLUMNS} | {
        "row_no": pl.Int64,
        "version": pl.Int64,
        "decided_at": pl.Datetime(time_zone="UTC"),
        "is_current": pl.Boolean,
    }
    return _frame(rows, {c: schema[c] for c in EXPORT_COLUMNS})


def decision_count(conn: psycopg.Connection, batch: str) -> int:
    """How many decision events the batch has (every change counts)."""
    return int(
        conn.execute(
            "SELECT count(*) FROM ops.events WHERE entity_type = 'prelead' "
            "AND payload ->> 'batch' = %s",
            (batch,),
        ).fetchone()[0]
    )


def _neutralise(value: str | None) -> str | None:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe."""
    if value and value.startswith(_FORMULA_TRIGGERS):
        return "'" + value
    return value


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return _neutralise(value) if isinstance(value, str) else value


def decisions_csv(conn: psycopg.Connection, batch: str | None = None) -> bytes:
    """:func:`decision_history` as CSV (UTF-8 with BOM, for Excel), formula-looking cells
    neutralised: lead names come from bought lists."""
    frame = decision_history(conn, batch)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for row in frame.iter_rows():
        writer.writerow([_csv_value(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def row_history(conn: psycopg.Connection, prelead_id: str) -> pl.DataFrame:
    """The audit trail of one row: every event, oldest first."""
    rows = [
        {
            "version": r.entity_version,
            "event": r.event_type,
            "by": r.actor,
            "at": r.occurred_at,
            "reason": r.payload.get("reason"),
            "into_company_key": r.payload.get("into_company_key"),
            "recorded_at": r.recorded_at,
        }
        for r in events.history(conn, "prelead", prelead_id)
    ]
    return _frame(
        rows,
        {
            "version": pl.Int64,
            "event": pl.String,
            "by": pl.String,
            "at": pl.Datetime(time_zone="UTC"),
            "reason": pl.String,
            "into_company_key": pl.String,
            "recorded_at": pl.Datetime(time_zone="UTC"),
        },
    )
