"""Company 360, reading: one CRM company and what the warehouse knows of it, cut to what
the user's role may see (:mod:`app.company.access`). No Streamlit here; read-only.

Every function that returns a section takes the signed-in :class:`pebble.auth.User` and
checks the role first (:func:`app.company.access.require_section`); mail-derived rows are
also filtered in SQL to the role's streams. A mart that is not built yet reads as empty.

How a company's ERP rows are found (the ERP marts carry no company key): a Focus RT order
by the customer code the CRM master placed in the company (``source_ids -> 'focus'``) or
its GSTIN; any other ERP row by one of the company's GSTINs, a GSTIN carrying its PAN, or
(a row without a GSTIN) its name, as ``app.card.company_overview`` does. QC rows also by
the company's order numbers. Cards by ``email_cards.company_key`` or a message the CRM
linked to the company (``crm_email_links``). The timeline (``activity_stream``) by the
company key (people's events) and by the ids of the orders, invoices, QC documents, cards
and emails found above; payments and lead rows by their payload's GSTIN or name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from app.company.access import access_for, require_section
from pebble import db
from pebble.auth import User

#: Rows a table on the page holds at most (the newest).
ROWS = 500
#: Events the timeline shows at most (the newest).
TIMELINE = 300
#: Mail ids (cards and their messages) the timeline looks up at most.
MAIL_IDS = 5000


def connect() -> psycopg.Connection:
    return psycopg.connect(db.warehouse_url(), autocommit=True, connect_timeout=10)


def _rows(conn: psycopg.Connection, query: Any, params: Any = None) -> list[dict[str, Any]]:
    """The rows of a read; [] when a mart or staging view it reads is not built yet."""
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(query, params).fetchall()
    except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn):
        return []


def _frame(rows: list[dict[str, Any]], columns: Sequence[str]) -> pl.DataFrame:
    if not rows:
        return pl.DataFrame(schema={c: pl.String for c in columns})
    return pl.DataFrame(
        [{c: r.get(c) for c in columns} for r in rows], infer_schema_length=None, strict=False
    )


# --- the company ---------------------------------------------------------------------------

#: Risk inputs (crm_companies columns) by the risk_points key they earn points under.
RISK_INPUTS: dict[str, tuple[str, ...]] = {
    "overdue_amount": ("overdue_receivables_inr", "max_days_overdue"),
    "overdue_invoices": ("overdue_invoice_count",),
    "payment_days": ("payment_days",),
    "qc_complaints": ("qc_complaint_email_count", "qc_failed_batch_count", "qc_complaint_count"),
    "gstin_issues": ("invalid_gstin_count", "mismatched_gstin_count", "gstin_issue_count"),
}
#: The inputs made of receivables (withheld from roles that do not see receivables).
MONEY_RISK_INPUTS: tuple[str, ...] = ("overdue_amount", "overdue_invoices", "payment_days")


@dataclass(frozen=True)
class Company:
    """One row of ``marts.crm_companies``."""

    company_key: str
    name: str
    pan: str | None
    cin: str | None
    gstins: tuple[str, ...]
    gstin_states: tuple[str, ...]
    group_key: str | None
    source_systems: tuple[str, ...]
    source_ids: dict[str, Any]
    first_activity_at: datetime | None
    last_activity_at: datetime | None
    risk_score: int
    risk_points: dict[str, Any]
    risk_inputs: dict[str, Any] = field(default_factory=dict)
    issue_gstins: tuple[str, ...] = ()

    @property
    def pans(self) -> list[str]:
        """The company's PAN and the PANs inside its GSTINs, upper case."""
        return sorted({*(g[2:12] for g in self.gstins), *([self.pan.upper()] if self.pan else [])})

    def focus_codes(self) -> list[str]:
        codes = self.source_ids.get("focus") if isinstance(self.source_ids, dict) else None
        return [str(c) for c in codes or []]

    def party(self) -> dict[str, Any]:
        """The parameters of the ERP row match (see the module's docstring)."""
        return {
            "gstins": [g.upper() for g in self.gstins],
            "pans": self.pans,
            "names": [self.name.lower()],
            "codes": self.focus_codes(),
            "key": self.company_key,
        }


