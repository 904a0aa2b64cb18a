"""Prelead screening: the queries and commands of the marketing page (no Streamlit here).

Reads ``marts.prelead_queue`` (the valid rows, scored, with their CRM duplicate candidates),
``staging.stg_prelead__batches`` / ``stg_prelead__rows`` (every landed batch and row, the
invalid ones with their problems) and the live fold ``ops.prelead_decisions``: a decision
shows at once, without a dbt build (the mart's own decision columns lag and are not read).

Writes only events: :func:`approve`, :func:`reject`, :func:`merge` (one row, at the version
the person saw) and :func:`bulk_decide` (every row a filter selects, one
:func:`pebble.events.append_many`: all or nothing). Each checks the role first
(:func:`pebble.auth.require`): marketing decides, a manager only reads.

Uploads do not write the warehouse (the app's role cannot write ``raw``): :func:`store_upload`
puts the bytes, atomically, into the prelead drop folder, where the prelead sensor lands
them through the same validated loader as any dropped file; :func:`upload_status` follows
the file through the drop ledger (``ops.drop_files``) to its batch or its refusal.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from pebble import events
from pebble.auth import User, require

#: Who may open the page, and who may decide (a manager reads everything, writes nothing).
READERS: tuple[str, ...] = ("marketing", "manager")
DECIDERS: tuple[str, ...] = ("marketing",)
#: Rows per page of the batch view.
PAGE_SIZE = 100
#: Decision filter values of the batch view.
DECISION_FILTERS: tuple[str, ...] = ("pending", "decided", "approved", "rejected", "merged", "all")
DECISIONS: tuple[str, ...] = ("approved", "rejected", "merged")
EVENT_OF: dict[str, str] = {
    "approved": "PreleadApproved",
    "rejected": "PreleadRejected",
    "merged": "PreleadMerged",
}
#: What the page calls the loader's reason codes (the loader's message follows).
PROBLEMS: dict[str, str] = {
    "gstin_checksum": "bad GSTIN checksum",
    "gstin_format": "malformed GSTIN",
    "pan_gstin_mismatch": "PAN and GSTIN disagree",
    "gstin_state_mismatch": "GSTIN and state disagree",
    "pan_format": "malformed PAN",
    "cin_format": "malformed CIN",
    "email_format": "malformed email",
    "phone_invalid": "malformed phone",
    "company_missing": "no company name",
    "contact_missing": "no email or phone",
    "state_unknown": "unknown state",
    "cell_too_long": "cell too long",
}
#: Lead-list file types the loader takes.
UPLOAD_SUFFIXES: tuple[str, ...] = (".csv", ".xlsx")
#: Hidden folder of the drop folder where an upload is written and checked before it is
#: linked into place (the sensor skips hidden folders; a folder load is not recursive).
UPLOAD_STAGING = ".uploading"
#: Leading characters that make a spreadsheet run a cell as a formula (CSV export).
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class QueueNotBuilt(RuntimeError):
    """The tables the page reads do not exist yet (nothing landed or no dbt build yet)."""


class UploadRefused(ValueError):
    """The uploaded file is not a lead list the loader would take (said why)."""


class SelectionChanged(RuntimeError):
    """A bulk decision's filter now selects other rows than the person saw."""


# --- connections ----------------------------------------------------------------------------


def connect() -> psycopg.Connection:
    """An autocommit connection to the warehouse as the app's role."""
    from pebble import db

    return psycopg.connect(db.warehouse_url(), autocommit=True, connect_timeout=10)


def _exists(conn: psycopg.Connection, qualified: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (qualified,)).fetchone()[0]


def _frame(rows: list[dict[str, Any]], schema: dict[str, Any]) -> pl.DataFrame:
    if not rows:
        return pl.DataFrame(schema=schema)
    return pl.DataFrame(rows, schema=schema, orient="row", strict=False)


def split_prelead_id(prelead_id: str) -> tuple[str, int]:
    """``<batch>/<row_no>`` -> (batch, row_no); the row number is after the last slash."""
    batch, _, row_no = prelead_id.rpartition("/")
    if not batch or not row_no.isdigit():
        raise ValueError(f"not a prelead id: {prelead_id!r}")
    return batch, int(row_no)


# --- batches --------------------------------------------------------------------------------

