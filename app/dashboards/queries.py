"""The dashboards' queries (no Streamlit here): each reads one mart, filters it by the page's
date range and filters, and sums what dbt already aggregated. Every query is parameterised;
the only identifiers composed are mart names from this module (``psycopg.sql``).

A mart that is not built yet (a first ``make up`` still materialising) reads as empty, so
the page can say so instead of failing. Amounts come back as floats rounded to the paisa
after summing the marts' numerics, so they equal the marts' sums exactly to two places.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql

from pebble.settings import get_settings

#: The marts the dashboards read (schema ``marts``).
MARTS = (
    "kpi_mail_daily",
    "kpi_backlog_daily",
    "kpi_first_response",
    "kpi_conversion_daily",
    "kpi_demand_vs_stock",
    "kpi_receivables_ageing",
    "deal_pipeline",
    "email_cards",
    "stock_history",
    "qc_batches",
    "qc_alerts",
)
#: Ageing buckets of kpi_receivables_ageing, youngest first.
AGEING_BUCKETS = ("0-30", "31-60", "61-90", ">90")
#: Backlog age buckets of kpi_backlog_daily, youngest first.
BACKLOG_BUCKETS = ("0-1d", "1-3d", "3-7d", ">7d")
#: Deal stages of deal_pipeline, in pipeline order.
STAGES = ("enquiry", "quoted", "sample", "ordered", "won", "lost")
#: The board's columns that are backlog, in board order.
BACKLOG_COLUMNS = ("new", "in_progress", "waiting_on_customer", "quoted")
#: How many cards needing review are listed, and how many customers are "top".
REVIEW_LIMIT = 500
TOP_CUSTOMERS = 20
#: The date range a page opens on: this many days up to the newest day with data.
DEFAULT_DAYS = 90


@dataclass(frozen=True)
class Period:
    """The page's date range (both days included) and its filters; an empty tuple means all."""

    start: date
    end: date
    streams: tuple[str, ...] = field(default=())
    regions: tuple[str, ...] = field(default=())
    products: tuple[str, ...] = field(default=())


def existing_marts(conn: psycopg.Connection) -> set[str]:
    """Which of :data:`MARTS` exist in the warehouse now."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'marts' AND c.relname = ANY(%s)",
        (list(MARTS),),
    ).fetchall()
    return {r[0] for r in rows}


def _frame(
    conn: psycopg.Connection, query: sql.Composable | str, params: dict[str, Any] | None = None
) -> pd.DataFrame:
    cur = conn.execute(query, params or {})
    columns = [c.name for c in cur.description]
    return pd.DataFrame(cur.fetchall(), columns=columns)


def _zone() -> str:
    """The business's time zone (PEBBLE_TIMEZONE): days are its days, as in the marts."""
    return get_settings().timezone


def _any(values: Sequence[str]) -> list[str] | None:
    """A filter's parameter: None (no filter) or the list to match with ``= ANY``."""
    return list(values) or None


def data_days(conn: psycopg.Connection, marts: set[str]) -> tuple[date, date] | None:
    """The first and last day the mail and deal marts have data for (the date picker's
    bounds and the default range's end), or None before anything is built."""
    parts = []
    if "kpi_mail_daily" in marts:
        parts.append("SELECT min(day) AS lo, max(day) AS hi FROM marts.kpi_mail_daily")
    if "deal_pipeline" in marts:
        parts.append("SELECT min(enquiry_on) AS lo, max(enquiry_on) AS hi FROM marts.deal_pipeline")
    if "kpi_receivables_ageing" in marts:
        parts.append(
            "SELECT min(invoice_date) AS lo, max(invoice_date) AS hi"
            " FROM marts.kpi_receivables_ageing"
        )
    if not parts:
        return None
    union = sql.SQL(" UNION ALL ").join(sql.SQL(p) for p in parts)
    row = conn.execute(sql.SQL("SELECT min(lo), max(hi) FROM ({}) AS d").format(union)).fetchone()
    if row is None or row[0] is None:
        return None
    return row[0], row[1]


