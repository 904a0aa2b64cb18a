"""What the QC dashboard reads: the QC marts, filtered by product, parameter and period,
and the acknowledgements folded live from people's events (``ops.qc_alert_acks``).

The marts do the work (control limits, verdicts, COA clocks, daily throughput); these
queries select rows and sum a small daily table into weeks. Every query is parameterised.
A mart that dbt has not built yet reads as empty (:func:`marts_built` says which).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl
import psycopg
from psycopg import sql

#: The marts the page reads, all built by the same dbt step.
MARTS = ("qc_results", "qc_batches", "qc_alerts", "qc_throughput_daily")
#: How far back the period starts by default, from the newest inspection.
DEFAULT_PERIOD_DAYS = 90

CONTROL_COLUMNS = (
    "qc_result_key", "inspection_date", "qc_doc_no", "batch_no", "result_value", "unit",
    "min_value", "max_value", "band_low", "band_high", "in_spec", "out_of_spec_side",
    "warning_limit", "control_n", "control_mean", "control_low", "control_high",
    "out_of_control",
)  # fmt: skip
ALERT_COLUMNS = (
    "alert_id", "alert_type", "status", "alerted_on", "product_name", "param_name",
    "batch_no", "sales_order_no", "company_name", "company_key", "detail",
    "acknowledged_by", "acknowledged_at", "note", "version",
)  # fmt: skip
COA_COLUMNS = (
    "batch_key", "product_name", "sales_order_no", "order_date", "company_name",
    "company_key", "inspection_date", "result", "dispatched_on", "coa_status",
    "coa_pending_days", "coa_overdue",
)  # fmt: skip
RESULT_COLUMNS = ("line_no", "param_name", "unit", "min_value", "max_value", "result_value",
                  "result_text", "in_spec")  # fmt: skip


def _columns(columns: tuple[str, ...]) -> sql.Composed:
    return sql.SQL(", ").join(map(sql.Identifier, columns))


#: Columns whose type cannot be inferred when all their values are NULL.
_TYPES: dict[str, pl.DataType] = {
    "acknowledged_at": pl.Datetime("us", "UTC"),
    "alerted_on": pl.Date(),
    "inspection_date": pl.Date(),
    "order_date": pl.Date(),
    "dispatched_on": pl.Date(),
    "coa_pending_days": pl.Int64(),
    "coa_overdue": pl.Boolean(),
    "in_spec": pl.Boolean(),
    "out_of_control": pl.Boolean(),
    "version": pl.Int64(),
}


def _frame(rows: list[tuple], columns: tuple[str, ...]) -> pl.DataFrame:
    """Rows as a frame: numerics as floats (for charts and CSV), and a column of NULLs
    typed as it would be with values (a string unless :data:`_TYPES` says otherwise)."""
    frame = pl.DataFrame(rows, schema=list(columns), orient="row", infer_schema_length=None)
    casts = []
    for name, dtype in frame.schema.items():
        wanted = _TYPES.get(name)
        if wanted is not None and dtype != wanted:
            casts.append(pl.col(name).cast(wanted))
        elif dtype == pl.Null:
            casts.append(pl.col(name).cast(pl.String))
        elif isinstance(dtype, pl.Decimal):
            casts.append(pl.col(name).cast(pl.Float64))
    return frame.with_columns(casts) if casts else frame


def marts_built(conn: psycopg.Connection) -> dict[str, bool]:
    """Which QC marts exist (dbt builds them after the first Focus RT landing)."""
    return {
        name: conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"marts.{name}",)).fetchone()[0]
        for name in MARTS
    }


@dataclass(frozen=True)
class Period:
    """Inspection days from ``start`` to ``end``, both included."""

    start: date
    end: date


def default_period(conn: psycopg.Connection, days: int = DEFAULT_PERIOD_DAYS) -> Period:
    """The last ``days`` days up to the newest inspection (today when there is none)."""
    newest = conn.execute("SELECT max(inspection_date) FROM marts.qc_throughput_daily").fetchone()[
        0
    ]
    end = newest or date.today()
    return Period(end - timedelta(days=days - 1), end)


def data_range(conn: psycopg.Connection) -> tuple[date | None, date | None]:
    """The first and the last inspection day."""
    row = conn.execute(
        "SELECT min(inspection_date), max(inspection_date) FROM marts.qc_throughput_daily"
    ).fetchone()
    return row[0], row[1]


def products(conn: psycopg.Connection) -> pl.DataFrame:
    """Products with numeric results: code and name, by name."""
    rows = conn.execute(
        "SELECT product_code, max(product_name) FROM marts.qc_results "
        "WHERE result_value IS NOT NULL AND product_code IS NOT NULL "
        "GROUP BY product_code ORDER BY max(product_name), product_code"
    ).fetchall()
    return _frame(rows, ("product_code", "product_name"))


def parameters(conn: psycopg.Connection, product_code: str) -> list[str]:
    """The product's parameters with numeric results, in their order on the certificate."""
    rows = conn.execute(
        "SELECT param_name FROM marts.qc_results "
        "WHERE product_code = %s AND result_value IS NOT NULL "
        "GROUP BY param_name ORDER BY min(line_no), param_name",
        (product_code,),
    ).fetchall()
    return [row[0] for row in rows]