BATCH_SCHEMA: dict[str, Any] = {
    "batch": pl.String,
    "file_name": pl.String,
    "loaded_at": pl.Datetime(time_zone="UTC"),
    "rows": pl.Int64,
    "valid": pl.Int64,
    "invalid": pl.Int64,
    "duplicates": pl.Int64,
    "crm_candidates": pl.Int64,
    "in_queue": pl.Int64,
    "decided": pl.Int64,
    "pending": pl.Int64,
}

_BATCHES = """
WITH decided AS (
    SELECT batch, count(*) AS decided
    FROM ops.prelead_decisions
    GROUP BY batch
), queue AS (
    {queue}
)
SELECT b.batch, b.file_name, b.loaded_at,
       b.row_count::bigint                                    AS rows,
       b.valid_count::bigint                                  AS valid,
       b.invalid_count::bigint                                AS invalid,
       b.duplicate_count::bigint                              AS duplicates,
       coalesce(q.crm_candidates, 0)::bigint                  AS crm_candidates,
       coalesce(q.in_queue, 0)::bigint                        AS in_queue,
       coalesce(d.decided, 0)::bigint                         AS decided,
       greatest(b.valid_count - coalesce(d.decided, 0), 0)::bigint AS pending
FROM staging.stg_prelead__batches AS b
LEFT JOIN queue AS q ON q.batch = b.batch
LEFT JOIN decided AS d ON d.batch = b.batch
ORDER BY b.loaded_at DESC, b.batch
"""
_QUEUE_COUNTS = (
    "SELECT batch, count(*) AS in_queue, count(*) FILTER (WHERE candidate_count > 0) "
    "AS crm_candidates FROM marts.prelead_queue GROUP BY batch"
)
_NO_QUEUE = "SELECT NULL::text AS batch, 0::bigint AS in_queue, 0::bigint AS crm_candidates"


def list_batches(conn: psycopg.Connection) -> pl.DataFrame:
    """Every landed batch, newest first: rows, valid, invalid, duplicates (within the
    list), rows with CRM duplicate candidates, rows in the queue (the mart, as of its last
    build), decided (live) and pending. One statement."""
    if not _exists(conn, "staging.stg_prelead__batches"):
        raise QueueNotBuilt("staging.stg_prelead__batches does not exist yet")
    queue = _QUEUE_COUNTS if _exists(conn, "marts.prelead_queue") else _NO_QUEUE
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_BATCHES.format(queue=queue)).fetchall()
    return _frame(rows, BATCH_SCHEMA)


# --- the batch view -------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """Which queue rows of one batch the view (and a bulk decision) covers."""

    batch: str
    decision: str = "pending"
    min_score: int | None = None
    max_score: int | None = None
    #: True: only rows without CRM duplicate candidates; False: only rows with some.
    no_candidates: bool | None = None
    #: A part of the company name, or a GSTIN/PAN/e-mail (case-insensitive substring).
    search: str | None = None

    def __post_init__(self) -> None:
        if self.decision not in DECISION_FILTERS:
            raise ValueError(f"unknown decision filter {self.decision!r}")

    def describe(self) -> str:
        """The filter in our own words (for labels and confirmations)."""
        parts = [f"batch {self.batch}", self.decision if self.decision != "all" else "any decision"]
        if self.min_score is not None:
            parts.append(f"score >= {self.min_score}")
        if self.max_score is not None:
            parts.append(f"score <= {self.max_score}")
        if self.no_candidates is True:
            parts.append("no duplicate candidates")
        elif self.no_candidates is False:
            parts.append("with duplicate candidates")
        if self.search:
            parts.append("matching the search")
        return ", ".join(parts)


# A row without any prelead event is pending; the latest event decides otherwise. The
# decision test reads the row's own events through the index on (entity_type, entity_id).
_HAS_EVENT = (
    "EXISTS (SELECT 1 FROM ops.events AS e WHERE e.entity_type = 'prelead' "
    "AND e.entity_id = q.prelead_id)"
)