def default_period(bounds: tuple[date, date] | None, today: date) -> tuple[date, date]:
    """The range a page opens on: the last DEFAULT_DAYS days up to the newest data."""
    end = bounds[1] if bounds else today
    start = end - timedelta(days=DEFAULT_DAYS - 1)
    if bounds and start < bounds[0]:
        start = bounds[0]
    return start, end


def options(conn: psycopg.Connection, marts: set[str]) -> dict[str, list[str]]:
    """The values the filters offer: streams, regions and products."""
    out: dict[str, list[str]] = {"streams": [], "regions": [], "products": []}
    if "kpi_mail_daily" in marts:
        out["streams"] = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT coalesce(stream, 'unclassified') FROM marts.kpi_mail_daily"
                " ORDER BY 1"
            )
        ]
    if "kpi_conversion_daily" in marts:
        out["regions"] = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT region FROM marts.kpi_conversion_daily ORDER BY 1"
            )
        ]
        out["products"] = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT product FROM marts.kpi_conversion_daily ORDER BY 1"
            )
        ]
    return out


# --- mail ----------------------------------------------------------------------------------


def mail_volume(conn: psycopg.Connection, period: Period) -> pd.DataFrame:
    """Customer messages and new threads per day, stream and intent (kpi_mail_daily)."""
    return _frame(
        conn,
        """
        SELECT day, coalesce(stream, 'unclassified') AS stream,
               coalesce(intent, 'not scored') AS intent,
               sum(messages)::bigint AS messages, sum(new_threads)::bigint AS new_threads
        FROM marts.kpi_mail_daily
        WHERE day BETWEEN %(start)s AND %(end)s
          AND (%(streams)s::text[] IS NULL OR coalesce(stream, 'unclassified') = ANY(%(streams)s))
        GROUP BY 1, 2, 3
        ORDER BY 1, 2, 3
        """,
        {"start": period.start, "end": period.end, "streams": _any(period.streams)},
    )


def backlog_day(conn: psycopg.Connection, period: Period) -> date | None:
    """The backlog's snapshot day: the last day of the range the backlog mart has."""
    row = conn.execute(
        "SELECT max(day) FROM marts.kpi_backlog_daily WHERE day <= %s", (period.end,)
    ).fetchone()
    return row[0] if row else None


def backlog(conn: psycopg.Connection, period: Period, day: date) -> pd.DataFrame:
    """Backlog cards per column and age bucket at the end of ``day`` (kpi_backlog_daily)."""
    return _frame(
        conn,
        """
        SELECT status AS "column", age_bucket, min(age_bucket_rank) AS age_bucket_rank,
               sum(cards)::bigint AS cards
        FROM marts.kpi_backlog_daily
        WHERE day = %(day)s
          AND (%(streams)s::text[] IS NULL OR stream = ANY(%(streams)s))
        GROUP BY 1, 2
        ORDER BY array_position(%(columns)s::text[], status), 3
        """,
        {"day": day, "streams": _any(period.streams), "columns": list(BACKLOG_COLUMNS)},
    )


def backlog_trend(conn: psycopg.Connection, period: Period) -> pd.DataFrame:
    """Backlog cards per column at the end of each day of the range."""
    return _frame(
        conn,
        """
        SELECT day, status AS "column", sum(cards)::bigint AS cards
        FROM marts.kpi_backlog_daily
        WHERE day BETWEEN %(start)s AND %(end)s
          AND (%(streams)s::text[] IS NULL OR stream = ANY(%(streams)s))
        GROUP BY 1, 2
        ORDER BY 1, array_position(%(columns)s::text[], status)
        """,
        {
            "start": period.start,
            "end": period.end,
            "streams": _any(period.streams),
            "columns": list(BACKLOG_COLUMNS),
        },
    )


