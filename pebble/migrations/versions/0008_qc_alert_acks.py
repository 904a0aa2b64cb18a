"""QC acknowledges its alerts: the event type ``QCAlertAcknowledged`` and the view folding it.

- The known event types grow by ``QCAlertAcknowledged`` (entity type ``qc_alert``, id: the
  ``alert_id`` of ``marts.qc_alerts``; payload: the alert type, a required note and the
  batch). Who acknowledged is the event's actor.
- ``ops.qc_alert_acks`` folds them: one row per acknowledged alert, its latest
  acknowledgement (note, who, when) and its version (how many acknowledgements). The QC
  dashboard and the Dagster check on ``marts.qc_alerts`` read it beside the mart: an alert
  of the mart without a row here is open. It reads ``ops.events`` only, so a dbt rebuild of
  the mart never has to drop it; the app's role reads it like every ``ops`` view
  (``pebble.db.ensure_app_role`` grants SELECT on the schema's tables and views, also on
  those created later).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Event type -> entity type at this revision, frozen here (pebble/events.py holds the same).
EVENT_ENTITIES = (
    ("CardMoved", "card"),
    ("CardAssigned", "card"),
    ("CardReclassified", "card"),
    ("ReplyDrafted", "card"),
    ("ReplySent", "card"),
    ("PreleadApproved", "prelead"),
    ("PreleadRejected", "prelead"),
    ("PreleadMerged", "prelead"),
    ("CompanyMerged", "company"),
    ("CompanySplit", "company"),
    ("RouteChanged", "mailbox"),
    ("RouteRuleChanged", "route"),
    ("UserAdded", "user"),
    ("UserRoleChanged", "user"),
    ("UserPasswordReset", "user"),
    ("SignedIn", "user"),
    ("SignedOut", "user"),
    ("SignInFailed", "user"),
    ("QCAlertAcknowledged", "qc_alert"),
)
_PAIRS = ", ".join(f"('{event}', '{entity}')" for event, entity in EVENT_ENTITIES)

STATEMENTS = (
    "ALTER TABLE ops.events DROP CONSTRAINT events_known_type",
    f"ALTER TABLE ops.events ADD CONSTRAINT events_known_type "
    f"CHECK ((event_type, entity_type) IN ({_PAIRS}))",
    """
    CREATE VIEW ops.qc_alert_acks AS
    SELECT DISTINCT ON (entity_id)
        entity_id                   AS alert_id,
        payload ->> 'alert_type'    AS alert_type,
        payload ->> 'batch_no'      AS batch_no,
        payload ->> 'note'          AS note,
        entity_version              AS version,
        occurred_at                 AS acknowledged_at,
        actor                       AS acknowledged_by,
        company_key
    FROM ops.events
    WHERE entity_type = 'qc_alert'
    ORDER BY entity_id, entity_version DESC
    """,
    "COMMENT ON VIEW ops.qc_alert_acks IS 'QC alerts acknowledged (latest acknowledgement "
    "per alert_id of marts.qc_alerts: note, who, when), folded from QCAlertAcknowledged "
    "events; an alert without a row is open'",
)


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("Pebble's migrations are forward-only")