def _where(filters: Filters) -> tuple[sql.Composable, dict[str, Any]]:
    clauses: list[sql.Composable] = [sql.SQL("q.batch = %(batch)s")]
    params: dict[str, Any] = {"batch": filters.batch}
    if filters.decision == "pending":
        clauses.append(sql.SQL("NOT " + _HAS_EVENT))
    elif filters.decision == "decided":
        clauses.append(sql.SQL(_HAS_EVENT))
    elif filters.decision in DECISIONS:
        clauses.append(
            sql.SQL(
                "EXISTS (SELECT 1 FROM ops.prelead_decisions AS dd "
                "WHERE dd.prelead_id = q.prelead_id AND dd.decision = %(decision)s)"
            )
        )
        params["decision"] = filters.decision
    if filters.min_score is not None:
        clauses.append(sql.SQL("q.score >= %(min_score)s"))
        params["min_score"] = int(filters.min_score)
    if filters.max_score is not None:
        clauses.append(sql.SQL("q.score <= %(max_score)s"))
        params["max_score"] = int(filters.max_score)
    if filters.no_candidates is True:
        clauses.append(sql.SQL("q.candidate_count = 0"))
    elif filters.no_candidates is False:
        clauses.append(sql.SQL("q.candidate_count > 0"))
    if filters.search and filters.search.strip():
        clauses.append(
            sql.SQL(
                "(q.company_name ILIKE %(search)s OR q.gstin ILIKE %(search)s "
                "OR q.pan ILIKE %(search)s OR q.email ILIKE %(search)s)"
            )
        )
        params["search"] = "%" + _like_escape(filters.search.strip()) + "%"
    return sql.SQL(" AND ").join(clauses), params


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


QUEUE_SCHEMA: dict[str, Any] = {
    "prelead_id": pl.String,
    "row_no": pl.Int64,
    "score": pl.Int64,
    "company_name": pl.String,
    "contact_person": pl.String,
    "gstin": pl.String,
    "pan": pl.String,
    "email": pl.String,
    "phone": pl.String,
    "city": pl.String,
    "state": pl.String,
    "industry": pl.String,
    "candidate_count": pl.Int64,
    "best_candidate_name": pl.String,
    "best_candidate_match": pl.String,
    "duplicate_in_batch_of": pl.String,
    "is_queue_duplicate": pl.Boolean,
    "reasons": pl.String,
    "decision": pl.String,
    "decided_by": pl.String,
    "decided_at": pl.Datetime(time_zone="UTC"),
    "decision_reason": pl.String,
    "merged_into": pl.String,
    "version": pl.Int64,
}

# The page: the filter's rows in score order, LIMIT/OFFSET, then the live decision of just
# those rows (the view's DISTINCT ON key is prelead_id, so the lateral qual is pushed into
# it and read through the events index).
_PAGE = """
SELECT q.prelead_id, q.row_no::bigint AS row_no, q.score::bigint AS score, q.company_name,
       q.contact_person, q.gstin, q.pan, q.email, q.phone, q.city, q.state, q.industry,
       q.candidate_count::bigint AS candidate_count, q.best_candidate_name,
       q.best_candidate_match, q.duplicate_in_batch_of, q.is_queue_duplicate,
       (SELECT string_agg(r ->> 'reason' || ' ' || (r ->> 'points'), '; ')
          FROM jsonb_array_elements(q.score_reasons) AS r
          WHERE (r ->> 'points')::integer > 0)                        AS reasons,
       coalesce(d.decision, 'pending')                                AS decision,
       d.decided_by, d.decided_at, d.reason AS decision_reason, d.merged_into,
       coalesce(d.version, 0)::bigint                                 AS version
FROM (
    SELECT q.*
    FROM marts.prelead_queue AS q
    WHERE {where}
    ORDER BY q.score DESC, q.row_no
    LIMIT %(limit)s OFFSET %(offset)s
) AS q
LEFT JOIN LATERAL (
    SELECT decision, decided_by, decided_at, reason, merged_into, version
    FROM ops.prelead_decisions AS d
    WHERE d.prelead_id = q.prelead_id
) AS d ON true
ORDER BY q.score DESC, q.row_no
"""


def _queue_ready(conn: psycopg.Connection) -> None:
    if not _exists(conn, "marts.prelead_queue"):
        raise QueueNotBuilt("marts.prelead_queue does not exist yet")


def queue_page(
    conn: psycopg.Connection, filters: Filters, *, page: int = 0, page_size: int = PAGE_SIZE
) -> pl.DataFrame:
    """One page of the batch's queue rows that ``filters`` selects, best score first, with
    the live decision and the version the next decision is appended at."""
    _queue_ready(conn)
    where, params = _where(filters)
    params |= {"limit": page_size, "offset": max(page, 0) * page_size}
    query = sql.SQL(_PAGE).format(where=where)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, params).fetchall()
    return _frame(rows, QUEUE_SCHEMA)