_FIRST_RESPONSE = """
    SELECT {dimension} AS {label},
           count(*)::bigint AS cards,
           count(*) FILTER (WHERE is_responded)::bigint AS responded,
           round((percentile_cont(0.5) WITHIN GROUP (ORDER BY response_minutes)
               FILTER (WHERE is_responded))::numeric, 1)::float8 AS median_minutes,
           round((percentile_cont(0.9) WITHIN GROUP (ORDER BY response_minutes)
               FILTER (WHERE is_responded))::numeric, 1)::float8 AS p90_minutes
    FROM marts.kpi_first_response
    WHERE first_inbound_on BETWEEN %(start)s AND %(end)s
      AND (%(streams)s::text[] IS NULL OR coalesce(stream, 'unclassified') = ANY(%(streams)s))
    GROUP BY 1
    ORDER BY 1
"""


def first_response(conn: psycopg.Connection, period: Period, by: str) -> pd.DataFrame:
    """First-response time (median and 90th percentile, minutes, over answered cards) of the
    cards whose customer first wrote in the range, per ``by``: "stream" or "person" (the
    card's assignee). Percentiles of a range cannot be summed from daily ones, so they are
    taken over kpi_first_response's cards (one row per card)."""
    dimension = {
        "stream": (sql.SQL("coalesce(stream, 'unclassified')"), "stream"),
        "person": (sql.SQL("coalesce(assignee, 'unassigned')"), "person"),
    }[by]
    query = sql.SQL(_FIRST_RESPONSE).format(
        dimension=dimension[0], label=sql.Identifier(dimension[1])
    )
    return _frame(
        conn,
        query,
        {"start": period.start, "end": period.end, "streams": _any(period.streams)},
    )


def cards_needing_review(conn: psycopg.Connection, period: Period) -> pd.DataFrame:
    """Open cards (not done, not spam) the model asks a person to review whose latest
    message came in the range, newest first (at most REVIEW_LIMIT)."""
    return _frame(
        conn,
        """
        SELECT card_id, subject, coalesce(stream, 'unclassified') AS stream, intent,
               round(confidence::numeric, 2)::float8 AS confidence, status AS "column",
               company_key, company_name, last_message_at
        FROM marts.email_cards
        WHERE requires_review AND status NOT IN ('done', 'spam')
          AND (last_message_at AT TIME ZONE %(tz)s)::date BETWEEN %(start)s AND %(end)s
          AND (%(streams)s::text[] IS NULL OR coalesce(stream, 'unclassified') = ANY(%(streams)s))
        ORDER BY last_message_at DESC, card_id
        LIMIT %(limit)s
        """,
        {
            "start": period.start,
            "end": period.end,
            "streams": _any(period.streams),
            "limit": REVIEW_LIMIT,
            "tz": _zone(),
        },
    )


# --- commercial ----------------------------------------------------------------------------


def pipeline_by_stage(conn: psycopg.Connection, period: Period) -> pd.DataFrame:
    """Deals of the range's enquiries per current stage: count and value (deal_pipeline),
    and each stage's share of the deals."""
    frame = _frame(
        conn,
        """
        SELECT stage, count(*)::bigint AS deals,
               coalesce(sum(value_inr), 0)::numeric(18, 2)::float8 AS value_inr
        FROM marts.deal_pipeline
        WHERE enquiry_on BETWEEN %(start)s AND %(end)s
          AND (%(regions)s::text[] IS NULL OR coalesce(region, 'unknown') = ANY(%(regions)s))
          AND (%(products)s::text[] IS NULL
               OR coalesce(product, 'unspecified') = ANY(%(products)s))
        GROUP BY 1
        ORDER BY array_position(%(stages)s::text[], stage)
        """,
        {
            "start": period.start,
            "end": period.end,
            "regions": _any(period.regions),
            "products": _any(period.products),
            "stages": list(STAGES),
        },
    )
    total = frame["deals"].sum() if len(frame) else 0
    frame["share"] = (frame["deals"] / total).round(4) if total else frame["deals"] * 0.0
    return frame


