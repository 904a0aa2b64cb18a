"""Tender IQ's queries and its one command: the tenders of ``marts.tenders`` with the bid /
no-bid decisions people recorded (``ops.tender_decisions``, folded from ``TenderDecided``
events, so a decision shows at once, without a dbt run), and the due-date reminders the
Kanban page shows.

- Open first: a tender is open until its bid end (``bid_end_at``; a notice without one is
  treated as open). Days left count from today in the trader's time zone, live, not as of
  the last build; "today" is ``PEBBLE_AS_OF_DATE`` when that is set (the demo's world ends
  in the past), as for the rest of the warehouse.
- Deciding: sales (``DECIDERS``) record ``bid`` or ``no_bid`` with a note at the version
  they saw (0: undecided); someone else's decision meanwhile raises
  ``pebble.events.VersionConflict``. A manager reads and decides nothing:
  :func:`decide` checks the role on the server (``pebble.auth.require``), whatever the page
  showed.
- Reminders: open tenders decided ``bid`` or not decided yet whose bid end is within
  ``DUE_SOON_DAYS`` days, for users whose streams include ``tender``.

Every text here came from a PDF or a mail: callers show it with ``st.text`` /
``st.dataframe``, never as Markdown or HTML.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import psycopg
from psycopg.rows import dict_row

from ml.indian_numbers import indian_grouping
from pebble import events
from pebble.auth import User, require
from pebble.settings import get_settings

#: The roles that may record a decision (a manager reads).
DECIDERS: tuple[str, ...] = ("sales",)
#: The roles that may open the Tenders page.
READERS: tuple[str, ...] = ("sales", "manager")
DECISIONS = {"bid": "Bid", "no_bid": "No bid"}
#: A bid end within this many days is highlighted, and reminded on the Kanban page.
DUE_SOON_DAYS = 7
TENDERS_PAGE = "pages/tenders.py"
#: Characters of a notice's text the tender card shows.
MAX_TEXT_CHARS = 20_000

#: Field name -> label, in the order the tender card lists them.
FIELD_LABELS = {
    "tender_no": "Tender no.",
    "organisation": "Organisation",
    "items": "Items",
    "estimated_value_inr": "Estimated value",
    "emd_amount_inr": "EMD",
    "emd_form": "EMD form",
    "tender_fee_inr": "Tender fee",
    "bid_start": "Bid start",
    "bid_end": "Bid end",
    "bid_opening": "Bid opening",
    "pre_bid_meeting": "Pre-bid meeting",
    "eligibility": "Eligibility",
    "contact": "Contact",
}
TEXT_METHODS = {
    "text_layer": "read from the PDF's text layer",
    "ocr": "read by OCR (scanned pages): check the values against the notice",
    "none": "could not be read",
}

_LIST = """
    SELECT t.tender_id, t.tender_no, t.organisation, t.bid_end_at, t.estimated_value_inr,
           t.emd_amount_inr, t.matched_products, t.text_method, t.min_confidence,
           t.document_count, t.received_at, t.error,
           d.decision, d.decided_by, d.decided_at, coalesce(d.version, 0) AS version
    FROM marts.tenders AS t
    LEFT JOIN ops.tender_decisions AS d ON d.tender_id = t.tender_id
"""
_ONE = """
    SELECT t.*, d.decision, d.note AS decision_note, d.decided_by, d.decided_at,
           coalesce(d.version, 0) AS version, s.text AS notice_text
    FROM marts.tenders AS t
    LEFT JOIN ops.tender_decisions AS d ON d.tender_id = t.tender_id
    LEFT JOIN staging.stg_tender__documents AS s ON s.content_sha256 = t.content_sha256
    WHERE t.tender_id = %s
