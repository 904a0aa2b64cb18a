"""``QCAlertAcknowledged``: QC acknowledging an alert is an event, with who and a note.

The payload is validated (a note is required, the alert's type must be its id's, nothing
unknown), the warehouse's own CHECK takes the new type (migration 0008), and
``ops.qc_alert_acks`` folds the latest acknowledgement per alert, readable by the app's
role, which may append it too.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import errors

from pebble import events

ALERT = "out_of_spec:QC/25-26/00024:1"


def _ack(note: str = "re-test booked", actor: str = "qasim", **payload) -> events.Event:
    return events.new_event(
        "QCAlertAcknowledged",
        ALERT,
        actor=actor,
        payload={"alert_type": "out_of_spec", "note": note, **payload},
        company_key="pan:AACCA1234F",
    )


def test_the_payload_needs_a_note_and_the_alert_s_own_type() -> None:
    event = _ack("  batch on hold  ", batch_no="ZNO2511-0024")
    assert (event.entity_type, event.entity_id, event.actor) == ("qc_alert", ALERT, "qasim")
    assert event.payload == {"alert_type": "out_of_spec", "note": "batch on hold",
                             "batch_no": "ZNO2511-0024"}  # fmt: skip
    with pytest.raises(events.EventError, match="note"):
        _ack("   ")
    with pytest.raises(events.EventError, match="note"):
        events.new_event("QCAlertAcknowledged", ALERT, actor="q",
                         payload={"alert_type": "out_of_spec"})  # fmt: skip
    with pytest.raises(events.EventError, match="not a drift alert"):
        events.new_event("QCAlertAcknowledged", ALERT, actor="q",
                         payload={"alert_type": "drift", "note": "x"})  # fmt: skip
    with pytest.raises(events.EventError, match="alert_type"):
        events.new_event("QCAlertAcknowledged", "late:B1", actor="q",
                         payload={"alert_type": "late", "note": "x"})  # fmt: skip
    with pytest.raises(events.EventError, match="Extra inputs"):
        _ack(severity="high")
    with pytest.raises(events.EventError, match="actor"):
        _ack(actor=" ")


def test_acknowledgements_are_stored_and_folded_per_alert(warehouse: psycopg.Connection) -> None:
    assert events.append(warehouse, _ack("first look"), 0).entity_version == 1
    with pytest.raises(events.VersionConflict) as conflict:
        events.append(warehouse, _ack("stale screen", actor="qamar"), 0)
    assert conflict.value.last_actor == "qasim"
    events.append(warehouse, _ack("re-test passed", actor="qamar"), 1)
    rows = warehouse.execute(
        "SELECT alert_id, alert_type, note, version, acknowledged_by, company_key"
        " FROM ops.qc_alert_acks"
    ).fetchall()
    assert rows == [(ALERT, "out_of_spec", "re-test passed", 2, "qamar", "pan:AACCA1234F")]
    assert [e.actor for e in events.history(warehouse, "qc_alert", ALERT)] == ["qasim", "qamar"]


def test_the_table_refuses_the_type_under_another_entity(warehouse: psycopg.Connection) -> None:
    with pytest.raises(errors.CheckViolation, match="events_known_type"):
        warehouse.execute(
            "INSERT INTO ops.events (event_id, event_type, entity_type, entity_id,"
            " entity_version, actor, payload, occurred_at)"
            " VALUES (%s, 'QCAlertAcknowledged', 'card', 'x', 1, 'q', '{}', now())",
            (uuid.uuid4(),),
        )


def test_the_app_role_appends_and_reads_acknowledgements(app_url: str) -> None:
    with psycopg.connect(app_url, autocommit=True) as app:
        events.append(app, _ack(), 0)
        assert app.execute("SELECT acknowledged_by FROM ops.qc_alert_acks").fetchall() == [
            ("qasim",)
        ]
