"""Great Expectations suites of the prelead landing."""

from __future__ import annotations

import pandas as pd

from orchestration.checks import TableSuite, gx_expectations, keys_and_amounts, lines_of


def _reason_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """reason_count: how many reasons a row carries (an invalid row must carry at least one)."""
    frame["reason_count"] = frame["reason_codes"].map(lambda r: 0 if r is None else len(r))
    frame["invalid_reason_count"] = frame["reason_count"].where(~frame["is_valid"].astype(bool))
    return frame


PRELEAD_ROWS = TableSuite(
    asset=("raw", "prelead_rows"),
    columns=("batch", "row_no", "is_valid", "reason_codes", "gstin", "phone_e164"),
    derive=_reason_counts,
    # a batch's rows land with it: the batch's loaded_at marks them
    landed=lines_of("prelead_batches", "batch"),
    expectations=lambda: [
        gx_expectations().ExpectCompoundColumnsToBeUnique(column_list=["batch", "row_no"]),
        gx_expectations().ExpectColumnValuesToNotBeNull(column="is_valid"),
        # invalid rows are kept, never silently: each says why
        gx_expectations().ExpectColumnValuesToBeBetween(column="invalid_reason_count", min_value=1),
        gx_expectations().ExpectColumnValuesToMatchRegex(
            column="phone_e164", regex=r"^\+91[0-9]{10}$"
        ),
    ],
    description="Great Expectations on new batches: one row per spreadsheet row, every "
    "invalid row with its reasons, phones normalised to E.164.",
)

SUITES: tuple[TableSuite, ...] = (
    PRELEAD_ROWS,
    keys_and_amounts(
        "prelead_batches",
        ("batch",),
        ("rows", "valid", "invalid", "duplicates_in_batch"),
        "batch names unique, counts not negative",
    ),
)