def control_chart(
    conn: psycopg.Connection, product_code: str, param_name: str, period: Period
) -> pl.DataFrame:
    """The product's results of one parameter in the period, oldest first, with the spec
    band and the control limits the mart computed (from the results before each one)."""
    query = sql.SQL(
        "SELECT {} FROM marts.qc_results "
        "WHERE product_code = %s AND param_name = %s AND result_value IS NOT NULL "
        "AND inspection_date BETWEEN %s AND %s "
        "ORDER BY inspection_date, qc_doc_no, line_no"
    ).format(_columns(CONTROL_COLUMNS))
    rows = conn.execute(
        query,
        (product_code, param_name, period.start, period.end),
    ).fetchall()
    return _frame(rows, CONTROL_COLUMNS)


# --- throughput ------------------------------------------------------------------------------


def throughput(conn: psycopg.Connection, period: Period, grain: str = "day") -> pl.DataFrame:
    """Inspections, batches, verdicts and the average days from order to result per day
    (``grain`` "day") or per week ("week", Monday first) of the period."""
    if grain not in ("day", "week"):
        raise ValueError(f"grain is day or week, not {grain!r}")
    column = sql.Identifier("inspection_date" if grain == "day" else "inspection_week")
    query = sql.SQL(
        "SELECT {column}, sum(inspections), sum(batches), sum(passed), sum(failed), "
        "round(sum(order_to_result_days)::numeric / nullif(sum(order_to_result_count), 0), 2) "
        "FROM marts.qc_throughput_daily WHERE inspection_date BETWEEN %s AND %s "
        "GROUP BY {column} ORDER BY {column}"
    ).format(column=column)
    rows = conn.execute(query, (period.start, period.end)).fetchall()
    return _frame(
        rows, (grain, "inspections", "batches", "passed", "failed", "avg_days_order_to_result")
    )


def pass_rate_by_product(conn: psycopg.Connection, period: Period) -> pl.DataFrame:
    """Per product in the period: inspections, passed, failed and the pass rate (0..1),
    lowest rate first."""
    rows = conn.execute(
        "SELECT product_code, max(product_name), sum(inspections), sum(passed), sum(failed), "
        "round(sum(passed)::numeric / nullif(sum(inspections), 0), 4) AS pass_rate "
        "FROM marts.qc_throughput_daily WHERE inspection_date BETWEEN %s AND %s "
        "GROUP BY product_code ORDER BY pass_rate, product_code",
        (period.start, period.end),
    ).fetchall()
    return _frame(
        rows, ("product_code", "product_name", "inspections", "passed", "failed", "pass_rate")
    )


# --- COA status ------------------------------------------------------------------------------


def coa_status(
    conn: psycopg.Connection, period: Period, *, dispatched_only: bool = True
) -> pl.DataFrame:
    """Batches made against an order and inspected in the period (dispatched ones only,
    by default), with their COA status; pending after dispatch first, longest first."""
    query = sql.SQL(
        "SELECT {} FROM marts.qc_batches "
        "WHERE sales_order_no IS NOT NULL AND inspection_date BETWEEN %s AND %s "
        "AND (NOT %s OR dispatched_on IS NOT NULL) "
        "ORDER BY coa_overdue DESC, coa_pending_days DESC NULLS LAST, inspection_date DESC, "
        "batch_key"
    ).format(_columns(COA_COLUMNS))
    rows = conn.execute(query, (period.start, period.end, dispatched_only)).fetchall()
    return _frame(rows, COA_COLUMNS)