"""
LIST_COLUMNS = {
    "tender_id": pl.String,
    "tender_no": pl.String,
    "organisation": pl.String,
    "status": pl.String,
    "bid_end": pl.String,
    "days_left": pl.Int64,
    "due_soon": pl.Boolean,
    "decision": pl.String,
    "decided_by": pl.String,
    "estimated_value": pl.String,
    "emd": pl.String,
    "matched_products": pl.String,
    "text_method": pl.String,
    "min_confidence": pl.Float64,
    "notices": pl.Int64,
    "received": pl.String,
    "version": pl.Int64,
}


class TenderError(ValueError):
    """A decision that cannot be recorded as asked (the message says why)."""


def timezone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def mart_built(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT to_regclass('marts.tenders') IS NOT NULL").fetchone()
    return bool(row and row[0])


def inr(value: Any) -> str:
    """₹ with Indian digit grouping (₹18,50,000), "" for nothing."""
    if value is None:
        return ""
    amount = float(value)
    return "₹" + indian_grouping(amount, 0 if amount == int(amount) else 2)


def current_time(tz: tzinfo) -> datetime:
    """Now, on the day the ERP marts are aged as of (``PEBBLE_AS_OF_DATE``, which the demo
    sets to the day after its world ends) when that is set: which tenders are open and how
    many days are left agree with the rest of the warehouse."""
    now = datetime.now(tz)
    as_of = get_settings().as_of_date
    return now if as_of is None else datetime.combine(as_of, now.timetz())


def days_left(bid_end_at: datetime | None, now: datetime, tz: tzinfo) -> int | None:
    """Whole days from today to the bid end day, both in ``tz`` (0: due today)."""
    if bid_end_at is None:
        return None
    return (bid_end_at.astimezone(tz).date() - now.astimezone(tz).date()).days


def format_when(at: datetime | None, tz: tzinfo) -> str:
    return "" if at is None else at.astimezone(tz).strftime("%d %b %Y %H:%M")


def tender_list(conn: psycopg.Connection, now: datetime | None = None) -> pl.DataFrame:
    """Every tender, open ones first by bid end (soonest first, no date last), then the
    closed ones, latest bid end first. ``due_soon``: open and due within DUE_SOON_DAYS."""
    tz = timezone()
    now = now or current_time(tz)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_LIST).fetchall()
    out = []
    for row in rows:
        end = row["bid_end_at"]
        is_open = end is None or end > now
        left = days_left(end, now, tz)
        out.append(
            {
                "tender_id": row["tender_id"],
                "tender_no": row["tender_no"],
                "organisation": row["organisation"],
                "status": "open" if is_open else "closed",
                "bid_end": format_when(end, tz),
                "days_left": left,
                "due_soon": bool(is_open and left is not None and left <= DUE_SOON_DAYS),
                "decision": DECISIONS.get(row["decision"] or "", "undecided"),
                "decided_by": row["decided_by"],
                "estimated_value": inr(row["estimated_value_inr"]),
                "emd": inr(row["emd_amount_inr"]),
                "matched_products": ", ".join(row["matched_products"] or ()),
                "text_method": row["text_method"],
                "min_confidence": (
                    None if row["min_confidence"] is None else float(row["min_confidence"])
                ),
                "notices": row["document_count"],
                "received": format_when(row["received_at"], tz),
                "version": int(row["version"]),
                "_end": end,
            }
        )
    far = datetime.max.replace(tzinfo=tz)
    open_rows = sorted(
        (r for r in out if r["status"] == "open"),
        key=lambda r: (r["_end"] is None, r["_end"] or far, r["tender_id"]),
    )
    closed = sorted(
        (r for r in out if r["status"] == "closed"),
        key=lambda r: (r["_end"], r["tender_id"]),
        reverse=True,
    )
    ordered = [{k: v for k, v in r.items() if k != "_end"} for r in open_rows + closed]
    return pl.DataFrame(ordered, schema=LIST_COLUMNS)


def tender(conn: psycopg.Connection, tender_id: str) -> dict[str, Any] | None:
    """One tender with its decision (``version``: 0 undecided) and the kept notice's text."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_ONE, (tender_id,)).fetchone()


def _plain(value: Any) -> str:
    """A field's value as plain text (lists and objects as compact lines)."""
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {_plain(v)}" for k, v in value.items() if v not in (None, "", []))
    if isinstance(value, list):
        return " | ".join(_plain(v) for v in value)
    return str(value)


def _field_value(name: str, value: Any, tz: tzinfo) -> str:
    if value is None:
        return ""
    if name.endswith("_inr") and isinstance(value, int | float):
        return inr(value)
    if name == "pre_bid_meeting" and isinstance(value, Mapping):  # {"at": ..., "venue": ...}
        when = _field_value("bid_start", value.get("at"), tz)
        venue = value.get("venue")
        return f"{when}, {_plain(venue)}" if when and venue else when or _plain(venue or "")
    if name in ("bid_start", "bid_end", "bid_opening", "pre_bid_meeting") and isinstance(
        value, str
    ):
        try:
            return format_when(datetime.fromisoformat(value), tz)
        except ValueError:
            return value
    if name == "items" and isinstance(value, list):
        return f"{len(value)} item{'s' if len(value) != 1 else ''} (below)"
    return _plain(value)


def field_rows(fields: Mapping[str, Any] | None) -> pl.DataFrame:
    """Every field the extractor was asked for: its value, the evidence it was read from
    and its confidence; a field not found says so (nothing is guessed). A field the latest
    notice lacks and an earlier one of the tender had (marts.tenders fills it) names that
    notice in its evidence."""
    tz = timezone()
    fields = fields or {}
    rows = []
    names = list(FIELD_LABELS) + sorted(set(fields) - set(FIELD_LABELS))
    for name in names:
        entry = fields.get(name)
        found = isinstance(entry, Mapping) and entry.get("value") not in (None, "", [])
        rows.append(
            {
                "field": FIELD_LABELS.get(name, name),
                "value": _field_value(name, entry.get("value"), tz) if found else "not found",
                "evidence": (
                    str(entry.get("evidence") or "")
                    + (f" (from {entry['from_notice']})" if entry.get("from_notice") else "")
                )
                if found
                else "",
                "confidence": float(entry["confidence"])
                if found and isinstance(entry.get("confidence"), int | float)
                else None,
            }
        )
    return pl.DataFrame(
        rows,
        schema={"field": pl.String, "value": pl.String, "evidence": pl.String,
                "confidence": pl.Float64},
    )  # fmt: skip