_COMPANY = """
SELECT company_key, name, pan, cin, gstins, gstin_states, group_key, source_systems,
       source_ids, first_activity_at, last_activity_at, risk_score, risk_points, issue_gstins,
       overdue_receivables_inr, overdue_invoice_count, max_days_overdue, payment_days,
       qc_complaint_email_count, qc_failed_batch_count, qc_complaint_count,
       invalid_gstin_count, mismatched_gstin_count, gstin_issue_count
FROM marts.crm_companies WHERE company_key = %s
"""


def fetch_company(conn: psycopg.Connection, company_key: str) -> Company | None:
    """The company, or None when the key is unknown (or the CRM master not built yet)."""
    if not company_key or len(company_key) > 200:
        return None
    rows = _rows(conn, _COMPANY, (company_key,))
    if not rows:
        return None
    r = rows[0]
    inputs = {c: r[c] for cols in RISK_INPUTS.values() for c in cols}
    return Company(
        company_key=r["company_key"],
        name=str(r["name"] or r["company_key"]),
        pan=r["pan"],
        cin=r["cin"],
        gstins=tuple(r["gstins"] or ()),
        gstin_states=tuple(r["gstin_states"] or ()),
        group_key=r["group_key"],
        source_systems=tuple(r["source_systems"] or ()),
        source_ids=r["source_ids"] or {},
        first_activity_at=r["first_activity_at"],
        last_activity_at=r["last_activity_at"],
        risk_score=int(r["risk_score"]),
        risk_points=r["risk_points"] or {},
        risk_inputs=inputs,
        issue_gstins=tuple(r["issue_gstins"] or ()),
    )


def company_for_order(conn: psycopg.Connection, sales_order_no: str) -> str | None:
    """The CRM company of a Focus RT sales order: its customer code's company, else its
    GSTIN's (or the PAN inside it); None when neither is in the CRM master."""
    if not sales_order_no or len(sales_order_no) > 200:
        return None
    rows = _rows(
        conn,
        """
        SELECT coalesce(
            (SELECT s.company_key FROM marts.crm_company_sources AS s
              WHERE s.source_system = 'focus' AND s.source_id = o.customer_code LIMIT 1),
            (SELECT c.company_key FROM marts.crm_companies AS c
              WHERE upper(o.gstin) = ANY(c.gstins) ORDER BY c.company_key LIMIT 1),
            (SELECT c.company_key FROM marts.crm_companies AS c
              WHERE c.pan = substr(upper(o.gstin), 3, 10) LIMIT 1)
        ) AS company_key
        FROM marts.sales_orders AS o WHERE o.sales_order_no = %s
        """,
        (sales_order_no,),
    )
    return rows[0]["company_key"] if rows else None


# --- overview ------------------------------------------------------------------------------


def _gstin_check(value: str) -> tuple[bool, str]:
    from stdnum.exceptions import ValidationError
    from stdnum.in_ import gstin

    try:
        gstin.validate(value)
    except ValidationError as exc:
        return False, exc.message
    return True, ""


def identifiers(user: User, company: Company) -> pl.DataFrame:
    """PAN, CIN and every GSTIN (with the invalid or mismatched ones the CRM master
    flagged) with their validity: GSTIN check character by python-stdnum, PAN by
    python-stdnum, CIN by the MCA shape (``ingest.prelead.rules``)."""
    require_section(user, "overview")
    from ingest.prelead.rules import check_cin, check_pan
    from ingest.prelead.states import BY_GST_CODE

    rows: list[dict[str, Any]] = []
    if company.pan:
        _, problems = check_pan(company.pan)
        rows.append(
            {"identifier": "PAN", "value": company.pan, "valid": "valid" if not problems
             else "INVALID", "detail": "; ".join(p[2] for p in problems)}
        )  # fmt: skip
    if company.cin:
        _, problems = check_cin(company.cin)
        rows.append(
            {"identifier": "CIN", "value": company.cin, "valid": "valid" if not problems
             else "INVALID", "detail": "; ".join(p[2] for p in problems)}
        )  # fmt: skip
    states = dict(zip(company.gstins, company.gstin_states, strict=False))
    for value in sorted({*company.gstins, *company.issue_gstins}):
        ok, why = _gstin_check(value)
        notes = [why] if why else []
        state = BY_GST_CODE.get(value[:2])
        if company.pan and ok and value[2:12] != company.pan.upper():
            notes.append(f"carries PAN {value[2:12]}, not the company's")
        if value in company.issue_gstins and ok and not notes:
            notes.append("flagged by the CRM master (state or PAN mismatch)")
        rows.append(
            {
                "identifier": "GSTIN",
                "value": value,
                "valid": "valid" if ok and not notes else ("INVALID" if not ok else "mismatch"),
                "detail": "; ".join(
                    [states.get(value) or (state.name if state else "unknown state"), *notes]
                ),
            }
        )
    return _frame(rows, ("identifier", "value", "valid", "detail"))