def _conversion(conn: psycopg.Connection, period: Period, by: list[str]) -> pd.DataFrame:
    dims = sql.SQL(", ").join(map(sql.Identifier, by))
    return _frame(
        conn,
        sql.SQL(
            """
            SELECT {dims},
                   sum(enquiries)::bigint AS enquiries, sum(quoted)::bigint AS quoted,
                   sum(ordered)::bigint AS ordered, sum(won)::bigint AS won,
                   sum(lost)::bigint AS lost,
                   sum(pipeline_value_inr)::float8 AS pipeline_value_inr,
                   sum(ordered_value_inr)::float8 AS ordered_value_inr,
                   round(sum(ordered)::numeric / nullif(sum(enquiries), 0), 4)::float8
                       AS conversion_rate
            FROM marts.kpi_conversion_daily
            WHERE day BETWEEN %(start)s AND %(end)s
              AND (%(regions)s::text[] IS NULL OR region = ANY(%(regions)s))
              AND (%(products)s::text[] IS NULL OR product = ANY(%(products)s))
            GROUP BY {dims}
            ORDER BY sum(enquiries) DESC, {dims}
            """
        ).format(dims=dims),
        {
            "start": period.start,
            "end": period.end,
            "regions": _any(period.regions),
            "products": _any(period.products),
        },
    )


def conversion(conn: psycopg.Connection, period: Period, by: str) -> pd.DataFrame:
    """Enquiry-to-order conversion of the range's enquiries (kpi_conversion_daily) per
    "product", "region" or "product_region"."""
    dims = {"product": ["product"], "region": ["region"], "product_region": ["product", "region"]}
    return _conversion(conn, period, dims[by])


def funnel(conn: psycopg.Connection, period: Period) -> pd.DataFrame:
    """How many of the range's enquiries reached each step: enquiry, quoted, ordered, won."""
    frame = _frame(
        conn,
        """
        SELECT coalesce(sum(enquiries), 0)::bigint AS enquiry,
               coalesce(sum(quoted), 0)::bigint AS quoted,
               coalesce(sum(ordered), 0)::bigint AS ordered,
               coalesce(sum(won), 0)::bigint AS won
        FROM marts.kpi_conversion_daily
        WHERE day BETWEEN %(start)s AND %(end)s
          AND (%(regions)s::text[] IS NULL OR region = ANY(%(regions)s))
          AND (%(products)s::text[] IS NULL OR product = ANY(%(products)s))
        """,
        {
            "start": period.start,
            "end": period.end,
            "regions": _any(period.regions),
            "products": _any(period.products),
        },
    )
    counts = frame.iloc[0]
    out = pd.DataFrame({"step": list(frame.columns), "deals": [int(v) for v in counts]})
    first = out["deals"].iloc[0]
    out["of_enquiries"] = (out["deals"] / first).round(4) if first else 0.0
    return out


def top_customers(conn: psycopg.Connection, period: Period) -> pd.DataFrame:
    """The TOP_CUSTOMERS customers by invoiced value in the range (kpi_receivables_ageing:
    every sales invoice, placed on its CRM company), with what they still owe."""
    return _frame(
        conn,
        """
        SELECT company_key, min(company_name) AS customer,
               count(*)::bigint AS invoices,
               sum(amount_inr)::float8 AS invoiced_inr,
               sum(outstanding_inr)::float8 AS outstanding_inr
        FROM marts.kpi_receivables_ageing
        WHERE invoice_date BETWEEN %(start)s AND %(end)s
          AND (%(regions)s::text[] IS NULL OR region = ANY(%(regions)s))
        GROUP BY company_key, CASE WHEN company_key IS NULL THEN company_name END
        ORDER BY sum(amount_inr) DESC, 2
        LIMIT %(limit)s
        """,
        {
            "start": period.start,
            "end": period.end,
            "regions": _any(period.regions),
            "limit": TOP_CUSTOMERS,
        },
    )