def _quantity(value: Any) -> str:
    """20.0 -> "20", 2.5 -> "2.5" (Indian grouping for large numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    if float(value).is_integer():
        return indian_grouping(float(value), 0)
    return indian_grouping(float(value), 3).rstrip("0").rstrip(".")


def item_rows(items: Any) -> pl.DataFrame:
    """The items asked for, with the stock item each matched (empty: no match)."""
    rows = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping):
            continue
        quantity = item.get("quantity")
        rows.append(
            {
                "description": _plain(item.get("description")),
                "quantity": _quantity(quantity),
                "unit": _plain(item.get("unit")),
                "matched_product": _plain(item.get("product")),
            }
        )
    return pl.DataFrame(
        rows,
        schema={"description": pl.String, "quantity": pl.String, "unit": pl.String,
                "matched_product": pl.String},
    )  # fmt: skip


def as_json(value: Any) -> Any:
    """jsonb as Python (psycopg gives it decoded; a text column gives a string)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def decide(
    conn: psycopg.Connection,
    user: User | None,
    tender_id: str,
    decision: str,
    note: str | None,
    expected_version: int,
) -> events.Recorded:
    """Record ``user``'s bid / no-bid ``decision`` on ``tender_id`` (a ``TenderDecided``
    event at ``expected_version``, the version the person saw). The tender must be in
    ``marts.tenders``; a no-bid needs a note (why, for the next similar tender)."""
    require(user, *DECIDERS, action="decide on tenders")
    if decision not in DECISIONS:
        raise TenderError(f"decide bid or no_bid, not {decision!r}")
    note = note.strip() if isinstance(note, str) else ""
    if decision == "no_bid" and not note:
        raise TenderError("a note is required for no bid: say why")
    row = conn.execute("SELECT 1 FROM marts.tenders WHERE tender_id = %s", (tender_id,)).fetchone()
    if row is None:
        raise TenderError(f"no tender {tender_id!r}")
    payload: dict[str, Any] = {"decision": decision}
    if note:
        payload["note"] = note
    try:
        event = events.new_event("TenderDecided", tender_id, actor=user.name, payload=payload)
    except events.EventError as exc:
        raise TenderError(str(exc)) from None
    return events.append(conn, event, expected_version)


def conflict_message(conflict: events.VersionConflict, tz: tzinfo | None = None) -> str:
    """Who decided first, as plain text (shown with st.text)."""
    who = conflict.last_actor or "someone"
    when = ""
    if isinstance(conflict.last_occurred_at, datetime):
        at = conflict.last_occurred_at.astimezone(tz or timezone())
        when = f" at {at:%d %b %Y %H:%M}"
    return f"{who} recorded a decision first{when}; the card now shows it. Reload and decide again."


def due_reminders(
    conn: psycopg.Connection, now: datetime | None = None, days: int = DUE_SOON_DAYS
) -> pl.DataFrame:
    """Open tenders decided ``bid`` or undecided whose bid end is within ``days`` days,
    soonest first."""
    frame = tender_list(conn, now)
    return frame.filter(
        pl.col("due_soon")
        & (pl.col("status") == "open")
        & pl.col("days_left").is_not_null()
        & (pl.col("days_left") <= days)
        & pl.col("decision").is_in([DECISIONS["bid"], "undecided"])
    )


def reminder_line(row: Mapping[str, Any]) -> str:
    left = row["days_left"]
    due = "due today" if left == 0 else f"due in {left} day{'s' if left != 1 else ''}"
    name = " · ".join(p for p in (row["tender_no"], row["organisation"]) if p) or "tender"
    return f"{name} · bid end {row['bid_end']} ({due}) · {row['decision']}"


def render_due_reminders(user: User) -> None:
    """The Kanban page's reminder strip: tenders to bid on (or decide) due within a week,
    each with a link to its card on the Tenders page. Silent for users without the tender
    stream, before the mart is built, or when the warehouse cannot be read (the board
    below must still show)."""
    import streamlit as st
    from streamlit.errors import StreamlitAPIException

    from pebble import db

    if "tender" not in user.streams:
        return
    try:
        with psycopg.connect(db.warehouse_url(), autocommit=True, connect_timeout=10) as conn:
            if not mart_built(conn):
                return
            due = due_reminders(conn)
    except psycopg.Error:
        return
    if not due.height:
        return
    with st.container(border=True, key="tender_reminders"):
        st.caption(f"Tender bids due within {DUE_SOON_DAYS} days ({due.height})")
        for row in due.iter_rows(named=True):
            st.text(reminder_line(row))
        try:
            st.page_link(TENDERS_PAGE, label="Open Tenders", icon=":material/gavel:")
        except StreamlitAPIException:  # the page is not registered in this run
            st.link_button("Open Tenders", "tenders")
