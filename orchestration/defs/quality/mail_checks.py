"""Checks on ``raw.emails``: keys present and unique, every input accounted for."""

from __future__ import annotations

import dagster as dg

from orchestration.resources import WarehouseResource

EMAILS = dg.AssetKey(["raw", "emails"])


@dg.asset_check(asset=EMAILS, description="email_key is present and unique in raw.emails.")
def raw_emails_keys_unique(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connection() as conn:
        rows, distinct, missing = conn.execute(
            "SELECT count(*), count(DISTINCT email_key), count(*) - count(email_key) FROM raw.emails"
        ).fetchone()
    return dg.AssetCheckResult(
        passed=rows == distinct and missing == 0,
        metadata={"rows": rows, "distinct_keys": distinct, "missing_keys": missing},
    )


@dg.asset_check(
    asset=EMAILS,
    description="Most landed messages carry a sender and a date (a drop of broken mail warns).",
)
def raw_emails_headers_present(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connection() as conn:
        rows, with_from, with_date = conn.execute(
            "SELECT count(*), count(from_addr), count(sent_at) FROM raw.emails"
        ).fetchone()
    ratio = min(with_from, with_date) / rows if rows else 1.0
    return dg.AssetCheckResult(
        passed=ratio >= 0.9,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"rows": rows, "with_sender": with_from, "with_date": with_date, "ratio": ratio},
    )


checks = [raw_emails_keys_unique, raw_emails_headers_present]