def ageing(conn: psycopg.Connection, period: Period) -> pd.DataFrame:
    """What is outstanding now per ageing bucket (0-30, 31-60, 61-90, >90 days from the
    invoice date), and how much of it is overdue; every bucket is listed."""
    frame = _frame(
        conn,
        """
        SELECT b.bucket AS ageing_bucket,
               count(r.invoice_no)::bigint AS invoices,
               coalesce(sum(r.outstanding_inr), 0)::float8 AS outstanding_inr,
               coalesce(sum(r.outstanding_inr) FILTER (WHERE r.is_overdue), 0)::float8
                   AS overdue_inr
        FROM unnest(%(buckets)s::text[]) WITH ORDINALITY AS b (bucket, rank)
        LEFT JOIN marts.kpi_receivables_ageing AS r
          ON r.ageing_bucket = b.bucket
         AND (%(regions)s::text[] IS NULL OR r.region = ANY(%(regions)s))
        GROUP BY b.bucket, b.rank
        ORDER BY b.rank
        """,
        {"buckets": list(AGEING_BUCKETS), "regions": _any(period.regions)},
    )
    return frame


def ageing_by_customer(conn: psycopg.Connection, period: Period) -> pd.DataFrame:
    """Outstanding per customer and ageing bucket (one column per bucket), most owed first."""
    return _frame(
        conn,
        """
        SELECT company_key, min(company_name) AS customer,
               coalesce(sum(outstanding_inr) FILTER (WHERE ageing_bucket = '0-30'), 0)::float8
                   AS "0-30",
               coalesce(sum(outstanding_inr) FILTER (WHERE ageing_bucket = '31-60'), 0)::float8
                   AS "31-60",
               coalesce(sum(outstanding_inr) FILTER (WHERE ageing_bucket = '61-90'), 0)::float8
                   AS "61-90",
               coalesce(sum(outstanding_inr) FILTER (WHERE ageing_bucket = '>90'), 0)::float8
                   AS ">90",
               sum(outstanding_inr)::float8 AS outstanding_inr,
               coalesce(sum(outstanding_inr) FILTER (WHERE is_overdue), 0)::float8
                   AS overdue_inr,
               max(days_overdue) AS max_days_overdue
        FROM marts.kpi_receivables_ageing
        WHERE ageing_bucket IS NOT NULL
          AND (%(regions)s::text[] IS NULL OR region = ANY(%(regions)s))
        GROUP BY company_key, CASE WHEN company_key IS NULL THEN company_name END
        ORDER BY sum(outstanding_inr) DESC, 2
        """,
        {"regions": _any(period.regions)},
    )


def as_of_day(conn: psycopg.Connection) -> date | None:
    """The day receivables are aged against."""
    row = conn.execute("SELECT max(as_of_date) FROM marts.kpi_receivables_ageing").fetchone()
    return row[0] if row else None


# --- stock ---------------------------------------------------------------------------------


def demand_vs_stock(conn: psycopg.Connection, period: Period) -> pd.DataFrame:
    """Per product asked about in the range (deal_pipeline): enquiries and kilograms asked,
    against stock on hand now (kpi_demand_vs_stock), with its open deals and low-stock flag."""
    return _frame(
        conn,
        """
        WITH asked AS (
            SELECT lower(regexp_replace(trim(product), '\\s+', ' ', 'g')) AS product_key,
                   min(product) AS product,
                   count(*)::bigint AS enquiries,
                   coalesce(sum(qty_kg), 0)::numeric(18, 3) AS qty_asked_kg
            FROM marts.deal_pipeline
            WHERE product IS NOT NULL AND enquiry_on BETWEEN %(start)s AND %(end)s
              AND (%(regions)s::text[] IS NULL OR coalesce(region, 'unknown') = ANY(%(regions)s))
            GROUP BY 1
        )
        SELECT coalesce(s.product, a.product) AS product, a.enquiries,
               a.qty_asked_kg::float8 AS qty_asked_kg,
               s.stock_on_hand_kg::float8 AS stock_on_hand_kg,
               s.open_deals, s.open_qty_kg::float8 AS open_qty_kg, s.low_stock
        FROM asked AS a
        LEFT JOIN marts.kpi_demand_vs_stock AS s ON s.product_key = a.product_key
        WHERE (%(products)s::text[] IS NULL OR coalesce(s.product, a.product) = ANY(%(products)s))
        ORDER BY a.enquiries DESC, 1
        """,
        {
            "start": period.start,
            "end": period.end,
            "regions": _any(period.regions),
            "products": _any(period.products),
        },
    )


