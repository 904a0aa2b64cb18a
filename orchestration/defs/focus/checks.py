"""Great Expectations suites of the Focus RT landing (each checks only newly landed
rows; line tables by their document's ``loaded_at``)."""

from __future__ import annotations

from orchestration.checks import (
    TableSuite,
    date_window,
    epoch_days,
    gx_expectations,
    keys_and_amounts,
    lines_of,
)

FOCUS_SALES_ORDERS = TableSuite(
    asset=("raw", "focus_sales_orders"),
    columns=("doc_no", "doc_date", "total"),
    derive=epoch_days("doc_date"),
    expectations=lambda: [
        gx_expectations().ExpectColumnValuesToBeUnique(column="doc_no"),
        gx_expectations().ExpectColumnValuesToNotBeNull(column="doc_no"),
        gx_expectations().ExpectColumnValuesToBeBetween(column="doc_date_days", **date_window()),
        gx_expectations().ExpectColumnValuesToBeBetween(column="total", min_value=0),
    ],
    description="Great Expectations on new documents: order numbers unique, dates in range, totals not negative.",
)

FOCUS_INVOICES = TableSuite(
    asset=("raw", "focus_invoices"),
    columns=("doc_no", "doc_date", "total"),
    derive=epoch_days("doc_date"),
    expectations=lambda: [
        gx_expectations().ExpectColumnValuesToBeUnique(column="doc_no"),
        gx_expectations().ExpectColumnValuesToBeBetween(column="doc_date_days", **date_window()),
        gx_expectations().ExpectColumnValuesToBeBetween(column="total", min_value=0),
    ],
    description="Great Expectations on new documents: invoice numbers unique, dates in range, totals not negative.",
)

FOCUS_QC = TableSuite(
    asset=("raw", "focus_qc_inspections"),
    columns=("doc_no", "doc_date", "result", "batch_no"),
    derive=epoch_days("doc_date"),
    expectations=lambda: [
        gx_expectations().ExpectColumnValuesToBeUnique(column="doc_no"),
        gx_expectations().ExpectColumnValuesToBeBetween(column="doc_date_days", **date_window()),
        gx_expectations().ExpectColumnValuesToBeInSet(column="result", value_set=["pass", "fail"]),
        gx_expectations().ExpectColumnValuesToNotBeNull(column="batch_no"),
    ],
    description="Great Expectations on new documents: inspection numbers unique, dates in range, results "
    "pass/fail, batch numbers present.",
)

SUITES: tuple[TableSuite, ...] = (
    FOCUS_SALES_ORDERS,
    FOCUS_INVOICES,
    FOCUS_QC,
    keys_and_amounts(
        "focus_sales_order_lines",
        ("doc_no", "line_no"),
        ("quantity", "amount"),
        "one row per order line, quantities and amounts not negative",
        landed=lines_of("focus_sales_orders"),
    ),
    keys_and_amounts(
        "focus_invoice_lines",
        ("doc_no", "line_no"),
        ("quantity", "amount"),
        "one row per invoice line, quantities and amounts not negative",
        landed=lines_of("focus_invoices"),
    ),
    keys_and_amounts(
        "focus_qc_results",
        ("doc_no", "line_no"),
        (),
        "one row per QC parameter result",
        landed=lines_of("focus_qc_inspections"),
    ),
)
