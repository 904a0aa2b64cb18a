"""Prelead screening: what the queries, decisions and uploads share (roles, constants,
errors, the connection)."""

from __future__ import annotations

from typing import Any

import polars as pl
import psycopg

#: Who may open the page, and who may decide (a manager reads everything, writes nothing).
READERS: tuple[str, ...] = ("marketing", "manager")
DECIDERS: tuple[str, ...] = ("marketing",)
#: Rows per page of the batch view.
PAGE_SIZE = 100
#: Decision filter values of the batch view.
DECISION_FILTERS: tuple[str, ...] = ("pending", "decided", "approved", "rejected", "merged", "all")
DECISIONS: tuple[str, ...] = ("approved", "rejected", "merged")
EVENT_OF: dict[str, str] = {
    "approved": "PreleadApproved",
    "rejected": "PreleadRejected",
    "merged": "PreleadMerged",
}
#: What the page calls the loader's reason codes (the loader's message follows).
PROBLEMS: dict[str, str] = {
    "gstin_checksum": "bad GSTIN checksum",
    "gstin_format": "malformed GSTIN",
    "pan_gstin_mismatch": "PAN and GSTIN disagree",
    "gstin_state_mismatch": "GSTIN and state disagree",
    "pan_format": "malformed PAN",
    "cin_format": "malformed CIN",
    "email_format": "malformed email",
    "phone_invalid": "malformed phone",
    "company_missing": "no company name",
    "contact_missing": "no email or phone",
    "state_unknown": "unknown state",
    "cell_too_long": "cell too long",
}
#: Lead-list file types the loader takes.
UPLOAD_SUFFIXES: tuple[str, ...] = (".csv", ".xlsx")
#: Hidden folder of the drop folder where an upload is written and checked before it is
#: linked into place (the sensor skips hidden folders; a folder load is not recursive).
UPLOAD_STAGING = ".uploading"
#: Leading characters that make a spreadsheet run a cell as a formula (CSV export).
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class QueueNotBuilt(RuntimeError):
    """The tables the page reads do not exist yet (nothing landed or no dbt build yet)."""


class UploadRefused(ValueError):
    """The uploaded file is not a lead list the loader would take (said why)."""


class SelectionChanged(RuntimeError):
    """A bulk decision's filter now selects other rows than the person saw."""


# --- connections ----------------------------------------------------------------------------


def connect() -> psycopg.Connection:
    """An autocommit connection to the warehouse as the app's role."""
    from pebble import db

    return psycopg.connect(db.warehouse_url(), autocommit=True, connect_timeout=10)


def _exists(conn: psycopg.Connection, qualified: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (qualified,)).fetchone()[0]


def _frame(rows: list[dict[str, Any]], schema: dict[str, Any]) -> pl.DataFrame:
    if not rows:
        return pl.DataFrame(schema=schema)
    return pl.DataFrame(rows, schema=schema, orient="row", strict=False)


def split_prelead_id(prelead_id: str) -> tuple[str, int]:
    """``<batch>/<row_no>`` -> (batch, row_no); the row number is after the last slash."""
    batch, _, row_no = prelead_id.rpartition("/")
    if not batch or not row_no.isdigit():
        raise ValueError(f"not a prelead id: {prelead_id!r}")
    return batch, int(row_no)