def gstins_by_state(user: User, company: Company) -> pl.DataFrame:
    """One row per state: its GSTINs (the CRM master's, in its state order)."""
    require_section(user, "overview")
    by_state: dict[str, list[str]] = {}
    for gstin, state in zip(company.gstins, company.gstin_states, strict=False):
        by_state.setdefault(state or "unknown", []).append(gstin)
    rows = [
        {"state": s, "gstin_count": len(g), "gstins": ", ".join(g)}
        for s, g in sorted(by_state.items())
    ]
    return _frame(rows, ("state", "gstin_count", "gstins"))


def group_members(conn: psycopg.Connection, user: User, company: Company) -> pl.DataFrame:
    """The other companies of the company's inferred group (same non-free-mail domain)."""
    require_section(user, "overview")
    if not company.group_key:
        return _frame([], ("company_key", "name", "company_page"))
    rows = _rows(
        conn,
        "SELECT company_key, name, 'company?key=' || company_key AS company_page"
        " FROM marts.crm_companies WHERE group_key = %s AND company_key <> %s"
        " ORDER BY name, company_key LIMIT %s",
        (company.group_key, company.company_key, ROWS),
    )
    return _frame(rows, ("company_key", "name", "company_page"))


def risk(user: User, company: Company) -> tuple[int, pl.DataFrame, bool]:
    """(score, one row per input with its values and points, whether money inputs were
    withheld for the role)."""
    access = require_section(user, "overview")
    rows = []
    withheld = False
    for name, columns in RISK_INPUTS.items():
        if name in MONEY_RISK_INPUTS and not access.money:
            withheld = True
            continue
        values = "; ".join(
            f"{c} {'-' if company.risk_inputs.get(c) is None else company.risk_inputs[c]}"
            for c in columns
        )
        points = company.risk_points.get(name)
        rows.append({"input": name, "values": values, "points": _float(points)})
    return company.risk_score, _frame(rows, ("input", "values", "points")), withheld


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


# --- contacts ------------------------------------------------------------------------------


def contacts(conn: psycopg.Connection, user: User, company: Company) -> pl.DataFrame:
    require_section(user, "contacts")
    rows = _rows(
        conn,
        "SELECT name, email, designation, phone, is_primary,"
        " array_to_string(source_systems, ', ') AS sources, last_activity_at"
        " FROM marts.crm_contacts WHERE company_key = %s"
        " ORDER BY is_primary DESC, last_activity_at DESC NULLS LAST, email LIMIT %s",
        (company.company_key, ROWS),
    )
    return _frame(
        rows,
        ("name", "email", "designation", "phone", "is_primary", "sources", "last_activity_at"),
    )


# --- mail ----------------------------------------------------------------------------------

# The company's cards: linked by the model (email_cards.company_key) or holding a message
# the CRM master linked to it (crm_email_links; a reply's thread key is its root's
# Message-ID, as app.card reads threads). Stream, status and assignee as people left them
# (ops.card_state over the mart, as the card page shows them); only the role's streams.
_LINKED_THREADS = """
SELECT DISTINCT coalesce(root.thread_key, e.thread_key) AS card_id
FROM marts.crm_email_links AS l
JOIN staging.stg_mail__emails AS e USING (email_key)
LEFT JOIN LATERAL (
    SELECT r.thread_key FROM staging.stg_mail__emails AS r
    WHERE r.message_id = e.thread_key ORDER BY r.loaded_at, r.email_key LIMIT 1
) AS root ON true
WHERE l.company_key = %s
"""