def queue_count(conn: psycopg.Connection, filters: Filters) -> int:
    """How many queue rows ``filters`` selects (counted apart from the page)."""
    _queue_ready(conn)
    where, params = _where(filters)
    query = sql.SQL("SELECT count(*) FROM marts.prelead_queue AS q WHERE {}").format(where)
    return int(conn.execute(query, params).fetchone()[0])


INVALID_SCHEMA: dict[str, Any] = {
    "row_no": pl.Int64,
    "company": pl.String,
    "gstin": pl.String,
    "pan": pl.String,
    "email": pl.String,
    "phone": pl.String,
    "problems": pl.String,
}


def problem_text(reasons: Sequence[dict[str, Any]] | None) -> str:
    """The loader's reasons in the page's words: "bad GSTIN checksum: GSTIN check ..."."""
    out = []
    for reason in reasons or ():
        code = str(reason.get("code", ""))
        message = str(reason.get("message", ""))
        label = PROBLEMS.get(code, code.replace("_", " "))
        out.append(f"{label}: {message}" if message else label)
    return "; ".join(out)


def invalid_rows(
    conn: psycopg.Connection, batch: str, *, page: int = 0, page_size: int = PAGE_SIZE
) -> tuple[pl.DataFrame, int]:
    """The batch's invalid rows (not in the queue) with their problems, in row order, and
    how many there are."""
    if not _exists(conn, "staging.stg_prelead__rows"):
        raise QueueNotBuilt("staging.stg_prelead__rows does not exist yet")
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT row_no::bigint AS row_no, company, gstin, pan, email, phone, reasons "
            "FROM staging.stg_prelead__rows WHERE batch = %s AND NOT is_valid "
            "ORDER BY row_no LIMIT %s OFFSET %s",
            (batch, page_size, max(page, 0) * page_size),
        ).fetchall()
        total = cur.execute(
            "SELECT count(*) AS n FROM staging.stg_prelead__rows WHERE batch = %s AND NOT is_valid",
            (batch,),
        ).fetchone()["n"]
    for row in rows:
        row["problems"] = problem_text(row.pop("reasons"))
    return _frame(rows, INVALID_SCHEMA), int(total)


# --- one row --------------------------------------------------------------------------------


@dataclass
class RowDetail:
    """Everything the page shows of one queue row."""

    row: dict[str, Any]
    #: [{factor, points, reason}] as the mart scored it.
    score_reasons: list[dict[str, Any]]
    #: The loader's problems ("" for a valid row: the queue holds valid rows only).
    problems: str
    #: The duplicate candidates as the mart lists them, strongest first.
    candidates: list[dict[str, Any]]
    #: field | lead | company_key... side by side: one row per compared field.
    comparison: pl.DataFrame
    decision: str = "pending"
    version: int = 0
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    merged_into: str | None = None


_COMPARED = ("name", "gstin", "pan", "cin", "email domain", "phone", "state")


def row_detail(conn: psycopg.Connection, prelead_id: str) -> RowDetail | None:
    """The queue row ``prelead_id`` with its score reasons, problems, duplicate candidates
    (the CRM master's fields beside the lead's) and live decision; None when unknown."""
    _queue_ready(conn)
    with conn.cursor(row_factory=dict_row) as cur:
        batch, row_no = split_prelead_id(prelead_id)
        row = cur.execute(  # by the primary key, <batch>:<row_no>
            "SELECT * FROM marts.prelead_queue WHERE prelead_key = %s", (f"{batch}:{row_no}",)
        ).fetchone()
        if row is None:
            return None
        live = cur.execute(
            "SELECT decision, version, decided_by, decided_at, reason, merged_into "
            "FROM ops.prelead_decisions WHERE prelead_id = %s",
            (prelead_id,),
        ).fetchone()
        problems = ""
        if _exists(conn, "staging.stg_prelead__rows"):
            raw = cur.execute(
                "SELECT reasons FROM staging.stg_prelead__rows WHERE batch = %s AND row_no = %s",
                (row["batch"], row["row_no"]),
            ).fetchone()
            problems = problem_text(raw["reasons"]) if raw else ""
        candidates = list(row.get("duplicate_candidates") or [])
        companies = _companies(conn, [c["company_key"] for c in candidates])
    detail = RowDetail(
        row=row,
        score_reasons=list(row.get("score_reasons") or []),
        problems=problems,
        candidates=candidates,
        comparison=_comparison(row, candidates, companies),
    )
    if live:
        detail.decision = live["decision"]
        detail.version = int(live["version"])
        detail.decided_by = live["decided_by"]
        detail.decided_at = live["decided_at"]
        detail.decision_reason = live["reason"]
        detail.merged_into = live["merged_into"]
    return detail