def low_stock_with_enquiries(conn: psycopg.Connection) -> pd.DataFrame:
    """Stock items low on stock (kpi_demand_vs_stock's rule) that open deals ask for."""
    return _frame(
        conn,
        """
        SELECT product, open_deals, open_qty_kg::float8 AS open_qty_kg,
               enquiries_30d, qty_asked_kg_30d::float8 AS qty_asked_kg_30d,
               stock_on_hand_kg::float8 AS stock_on_hand_kg, stock_as_of
        FROM marts.kpi_demand_vs_stock
        WHERE low_stock AND open_deals > 0
        ORDER BY open_qty_kg - coalesce(stock_on_hand_kg, 0) DESC, product
        """,
    )


def stock_products(conn: psycopg.Connection) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT product_name FROM marts.stock_history"
            " WHERE product_name IS NOT NULL ORDER BY 1"
        )
    ]


def stock_history(conn: psycopg.Connection, product: str, period: Period) -> pd.DataFrame:
    """A product's closing stock at each Tally sync in the range (every item of the name)."""
    return _frame(
        conn,
        """
        SELECT synced_at, sum(closing_qty_kg)::float8 AS closing_qty_kg,
               sum(closing_qty)::float8 AS closing_qty, min(unit) AS unit
        FROM marts.stock_history
        WHERE product_name = %(product)s
          AND (synced_at AT TIME ZONE %(tz)s)::date BETWEEN %(start)s AND %(end)s
        GROUP BY synced_at
        ORDER BY synced_at
        """,
        {"product": product, "start": period.start, "end": period.end, "tz": _zone()},
    )


# --- quality -------------------------------------------------------------------------------


def qc_pass_rate(conn: psycopg.Connection, period: Period) -> pd.DataFrame:
    """Batches inspected in the range per product: how many, passed, and the pass rate (the
    batch's latest verdict, qc_batches)."""
    return _frame(
        conn,
        """
        SELECT coalesce(product_name, 'unknown') AS product,
               count(*)::bigint AS batches,
               count(*) FILTER (WHERE passed)::bigint AS passed,
               round(count(*) FILTER (WHERE passed)::numeric / count(*), 4)::float8 AS pass_rate
        FROM marts.qc_batches
        WHERE inspection_date BETWEEN %(start)s AND %(end)s
        GROUP BY 1
        ORDER BY 2 DESC, 1
        """,
        {"start": period.start, "end": period.end},
    )


def qc_open_alerts(conn: psycopg.Connection) -> pd.DataFrame:
    """QC alerts nobody has acknowledged (ops.qc_alert_acks, where it exists), newest first."""
    acks = conn.execute("SELECT to_regclass('ops.qc_alert_acks')").fetchone()[0]
    not_acked = sql.SQL(
        "AND NOT EXISTS (SELECT 1 FROM ops.qc_alert_acks k WHERE k.alert_id = a.alert_id)"
        if acks
        else ""
    )
    query = sql.SQL(
        """
        SELECT a.alert_id, a.alert_type, a.alerted_on, a.product_name AS product, a.batch_no,
               a.param_name, a.sales_order_no, a.company_name AS customer, a.detail
        FROM marts.qc_alerts AS a
        WHERE true {not_acked}
        ORDER BY a.alerted_on DESC, a.alert_id
        """
    ).format(not_acked=not_acked)
    return _frame(conn, query)
