"""Great Expectations suites of the Tally landing (each checks only newly landed rows)."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from orchestration.checks import (
    TableSuite,
    date_window,
    epoch_days,
    gx_expectations,
    keys_and_amounts,
    lines_of,
    not_after_tomorrow,
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
    columns=("guid", "snapshot_at", "name", "gst_rate"),
    expectations=lambda: [
        gx_expectations().ExpectColumnValuesToNotBeNull(column="guid"),
        gx_expectations().ExpectCompoundColumnsToBeUnique(column_list=["guid", "snapshot_at"]),
        gx_expectations().ExpectColumnValuesToNotBeNull(column="name"),
        gx_expectations().ExpectColumnValuesToBeInSet(
            column="gst_rate", value_set=[0, 0.25, 3, 5, 12, 18, 28]
        ),
    ],
    description="Great Expectations on new snapshots: keys unique per snapshot, names "
    "present, GST rates from the GST schedule.",
)

#: Tally allows negative closing stock (goods billed before their purchase is entered), so
#: it is a warning that names the items, never a block.
TALLY_NEGATIVE_STOCK = TableSuite(
    asset=("raw", "tally_stock_items"),
    name="negative_stock",
    columns=("name", "closing_qty", "guid"),  # the first column names the items
    blocking=False,
    expectations=lambda: [
        gx_expectations().ExpectColumnValuesToBeBetween(column="closing_qty", min_value=0),
    ],
    description="Warning (non-blocking): new stock snapshots with a negative closing "
    "quantity, which Tally allows.",
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

#: A post-dated voucher is legal in Tally; more than a year ahead is a wrong date.
POST_DATED_LIMIT = timedelta(days=366)
#: Share of new vouchers that must be dated no later than tomorrow (the rest post-dated).
NOT_POST_DATED_RATIO = 0.9

TALLY_VOUCHERS = TableSuite(
    asset=("raw", "tally_vouchers"),
    columns=("guid", "voucher_type", "voucher_date"),
    derive=epoch_days("voucher_date"),
    expectations=lambda: [
        gx_expectations().ExpectColumnValuesToBeUnique(column="guid"),
        gx_expectations().ExpectColumnValuesToNotBeNull(column="voucher_type"),
        gx_expectations().ExpectColumnValuesToNotBeNull(column="voucher_date"),
        gx_expectations().ExpectColumnValuesToBeBetween(
            column="voucher_date_days",
            **date_window(ahead=POST_DATED_LIMIT),
            description="voucher_date from 2000 to a year ahead",
        ),
        gx_expectations().ExpectColumnValuesToBeBetween(
            column="voucher_date_days",
            **not_after_tomorrow(),
            mostly=NOT_POST_DATED_RATIO,
            description="voucher_date not post-dated (mostly)",
        ),
    ],
    description="Great Expectations on new vouchers: keys unique, type present, dates from "
    "2000 to a year ahead, at most 10% post-dated.",
)

SUITES: tuple[TableSuite, ...] = (
    TALLY_STOCK_ITEMS,
    TALLY_NEGATIVE_STOCK,
    TALLY_LEDGERS,
    TALLY_VOUCHERS,
    keys_and_amounts("tally_stock_groups", ("guid",), (), "stock group keys present and unique"),
    # Tally signs line amounts by debit/credit, so only the keys are checked there
    keys_and_amounts(
        "tally_voucher_lines",
        ("voucher_guid", "line_no"),
        (),
        "one row per voucher line",
        landed=lines_of("tally_vouchers", "voucher_guid", "guid"),
    ),
)