def _companies(conn: psycopg.Connection, keys: list[str]) -> dict[str, dict[str, Any]]:
    if not keys or not _exists(conn, "marts.crm_companies"):
        return {}
    contacts = (
        sql.SQL(
            "(SELECT array_agg(DISTINCT split_part(k.email, '@', 2)) FROM marts.crm_contacts AS k"
            " WHERE k.company_key = c.company_key) AS domains, (SELECT array_agg(DISTINCT"
            " k.phone) FROM marts.crm_contacts AS k WHERE k.company_key = c.company_key"
            " AND k.phone IS NOT NULL) AS phones"
        )
        if _exists(conn, "marts.crm_contacts")
        else sql.SQL("NULL::text[] AS domains, NULL::text[] AS phones")
    )
    query = sql.SQL(
        "SELECT c.company_key, c.name, c.pan, c.cin, c.gstins, c.gstin_states, {} "
        "FROM marts.crm_companies AS c WHERE c.company_key = ANY(%s)"
    ).format(contacts)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, (keys,)).fetchall()
    return {r["company_key"]: r for r in rows}


def _lead_values(row: dict[str, Any]) -> dict[str, str | None]:
    return {
        "name": row.get("company_name"),
        "gstin": row.get("gstin"),
        "pan": row.get("pan"),
        "cin": row.get("cin"),
        "email domain": row.get("email_domain"),
        "phone": row.get("phone"),
        "state": row.get("state_code"),
    }


def _company_values(company: dict[str, Any], fallback_name: str | None) -> dict[str, list[str]]:
    def listed(value: Any) -> list[str]:
        if value is None:
            return []
        return [str(v) for v in value if v] if isinstance(value, list) else [str(value)]

    return {
        "name": listed(company.get("name") or fallback_name),
        "gstin": listed(company.get("gstins")),
        "pan": listed(company.get("pan")),
        "cin": listed(company.get("cin")),
        "email domain": listed(company.get("domains")),
        "phone": listed(company.get("phones")),
        "state": listed(company.get("gstin_states")),
    }


def _comparison(
    row: dict[str, Any],
    candidates: list[dict[str, Any]],
    companies: dict[str, dict[str, Any]],
) -> pl.DataFrame:
    """One row per field: the lead's value, then per candidate its value(s) and whether it
    matches (the mart's own match rules are in each candidate's ``matches``)."""
    lead = _lead_values(row)
    data: dict[str, list[Any]] = {"field": list(_COMPARED), "lead": [lead[f] for f in _COMPARED]}
    for n, cand in enumerate(candidates, start=1):
        key = cand.get("company_key")
        values = _company_values(companies.get(key, {}), cand.get("name"))
        matched = set(cand.get("matches") or [])
        column, flags = [], []
        for f in _COMPARED:
            theirs = values[f]
            column.append(", ".join(theirs[:5]) or None)
            mine = lead[f]
            rule = {"email domain": "domain"}.get(f, f)
            same = rule in matched or (
                mine is not None and any(mine.lower() == t.lower() for t in theirs)
            )
            flags.append("same" if same else "")
        data[f"candidate {n}: {key}"] = column
        data[f"match {n}"] = flags
    return pl.DataFrame(data, schema={k: pl.String for k in data})


def score_reason_frame(reasons: list[dict[str, Any]]) -> pl.DataFrame:
    return _frame(
        [
            {"factor": r.get("factor"), "points": r.get("points"), "reason": r.get("reason")}
            for r in reasons
        ],
        {"factor": pl.String, "points": pl.Int64, "reason": pl.String},
    )


