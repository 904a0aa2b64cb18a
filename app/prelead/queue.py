"""Prelead screening, reading: the batches, a batch's rows by score (a page at a time), a
row with its problems and duplicate candidates side by side, CRM company search."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from app.prelead.common import (
    DECISION_FILTERS,
    DECISIONS,
    PAGE_SIZE,
    PROBLEMS,
    QueueNotBuilt,
    _exists,
    _frame,
    split_prelead_id,
)

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