_CARDS = sql.SQL("""
SELECT c.card_id, c.subject, c.mailbox,
       coalesce(live.stream, c.stream, 'other')                         AS stream,
       coalesce(live.intent, c.intent)                                  AS intent,
       CASE WHEN live.card_id IS NULL THEN c.status
            ELSE coalesce(live.status, 'new') END                       AS status,
       CASE WHEN live.card_id IS NULL THEN c.assignee ELSE live.assignee END AS assignee,
       c.message_count, c.last_message_at AT TIME ZONE %(tz)s           AS last_message_at,
       'card?card=' || c.card_id                                        AS card_page
FROM marts.email_cards AS c
LEFT JOIN ops.card_state AS live ON live.card_id = c.card_id
WHERE (c.company_key = %(key)s OR c.card_id = ANY(%(linked)s))
  AND coalesce(live.stream, c.stream, 'other') = ANY(%(streams)s)
  {intent}
ORDER BY c.last_message_at DESC NULLS LAST, c.card_id
LIMIT %(limit)s
""")
CARD_COLUMNS: tuple[str, ...] = (
    "subject",
    "stream",
    "intent",
    "status",
    "assignee",
    "message_count",
    "last_message_at",
    "mailbox",
    "card_id",
    "card_page",
)


def _linked_threads(conn: psycopg.Connection, company_key: str) -> list[str]:
    return [r["card_id"] for r in _rows(conn, _LINKED_THREADS, (company_key,)) if r["card_id"]]


def _card_rows(
    conn: psycopg.Connection,
    company: Company,
    streams: Sequence[str],
    tz: str,
    *,
    intent: str | None = None,
    limit: int = ROWS,
) -> list[dict[str, Any]]:
    if not streams:
        return []
    params = {
        "key": company.company_key,
        "linked": _linked_threads(conn, company.company_key),
        "streams": list(streams),
        "tz": tz,
        "limit": limit,
        "intent": intent,
    }
    clause = sql.SQL("AND coalesce(live.intent, c.intent) = %(intent)s" if intent else "")
    return _rows(conn, _CARDS.format(intent=clause), params)


def cards(conn: psycopg.Connection, user: User, company: Company, tz: str = "UTC") -> pl.DataFrame:
    """The company's cards in the user's streams, newest first, each with its card page."""
    access = require_section(user, "mail")
    return _frame(_card_rows(conn, company, access.card_streams, tz), CARD_COLUMNS)


# --- orders --------------------------------------------------------------------------------

_PARTY = sql.SQL(
    "(upper(gstin) = ANY(%(gstins)s) OR substr(upper(gstin), 3, 10) = ANY(%(pans)s)"
    " OR (gstin IS NULL AND lower(company_name) = ANY(%(names)s)))"
)
_ORDERS_WHERE = sql.SQL("(customer_code = ANY(%(codes)s) OR {})").format(_PARTY)
_ORDER_NOS = sql.SQL("(SELECT sales_order_no FROM marts.sales_orders WHERE {})").format(
    _ORDERS_WHERE
)
#: An ERP row of the company, or (a row with an order number) of one of its orders.
_PARTY_OR_ORDER = sql.SQL("({} OR sales_order_no IN {})").format(_PARTY, _ORDER_NOS)


def _select(
    table: str, columns: Sequence[str], where: sql.Composable, tail: str, *, distinct: bool = False
) -> sql.Composed:
    """SELECT columns FROM marts.<table> WHERE where <tail> (tail: our own ORDER/LIMIT)."""
    return sql.SQL("SELECT {distinct}{cols} FROM {table} WHERE {where} {tail}").format(
        distinct=sql.SQL("DISTINCT " if distinct else ""),
        cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
        table=sql.Identifier("marts", table),
        where=where,
        tail=sql.SQL(tail),
    )


