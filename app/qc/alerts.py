"""Acknowledging a QC alert: an event, with who and a note.

QC (role ``qc``) acknowledges an alert of ``marts.qc_alerts`` by appending
``QCAlertAcknowledged`` (entity ``qc_alert``, id: the ``alert_id``) at the version it saw
(0 for an open alert); ``ops.qc_alert_acks`` folds it at once, so the alert shows
acknowledged without a dbt run. A manager reads and changes nothing: :func:`acknowledge`
checks the role on the server (``pebble.auth.require``) whatever the page showed. Someone
else's acknowledgement meanwhile raises ``pebble.events.VersionConflict``.
"""

from __future__ import annotations

import psycopg

from pebble import events
from pebble.auth import User, require

#: The roles that may acknowledge an alert.
ACKNOWLEDGERS = ("qc",)


class AlertError(ValueError):
    """An acknowledgement that cannot be recorded as asked (the message says why)."""


def acknowledge(
    conn: psycopg.Connection, user: User | None, alert_id: str, note: str, expected_version: int
) -> events.Recorded:
    """Record that ``user`` acknowledged ``alert_id`` with ``note`` (required).

    The alert must be in ``marts.qc_alerts`` now; the event carries its type, batch and the
    CRM company of its order (so the company's timeline shows it)."""
    require(user, *ACKNOWLEDGERS, action="acknowledge QC alerts")
    if not isinstance(note, str) or not note.strip():
        raise AlertError("a note is required: say what is being done about the alert")
    row = conn.execute(
        "SELECT alert_type, batch_no, company_key FROM marts.qc_alerts WHERE alert_id = %s",
        (alert_id,),
    ).fetchone()
    if row is None:
        raise AlertError(f"no QC alert {alert_id!r} (it may have cleared since)")
    alert_type, batch_no, company_key = row
    payload = {"alert_type": alert_type, "note": note.strip()}
    if batch_no:
        payload["batch_no"] = batch_no
    try:
        event = events.new_event(
            "QCAlertAcknowledged",
            alert_id,
            actor=user.name,
            payload=payload,
            company_key=company_key,
        )
    except events.EventError as exc:
        raise AlertError(str(exc)) from None
    return events.append(conn, event, expected_version)


def conflict_message(conflict: events.VersionConflict) -> str:
    """Who acknowledged the alert first, as plain text."""
    who = conflict.last_actor or "someone"
    when = f" at {conflict.last_occurred_at:%Y-%m-%d %H:%M %Z}" if conflict.last_occurred_at else ""
    return f"{who} acknowledged it first{when}; the list now shows their note."