# --- alerts ----------------------------------------------------------------------------------


def alerts(
    conn: psycopg.Connection, *, include_acknowledged: bool = False, alert_type: str | None = None
) -> pl.DataFrame:
    """The alerts of ``marts.qc_alerts``, each ``open`` or ``acknowledged`` (its latest
    acknowledgement from ``ops.qc_alert_acks``: who, when, the note, its version); open ones
    first, newest first."""
    rows = conn.execute(
        """
        SELECT a.alert_id, a.alert_type,
               CASE WHEN k.alert_id IS NULL THEN 'open' ELSE 'acknowledged' END,
               a.alerted_on, a.product_name, a.param_name, a.batch_no, a.sales_order_no,
               a.company_name, a.company_key, a.detail,
               k.acknowledged_by, k.acknowledged_at, k.note, coalesce(k.version, 0)
        FROM marts.qc_alerts AS a
        LEFT JOIN ops.qc_alert_acks AS k ON k.alert_id = a.alert_id
        WHERE (%(all)s OR k.alert_id IS NULL)
          AND (%(type)s::text IS NULL OR a.alert_type = %(type)s)
        ORDER BY k.alert_id IS NOT NULL, a.alerted_on DESC, a.alert_id
        """,
        {"all": include_acknowledged, "type": alert_type},
    ).fetchall()
    return _frame(rows, ALERT_COLUMNS)


def alert_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Open (unacknowledged) alerts per type."""
    rows = conn.execute(
        "SELECT a.alert_type, count(*) FROM marts.qc_alerts AS a "
        "WHERE NOT EXISTS (SELECT 1 FROM ops.qc_alert_acks AS k WHERE k.alert_id = a.alert_id) "
        "GROUP BY a.alert_type"
    ).fetchall()
    return dict(rows)


# --- one batch: its certificate --------------------------------------------------------------


def batches(
    conn: psycopg.Connection, period: Period, product_code: str | None = None
) -> pl.DataFrame:
    """Batches whose latest inspection is in the period (of one product), newest first."""
    rows = conn.execute(
        "SELECT batch_key, product_name, inspection_date, result, coa_status "
        "FROM marts.qc_batches WHERE inspection_date BETWEEN %s AND %s "
        "AND (%s::text IS NULL OR product_code = %s) "
        "ORDER BY inspection_date DESC, batch_key",
        (period.start, period.end, product_code, product_code),
    ).fetchall()
    return _frame(rows, ("batch_key", "product_name", "inspection_date", "result", "coa_status"))


@dataclass(frozen=True)
class BatchCertificate:
    """What a certificate of analysis states about a batch: its latest inspection."""

    batch_key: str
    batch_no: str | None
    qc_doc_no: str
    product_code: str | None
    product_name: str | None
    inspection_date: date | None
    sales_order_no: str | None
    company_name: str | None
    company_key: str | None
    passed: bool | None
    coa_status: str | None
    results: pl.DataFrame

    @property
    def conforms(self) -> bool:
        """Every parameter in spec (and the inspection's verdict a pass)."""
        in_spec = self.results["in_spec"].to_list()
        return bool(self.passed) and bool(in_spec) and all(v is True for v in in_spec)


def certificate(conn: psycopg.Connection, batch_key: str) -> BatchCertificate | None:
    """The batch's latest inspection and its results, or None for an unknown batch."""
    head = conn.execute(
        "SELECT batch_key, batch_no, latest_qc_doc_no, product_code, product_name, "
        "inspection_date, sales_order_no, company_name, company_key, passed, coa_status "
        "FROM marts.qc_batches WHERE batch_key = %s",
        (batch_key,),
    ).fetchone()
    if head is None:
        return None
    query = sql.SQL("SELECT {} FROM marts.qc_results WHERE qc_doc_no = %s ORDER BY line_no")
    rows = conn.execute(query.format(_columns(RESULT_COLUMNS)), (head[2],)).fetchall()
    return BatchCertificate(*head, results=_frame(rows, RESULT_COLUMNS))