ORDER_COLUMNS: tuple[str, ...] = (
    "sales_order_no", "order_date", "po_ref", "status", "amount_inr", "line_count",
    "ordered_qty", "dispatched_qty", "invoiced_qty", "last_dispatched_on", "company_name",
    "gstin",
)  # fmt: skip


def orders(conn: psycopg.Connection, user: User, company: Company) -> pl.DataFrame:
    """The company's sales orders, newest first."""
    require_section(user, "orders")
    rows = _rows(
        conn,
        _select(
            "sales_orders",
            ORDER_COLUMNS,
            _ORDERS_WHERE,
            "ORDER BY order_date DESC NULLS LAST, sales_order_no DESC LIMIT %(limit)s",
        ),
        company.party() | {"limit": ROWS},
    )
    return _frame(rows, ORDER_COLUMNS)


LINE_COLUMNS: tuple[str, ...] = (
    "sales_order_no", "line_no", "product_name", "qty", "unit", "rate_inr", "amount_inr",
    "dispatched_qty", "pending_qty", "line_status",
)  # fmt: skip


def order_lines(conn: psycopg.Connection, user: User, company: Company) -> pl.DataFrame:
    """The lines of the company's orders, newest order first. Unit rates are prices: a
    role that does not see prices gets the lines without the rate."""
    access = require_section(user, "orders")
    columns = [c for c in LINE_COLUMNS if access.sees("prices") or c not in ("rate_inr",)]
    rows = _rows(
        conn,
        _select(
            "sales_order_lines",
            columns,
            sql.SQL("sales_order_no IN {}").format(_ORDER_NOS),
            "ORDER BY order_date DESC NULLS LAST, sales_order_no DESC, line_no LIMIT %(limit)s",
        ),
        company.party() | {"limit": ROWS},
    )
    return _frame(rows, columns)


# --- receivables ---------------------------------------------------------------------------

RECEIVABLE_COLUMNS: tuple[str, ...] = (
    "invoice_no", "invoice_date", "due_date", "amount_inr", "paid_inr", "outstanding_inr",
    "days_overdue", "payment_status", "sales_order_no", "source_system",
)  # fmt: skip


@dataclass(frozen=True)
class Receivables:
    invoices: pl.DataFrame
    outstanding_inr: float
    overdue_inr: float
    overdue_count: int
    #: 0-30, 31-60, 61-90, over 90 days overdue: outstanding per bucket.
    ageing: pl.DataFrame


_AGEING = sql.SQL("""
SELECT bucket, count(*) AS invoices, sum(outstanding_inr) AS outstanding_inr FROM (
    SELECT outstanding_inr, CASE WHEN days_overdue <= 30 THEN '0-30'
        WHEN days_overdue <= 60 THEN '31-60' WHEN days_overdue <= 90 THEN '61-90'
        ELSE 'over 90' END AS bucket
    FROM marts.receivables WHERE outstanding_inr > 0 AND days_overdue > 0
      AND {where}
) AS r GROUP BY bucket ORDER BY min(CASE bucket WHEN '0-30' THEN 1 WHEN '31-60' THEN 2
    WHEN '61-90' THEN 3 ELSE 4 END)
""").format(where=_PARTY_OR_ORDER)


def receivables(conn: psycopg.Connection, user: User, company: Company) -> Receivables:
    """The company's invoices (outstanding first, then newest), the totals and the ageing
    of what is overdue."""
    require_section(user, "receivables")
    where = _PARTY_OR_ORDER
    params = company.party() | {"limit": ROWS}
    rows = _rows(
        conn,
        _select(
            "receivables",
            RECEIVABLE_COLUMNS,
            where,
            "ORDER BY outstanding_inr > 0 DESC, invoice_date DESC NULLS LAST, invoice_no DESC"
            " LIMIT %(limit)s",
        ),
        params,
    )
    totals = _rows(
        conn,
        sql.SQL(
            "SELECT coalesce(sum(outstanding_inr), 0) AS outstanding,"
            " coalesce(sum(outstanding_inr) FILTER (WHERE days_overdue > 0), 0) AS overdue,"
            " count(*) FILTER (WHERE days_overdue > 0) AS overdue_count"
            " FROM marts.receivables WHERE outstanding_inr > 0 AND {}"
        ).format(where),
        params,
    )
    total = totals[0] if totals else {"outstanding": 0, "overdue": 0, "overdue_count": 0}
    return Receivables(
        invoices=_frame(rows, RECEIVABLE_COLUMNS),
        outstanding_inr=float(total["outstanding"] or 0),
        overdue_inr=float(total["overdue"] or 0),
        overdue_count=int(total["overdue_count"] or 0),
        ageing=_frame(_rows(conn, _AGEING, params), ("bucket", "invoices", "outstanding_inr")),
    )