def candidate_frame(candidates: list[dict[str, Any]]) -> pl.DataFrame:
    rows = [
        {
            "company_key": c.get("company_key"),
            "name": c.get("name"),
            "match": c.get("match"),
            "score": float(c["score"]) if c.get("score") is not None else None,
            "matches": ", ".join(c.get("matches") or []),
            "matched_value": c.get("matched_value"),
            "source_systems": ", ".join(c.get("source_systems") or []),
        }
        for c in candidates
    ]
    schema = {
        "company_key": pl.String,
        "name": pl.String,
        "match": pl.String,
        "score": pl.Float64,
        "matches": pl.String,
        "matched_value": pl.String,
        "source_systems": pl.String,
    }
    return _frame(rows, schema)


def search_companies(conn: psycopg.Connection, text: str, *, limit: int = 20) -> pl.DataFrame:
    """CRM companies by a part of the name, or a GSTIN, PAN or company key."""
    schema = {"company_key": pl.String, "name": pl.String, "pan": pl.String, "gstins": pl.String}
    text = (text or "").strip()
    if not text or not _exists(conn, "marts.crm_companies"):
        return pl.DataFrame(schema=schema)
    upper = text.upper()
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            """
            SELECT company_key, name, pan, array_to_string(gstins, ', ') AS gstins
            FROM marts.crm_companies
            WHERE company_key = %(text)s OR pan = %(upper)s OR %(upper)s = ANY(gstins)
               OR name ILIKE %(like)s
            ORDER BY (company_key = %(text)s OR pan = %(upper)s OR %(upper)s = ANY(gstins)) DESC,
                     name, company_key
            LIMIT %(limit)s
            """,
            {"text": text, "upper": upper, "like": f"%{_like_escape(text)}%", "limit": limit},
        ).fetchall()
    return _frame(rows, schema)


def company_exists(conn: psycopg.Connection, company_key: str) -> bool:
    if not _exists(conn, "marts.crm_companies"):
        return False
    return (
        conn.execute(
            "SELECT 1 FROM marts.crm_companies WHERE company_key = %s", (company_key,)
        ).fetchone()
        is not None
    )


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


# --- upload ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredUpload:
    """A lead list placed in the drop folder: the path the sensor sees and its batch name."""

    path: Path
    batch: str
    sha256: str
    size: int


def drop_folder() -> Path:
    from pebble.settings import get_settings

    return get_settings().prelead_drops


def _safe_stem(file_name: str) -> str:
    stem = Path(file_name.replace("\\", "/")).name
    stem = stem[: -len(Path(stem).suffix)] if Path(stem).suffix else stem
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-")
    return (stem or "upload")[:120]


def _batch_taken(conn: psycopg.Connection | None, batch: str) -> bool:
    if conn is None or not _exists(conn, "staging.stg_prelead__batches"):
        return False
    return (
        conn.execute(
            "SELECT 1 FROM staging.stg_prelead__batches WHERE batch = %s", (batch,)
        ).fetchone()
        is not None
    )


def _loaded_as(conn: psycopg.Connection | None, sha256: str) -> str | None:
    if conn is None or not _exists(conn, "staging.stg_prelead__batches"):
        return None
    row = conn.execute(
        "SELECT batch FROM staging.stg_prelead__batches WHERE file_sha256 = %s "
        "ORDER BY loaded_at LIMIT 1",
        (sha256,),
    ).fetchone()
    return row[0] if row else None


