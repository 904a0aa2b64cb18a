"""Great Expectations suite of the mail landing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from orchestration.checks import TableSuite, gx_expectations, keys_and_amounts, lines_of


def _emails_expectations() -> list:
    gx = gx_expectations()
    now = datetime.now(UTC)
    return [
        gx.ExpectColumnValuesToNotBeNull(column="email_key"),
        gx.ExpectColumnValuesToBeUnique(column="email_key"),
        gx.ExpectColumnValueLengthsToEqual(column="email_key", value=64),
        gx.ExpectColumnValuesToBeInSet(
            column="source_kind", value_set=["eml", "mbox", "maildir", "imap", "upload"]
        ),
        gx.ExpectColumnValuesToBeBetween(column="size_bytes", min_value=1),
        # real mail carries broken dates; most must still fall in a sane window
        gx.ExpectColumnValuesToBeBetween(
            column="sent_at_epoch",
            min_value=datetime(1995, 1, 1, tzinfo=UTC).timestamp(),
            max_value=(now + timedelta(days=2)).timestamp(),
            mostly=0.95,
        ),
        gx.ExpectColumnValuesToNotBeNull(column="from_addr", mostly=0.9),
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
    description="Great Expectations on newly landed mail: keys present and unique, known source kinds, sizes "
    "positive, dates in range, senders present.",
)

ATTACHMENTS = keys_and_amounts(
    "email_attachments",
    keys=("email_key", "sha256"),
    amounts=("size_bytes",),
    what="each attachment once per email, sizes not negative",
    landed=lines_of("emails", key="email_key"),
)

SUITES: tuple[TableSuite, ...] = (EMAILS, ATTACHMENTS)