# --- prices --------------------------------------------------------------------------------

PRICE_COLUMNS: tuple[str, ...] = (
    "product_name", "last_rate_inr", "rate_unit", "last_rate_inr_per_kg", "last_qty_kg",
    "last_priced_on", "price_source", "document_no", "price_count",
)  # fmt: skip


def last_prices(conn: psycopg.Connection, user: User, company: Company) -> pl.DataFrame:
    """The latest price per product (``marts.customer_last_price``), newest first."""
    require_section(user, "prices")
    rows = _rows(
        conn,
        _select(
            "customer_last_price",
            PRICE_COLUMNS,
            _PARTY,
            "ORDER BY last_priced_on DESC NULLS LAST, product_name LIMIT %(limit)s",
        ),
        company.party() | {"limit": ROWS},
    )
    return _frame(rows, PRICE_COLUMNS)


# Prices the extractor found in the messages of the company's cards (our quotes and the
# customer's targets alike): no mart holds quoted prices, so this reads the staging views
# the card page reads, for the cards of the user's streams only.
_MAIL_PRICES = """
WITH threads AS (
    SELECT unnest(%(cards)s::text[]) AS card_id
), own AS (
    SELECT e.message_id FROM staging.stg_mail__emails AS e
    JOIN threads AS t ON e.thread_key = t.card_id WHERE e.message_id IS NOT NULL
), messages AS (
    SELECT e.email_key, e.subject, e.is_outbound, coalesce(e.sent_at, e.loaded_at) AS at,
           e.thread_key
    FROM staging.stg_mail__emails AS e
    WHERE e.thread_key IN (SELECT card_id FROM threads)
       OR e.thread_key IN (SELECT message_id FROM own)
)
SELECT m.at AT TIME ZONE %(tz)s AS sent_at,
       CASE WHEN m.is_outbound THEN 'ours' ELSE 'customer' END AS said_by,
       x.entity_text AS price_text, x.value #>> '{}' AS value, m.subject,
       (SELECT string_agg(DISTINCT p.value #>> '{}', ', ')
          FROM staging.stg_ml__email_entities AS p
          WHERE p.email_key = m.email_key AND p.label = 'PRODUCT') AS products
FROM messages AS m
JOIN staging.stg_ml__email_entities AS x ON x.email_key = m.email_key AND x.label = 'PRICE'
ORDER BY m.at DESC, m.email_key, x.position
LIMIT %(limit)s
"""
MAIL_PRICE_COLUMNS: tuple[str, ...] = (
    "sent_at", "said_by", "products", "price_text", "value", "subject",
)  # fmt: skip


def quoted_prices(
    conn: psycopg.Connection, user: User, company: Company, tz: str = "UTC"
) -> pl.DataFrame:
    """Prices named in the company's mail (the extractor's PRICE entities), newest first,
    from the cards of the user's streams only."""
    access = require_section(user, "prices")
    card_ids = [r["card_id"] for r in _card_rows(conn, company, access.card_streams, tz)]
    if not card_ids:
        return _frame([], MAIL_PRICE_COLUMNS)
    rows = _rows(conn, _MAIL_PRICES, {"cards": card_ids, "tz": tz, "limit": ROWS})
    return _frame(rows, MAIL_PRICE_COLUMNS)


# --- QC and complaints ---------------------------------------------------------------------

