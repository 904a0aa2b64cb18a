"""The expectation suites, one per raw landing table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
    frame["sent_at_epoch"] = sent.map(lambda v: None if pd.isna(v) else v.timestamp())
    return frame


EMAILS = TableSuite(
    asset=("raw", "emails"),
    columns=("email_key", "source_kind", "size_bytes", "sent_at", "from_addr"),
    expectations=_emails_expectations,
    derive=_emails_derive,
    description="Great Expectations: keys present and unique, known source kinds, sizes "
    "positive, dates in range, senders present.",
)

SUITES: tuple[TableSuite, ...] = (EMAILS,)
