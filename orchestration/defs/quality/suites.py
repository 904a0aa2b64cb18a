"""The expectation suites, one per raw landing table."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd

from orchestration.defs.quality.expectations import TableSuite


def _emails_expectations() -> list:
    import great_expectations as gx

    now = datetime.now(UTC)
    return [
        gx.expectations.ExpectColumnValuesToNotBeNull(column="email_key"),
        gx.expectations.ExpectColumnValuesToBeUnique(column="email_key"),
        gx.expectations.ExpectColumnValueLengthsToEqual(column="email_key", value=64),
        gx.expectations.ExpectColumnValuesToBeInSet(
            column="source_kind", value_set=["eml", "mbox", "maildir", "imap", "upload"]
        ),
        gx.expectations.ExpectColumnValuesToBeBetween(column="size_bytes", min_value=1),
        # real mail carries broken dates; most must still fall in a sane window
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="sent_at_epoch",
            min_value=datetime(1995, 1, 1, tzinfo=UTC).timestamp(),
            max_value=(now + timedelta(days=2)).timestamp(),
            mostly=0.95,
        ),
        gx.expectations.ExpectColumnValuesToNotBeNull(column="from_addr", mostly=0.9),
    ]


def _emails_derive(frame: pd.DataFrame) -> pd.DataFrame:
    sent = pd.to_datetime(frame["sent_at"], utc=True, errors="coerce")
    # numeric even when empty or all-missing, so range expectations compare numbers
    frame["sent_at_epoch"] = pd.to_numeric(
        sent.map(lambda v: None if pd.isna(v) else v.timestamp()), errors="coerce"
    ).astype("float64")
    return frame


EMAILS = TableSuite(
    asset=("raw", "emails"),
    columns=("email_key", "source_kind", "size_bytes", "sent_at", "from_addr"),
    expectations=_emails_expectations,
    derive=_emails_derive,
    description="Great Expectations: keys present and unique, known source kinds, sizes "
    "positive, dates in range, senders present.",
)


def _gx():
    import great_expectations as gx

    return gx.expectations


EPOCH = date(1970, 1, 1)


def _date_window() -> dict[str, int]:
    """Business dates must be real: not before 2000, not after tomorrow (days since 1970)."""
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
    return {"min_value": (date(2000, 1, 1) - EPOCH).days, "max_value": (tomorrow - EPOCH).days}


def _epoch_days(column: str):
    def derive(frame: pd.DataFrame) -> pd.DataFrame:
        frame[f"{column}_days"] = pd.to_numeric(
            frame[column].map(lambda d: None if pd.isna(d) else (d - EPOCH).days),
            errors="coerce",
        ).astype("float64")
        return frame

    return derive


def _gstin_flags(frame: pd.DataFrame) -> pd.DataFrame:
    """gstin_check: "valid" / "invalid" check character, None when the ledger has no GSTIN."""
    from stdnum.in_ import gstin

    frame["gstin_check"] = frame["gstin"].map(
        lambda g: None if pd.isna(g) or not g else ("valid" if gstin.is_valid(g) else "invalid")
    )
    return frame


TALLY_STOCK_ITEMS = TableSuite(
    asset=("raw", "tally_stock_items"),
    columns=("guid", "snapshot_at", "name", "closing_qty", "gst_rate"),
    expectations=lambda: [
        _gx().ExpectColumnValuesToNotBeNull(column="guid"),
        _gx().ExpectCompoundColumnsToBeUnique(column_list=["guid", "snapshot_at"]),
        _gx().ExpectColumnValuesToNotBeNull(column="name"),
        _gx().ExpectColumnValuesToBeBetween(column="closing_qty", min_value=0),
        _gx().ExpectColumnValuesToBeInSet(column="gst_rate", value_set=[0, 0.25, 3, 5, 12, 18, 28]),
    ],
    description="Great Expectations: keys unique per snapshot, names present, stock never "
    "negative, GST rates from the GST schedule.",
)

TALLY_LEDGERS = TableSuite(
    asset=("raw", "tally_ledgers"),
    columns=("guid", "name", "gstin", "pan"),
    derive=_gstin_flags,
    expectations=lambda: [
        _gx().ExpectColumnValuesToNotBeNull(column="guid"),
        _gx().ExpectColumnValuesToBeUnique(column="guid"),
        _gx().ExpectColumnValuesToNotBeNull(column="name"),
        # a mistyped GSTIN in a master is possible; a feed full of them is a broken export
        _gx().ExpectColumnValuesToBeInSet(column="gstin_check", value_set=["valid"], mostly=0.95),
        _gx().ExpectColumnValuesToMatchRegex(column="pan", regex=r"^[A-Z]{5}[0-9]{4}[A-Z]$"),
    ],
    description="Great Expectations: ledger keys unique, GSTIN validity ratio at least 95%, "
    "PANs well-formed.",
)

TALLY_VOUCHERS = TableSuite(
    asset=("raw", "tally_vouchers"),
    columns=("guid", "voucher_type", "voucher_date"),
    derive=_epoch_days("voucher_date"),
    expectations=lambda: [
        _gx().ExpectColumnValuesToBeUnique(column="guid"),
        _gx().ExpectColumnValuesToNotBeNull(column="voucher_type"),
        _gx().ExpectColumnValuesToNotBeNull(column="voucher_date"),
        _gx().ExpectColumnValuesToBeBetween(column="voucher_date_days", **_date_window()),
    ],
    description="Great Expectations: voucher keys unique, type present, dates in range.",
)

FOCUS_SALES_ORDERS = TableSuite(
    asset=("raw", "focus_sales_orders"),
    columns=("doc_no", "doc_date", "total"),
    derive=_epoch_days("doc_date"),
    expectations=lambda: [
        _gx().ExpectColumnValuesToBeUnique(column="doc_no"),
        _gx().ExpectColumnValuesToNotBeNull(column="doc_no"),
        _gx().ExpectColumnValuesToBeBetween(column="doc_date_days", **_date_window()),
        _gx().ExpectColumnValuesToBeBetween(column="total", min_value=0),
    ],
    description="Great Expectations: order numbers unique, dates in range, totals not negative.",
)

FOCUS_INVOICES = TableSuite(
    asset=("raw", "focus_invoices"),
    columns=("doc_no", "doc_date", "total"),
    derive=_epoch_days("doc_date"),
    expectations=lambda: [
        _gx().ExpectColumnValuesToBeUnique(column="doc_no"),
        _gx().ExpectColumnValuesToBeBetween(column="doc_date_days", **_date_window()),
        _gx().ExpectColumnValuesToBeBetween(column="total", min_value=0),
    ],
    description="Great Expectations: invoice numbers unique, dates in range, totals not negative.",
)

FOCUS_QC = TableSuite(
    asset=("raw", "focus_qc_inspections"),
    columns=("doc_no", "doc_date", "result", "batch_no"),
    derive=_epoch_days("doc_date"),
    expectations=lambda: [
        _gx().ExpectColumnValuesToBeUnique(column="doc_no"),
        _gx().ExpectColumnValuesToBeBetween(column="doc_date_days", **_date_window()),
        _gx().ExpectColumnValuesToBeInSet(column="result", value_set=["pass", "fail"]),
        _gx().ExpectColumnValuesToNotBeNull(column="batch_no"),
    ],
    description="Great Expectations: inspection numbers unique, dates in range, results "
    "pass/fail, batch numbers present.",
)


def _reason_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """reason_count: how many reasons a row carries (an invalid row must carry at least one)."""
    frame["reason_count"] = frame["reason_codes"].map(lambda r: 0 if r is None else len(r))
    frame["invalid_reason_count"] = frame["reason_count"].where(~frame["is_valid"].astype(bool))
    return frame


PRELEAD_ROWS = TableSuite(
    asset=("raw", "prelead_rows"),
    columns=("batch", "row_no", "is_valid", "reason_codes", "gstin", "phone_e164"),
    derive=_reason_counts,
    expectations=lambda: [
        _gx().ExpectCompoundColumnsToBeUnique(column_list=["batch", "row_no"]),
        _gx().ExpectColumnValuesToNotBeNull(column="is_valid"),
        # invalid rows are kept, never silently: each says why
        _gx().ExpectColumnValuesToBeBetween(column="invalid_reason_count", min_value=1),
        _gx().ExpectColumnValuesToMatchRegex(column="phone_e164", regex=r"^\+91[0-9]{10}$"),
    ],
    description="Great Expectations: one row per spreadsheet row, every invalid row with its "
    "reasons, phones normalised to E.164.",
)


def _keys_and_amounts(
    table: str, keys: tuple[str, ...], amounts: tuple[str, ...], what: str
) -> TableSuite:
    """A suite for line and detail tables: keys present and unique, amounts not negative."""

    def expectations() -> list:
        checks = [_gx().ExpectColumnValuesToNotBeNull(column=k) for k in keys]
        checks.append(
            _gx().ExpectCompoundColumnsToBeUnique(column_list=list(keys))
            if len(keys) > 1
            else _gx().ExpectColumnValuesToBeUnique(column=keys[0])
        )
        checks += [_gx().ExpectColumnValuesToBeBetween(column=a, min_value=0) for a in amounts]
        return checks

    return TableSuite(
        asset=("raw", table),
        columns=(*keys, *amounts),
        expectations=expectations,
        description=f"Great Expectations: {what}.",
    )


DETAIL_SUITES: tuple[TableSuite, ...] = (
    _keys_and_amounts("tally_stock_groups", ("guid",), (), "stock group keys present and unique"),
    # Tally signs line amounts by debit/credit, so only the keys are checked there
    _keys_and_amounts(
        "tally_voucher_lines", ("voucher_guid", "line_no"), (), "one row per voucher line"
    ),
    _keys_and_amounts(
        "focus_sales_order_lines",
        ("doc_no", "line_no"),
        ("quantity", "amount"),
        "one row per order line, quantities and amounts not negative",
    ),
    _keys_and_amounts(
        "focus_invoice_lines",
        ("doc_no", "line_no"),
        ("quantity", "amount"),
        "one row per invoice line, quantities and amounts not negative",
    ),
    _keys_and_amounts(
        "focus_qc_results", ("doc_no", "line_no"), (), "one row per QC parameter result"
    ),
    _keys_and_amounts(
        "prelead_batches",
        ("batch",),
        ("rows", "valid", "invalid", "duplicates_in_batch"),
        "batch names unique, counts not negative",
    ),
)

SUITES: tuple[TableSuite, ...] = (
    EMAILS,
    TALLY_STOCK_ITEMS,
    TALLY_LEDGERS,
    TALLY_VOUCHERS,
    FOCUS_SALES_ORDERS,
    FOCUS_INVOICES,
    FOCUS_QC,
    PRELEAD_ROWS,
    *DETAIL_SUITES,
)