BATCH_COLUMNS: tuple[str, ...] = (
    "batch_key", "product_name", "sales_order_no", "inspection_date", "result", "passed",
    "out_of_spec_count", "warning_count", "coa_status", "dispatched_on",
)  # fmt: skip
RESULT_COLUMNS: tuple[str, ...] = (
    "inspection_date", "batch_no", "product_name", "param_name", "result_value", "result_text",
    "min_value", "max_value", "in_spec", "out_of_spec_side", "sales_order_no",
)  # fmt: skip
ALERT_COLUMNS: tuple[str, ...] = (
    "alerted_on", "alert_type", "batch_no", "product_name", "param_name", "sales_order_no",
    "detail",
)  # fmt: skip
COMPLAINT_COLUMNS: tuple[str, ...] = (
    "last_message_at", "status", "assignee", "stream", "subject", "card_id", "card_page",
)  # fmt: skip
#: What qc (no mail) sees of a complaint card.
COMPLAINT_CONTENT: tuple[str, ...] = ("subject", "card_id", "card_page")


@dataclass(frozen=True)
class Quality:
    batches: pl.DataFrame
    #: Results out of spec or in the warning zone.
    flagged_results: pl.DataFrame
    alerts: pl.DataFrame
    #: Quality-complaint cards (subject and link only for roles that see mail).
    complaints: pl.DataFrame
    complaint_email_count: int
    failed_batch_count: int


def quality(conn: psycopg.Connection, user: User, company: Company, tz: str = "UTC") -> Quality:
    """QC of the batches dispatched against the company's orders, its alerts, and its
    quality-complaint cards."""
    access = require_section(user, "qc")
    where = _PARTY_OR_ORDER
    params = company.party() | {"limit": ROWS}
    batches = _rows(
        conn,
        _select(
            "qc_batches",
            BATCH_COLUMNS,
            where,
            "ORDER BY inspection_date DESC NULLS LAST, batch_key LIMIT %(limit)s",
        ),
        params,
    )
    results = _rows(
        conn,
        _select(
            "qc_results",
            RESULT_COLUMNS,
            where,
            "AND (NOT in_spec OR warning_limit IS NOT NULL)"
            " ORDER BY inspection_date DESC NULLS LAST, qc_result_key LIMIT %(limit)s",
        ),
        params,
    )
    alerts = _rows(
        conn,
        _select(
            "qc_alerts",
            ALERT_COLUMNS,
            where,
            "ORDER BY alerted_on DESC NULLS LAST, alert_id LIMIT %(limit)s",
        ),
        params,
    )
    if access.complaint_subjects:
        complaint_rows = _card_rows(
            conn, company, access.card_streams, tz, intent="quality_complaint"
        )
    else:  # that a complaint exists, when and where it stands; not what it says
        complaint_rows = [
            {k: v for k, v in r.items() if k not in COMPLAINT_CONTENT}
            for r in _card_rows(
                conn, company, ("crm", "erp", "tender", "other"), tz, intent="quality_complaint"
            )
        ]
    columns = (
        COMPLAINT_COLUMNS
        if access.complaint_subjects
        else tuple(c for c in COMPLAINT_COLUMNS if c not in COMPLAINT_CONTENT)
    )
    return Quality(
        batches=_frame(batches, BATCH_COLUMNS),
        flagged_results=_frame(results, RESULT_COLUMNS),
        alerts=_frame(alerts, ALERT_COLUMNS),
        complaints=_frame(complaint_rows, columns),
        complaint_email_count=int(company.risk_inputs.get("qc_complaint_email_count") or 0),
        failed_batch_count=int(company.risk_inputs.get("qc_failed_batch_count") or 0),
    )


# --- activity ------------------------------------------------------------------------------


__all__ = [
    "Company",
    "Quality",
    "Receivables",
    "access_for",
    "cards",
    "company_for_order",
    "connect",
    "contacts",
    "fetch_company",
    "gstins_by_state",
    "group_members",
    "identifiers",
    "last_prices",
    "order_lines",
    "orders",
    "quality",
    "quoted_prices",
    "receivables",
    "risk",
]
