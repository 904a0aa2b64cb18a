"""Great Expectations suites of the Tally landing."""

from __future__ import annotations

import pandas as pd

from orchestration.checks import (
    TableSuite,
    date_window,
    epoch_days,
    gx_expectations,
    keys_and_amounts,
)


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
        gx_expectations().ExpectColumnValuesToNotBeNull(column="guid"),
        gx_expectations().ExpectCompoundColumnsToBeUnique(column_list=["guid", "snapshot_at"]),
        gx_expectations().ExpectColumnValuesToNotBeNull(column="name"),
        gx_expectations().ExpectColumnValuesToBeBetween(column="closing_qty", min_value=0),
        gx_expectations().ExpectColumnValuesToBeInSet(
            column="gst_rate", value_set=[0, 0.25, 3, 5, 12, 18, 28]
        ),
    ],
    description="Great Expectations: keys unique per snapshot, names present, stock never "
    "negative, GST rates from the GST schedule.",
)

TALLY_LEDGERS = TableSuite(
    asset=("raw", "tally_ledgers"),
    columns=("guid", "name", "gstin", "pan"),
    derive=_gstin_flags,
    expectations=lambda: [
        gx_expectations().ExpectColumnValuesToNotBeNull(column="guid"),
        gx_expectations().ExpectColumnValuesToBeUnique(column="guid"),
        gx_expectations().ExpectColumnValuesToNotBeNull(column="name"),
        # a mistyped GSTIN in a master is possible; a feed full of them is a broken export
        gx_expectations().ExpectColumnValuesToBeInSet(
            column="gstin_check", value_set=["valid"], mostly=0.95
        ),
        gx_expectations().ExpectColumnValuesToMatchRegex(
            column="pan", regex=r"^[A-Z]{5}[0-9]{4}[A-Z]$"
        ),
    ],
    description="Great Expectations: ledger keys unique, GSTIN validity ratio at least 95%, "
    "PANs well-formed.",
)

TALLY_VOUCHERS = TableSuite(
    asset=("raw", "tally_vouchers"),
    columns=("guid", "voucher_type", "voucher_date"),
    derive=epoch_days("voucher_date"),
    expectations=lambda: [
        gx_expectations().ExpectColumnValuesToBeUnique(column="guid"),
        gx_expectations().ExpectColumnValuesToNotBeNull(column="voucher_type"),
        gx_expectations().ExpectColumnValuesToNotBeNull(column="voucher_date"),
        gx_expectations().ExpectColumnValuesToBeBetween(
            column="voucher_date_days", **date_window()
        ),
    ],
    description="Great Expectations: voucher keys unique, type present, dates in range.",
)

SUITES: tuple[TableSuite, ...] = (
    TALLY_STOCK_ITEMS,
    TALLY_LEDGERS,
    TALLY_VOUCHERS,
    keys_and_amounts("tally_stock_groups", ("guid",), (), "stock group keys present and unique"),
    # Tally signs line amounts by debit/credit, so only the keys are checked there
    keys_and_amounts(
        "tally_voucher_lines", ("voucher_guid", "line_no"), (), "one row per voucher line"
    ),
)