def store_upload(
    data: bytes,
    file_name: str,
    user: User | None,
    *,
    conn: psycopg.Connection | None = None,
    folder: Path | None = None,
) -> StoredUpload:
    """Put an uploaded lead list into the prelead drop folder, whole or not at all.

    The bytes are written and fsynced under a hidden staging folder of the drop folder,
    checked with the loader's own parser (a CSV or XLSX lead list with a company column
    and data rows, else :class:`UploadRefused` with the loader's reason), then hard-linked
    into the drop folder under a name no file and no batch holds yet (``leads.csv``,
    ``leads_2.csv``...): the sensor never sees a partial file, and an existing file is
    never replaced. With ``conn``, bytes already loaded as a batch are refused."""
    from ingest.prelead.parse import PreleadFileError, inspect_file, open_table

    require(user, *DECIDERS, action="upload lead lists")
    suffix = Path(file_name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise UploadRefused(f"{Path(file_name).name}: expected a .csv or .xlsx lead list")
    if not data:
        raise UploadRefused(f"{Path(file_name).name}: the file is empty")
    root = (folder or drop_folder()).resolve()
    root.mkdir(parents=True, exist_ok=True)
    stem = _safe_stem(file_name)
    staging = root / UPLOAD_STAGING / uuid.uuid4().hex
    staging.mkdir(parents=True)
    temp = staging / f"{stem}{suffix}"
    try:
        with open(temp, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            source = inspect_file(temp)
            table = open_table(source)
            next(iter(table.rows), None)
        except PreleadFileError as exc:
            raise UploadRefused(str(exc)) from None
        if (earlier := _loaded_as(conn, source.sha256)) is not None:
            raise UploadRefused(f"this file is already loaded as batch {earlier}")
        for n in range(1, 1000):
            batch = stem if n == 1 else f"{stem}_{n}"
            target = root / f"{batch}{suffix}"
            if _batch_taken(conn, batch) or any(
                (root / f"{batch}{s}").exists() for s in UPLOAD_SUFFIXES
            ):
                continue
            try:
                os.link(temp, target)  # fails if the name was taken meanwhile: never replaces
            except FileExistsError:
                continue
            _fsync_dir(root)
            return StoredUpload(target, batch, source.sha256, source.size)
        raise UploadRefused(f"no free file name for {stem}{suffix} in the drop folder")
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclass(frozen=True)
class UploadStatus:
    """Where an uploaded file is: queued (the sensor has not taken it yet), landing, landed
    (with the batch's counts), refused (with the reason) or failed (offered again)."""

    state: str
    message: str
    counts: dict[str, int] = field(default_factory=dict)
    in_queue: bool = False

    @property
    def done(self) -> bool:
        return self.state in ("landed", "refused")


def upload_status(conn: psycopg.Connection, path: Path | str, batch: str) -> UploadStatus:
    """Follow an uploaded file through the drop ledger (``ops.drop_files``) to its batch
    (``staging.stg_prelead__batches``) or its refusal (``staging.stg_ingest__rejects``)."""
    path = str(path)
    ledger = conn.execute(
        "SELECT outcome, reason FROM ops.drop_files WHERE source = 'prelead' AND path = %s "
        "ORDER BY first_seen DESC LIMIT 1",
        (path,),
    ).fetchone()
    batch_row = None
    if _exists(conn, "staging.stg_prelead__batches"):
        with conn.cursor(row_factory=dict_row) as cur:
            batch_row = cur.execute(
                "SELECT row_count AS rows, valid_count AS valid, invalid_count AS invalid, "
                "duplicate_count AS duplicates FROM staging.stg_prelead__batches "
                "WHERE batch = %s",
                (batch,),
            ).fetchone()
    if batch_row is not None:
        in_queue = _exists(conn, "marts.prelead_queue") and (
            conn.execute(
                "SELECT 1 FROM marts.prelead_queue WHERE batch = %s LIMIT 1", (batch,)
            ).fetchone()
            is not None
        )
        counts = {k: int(v) for k, v in batch_row.items()}
        message = (
            f"landed as batch {batch}: rows {counts['rows']}, valid {counts['valid']}, "
            f"invalid {counts['invalid']}, duplicates {counts['duplicates']}"
        )
        if not in_queue:
            message += "; the queue shows it after the models are rebuilt"
        return UploadStatus("landed", message, counts, in_queue)
    if ledger is None:
        return UploadStatus(
            "queued", "waiting for the prelead sensor (a file is taken once it has settled)"
        )
    outcome, reason = ledger
    if outcome == "running":
        return UploadStatus("landing", "the loader is validating and landing the rows")
    if outcome == "refused":
        return UploadStatus("refused", f"refused: {reason or 'no reason given'}")
    if outcome == "failed":
        return UploadStatus(
            "failed", f"the landing failed and will be retried: {reason or 'unknown error'}"
        )
    if _exists(conn, "staging.stg_ingest__rejects"):
        reject = conn.execute(
            "SELECT reason FROM staging.stg_ingest__rejects WHERE source = 'prelead' "
            "AND locator = %s AND NOT is_resolved ORDER BY rejected_at DESC LIMIT 1",
            (path,),
        ).fetchone()
        if reject is not None:
            return UploadStatus("refused", f"refused by the loader: {reject[0]}")
    return UploadStatus("landing", "handled; waiting for the batch to appear")
