"""Which routing rule decided a prediction, and what the model said beside it.

An admin's routing rules (``ml.routing``: sender address, domain, subject pattern, a
mailbox's stream) apply before the model. ``ml.email_predictions`` keeps ``stream``,
``intent``, ``confidence``, ``stream_confidence`` and ``requires_review`` as decided, and
now also:

- ``routed_by``: the rule that decided the stream (``address:buyer@acme.in``,
  ``domain:acme.in``, ``subject:<pattern>``, ``mailbox:tenders``), NULL when the model did;
- ``model_stream``, ``model_intent``, ``model_confidence``: the model's own answer (equal to
  the decided one when no rule matched). NULL on rows scored before this revision.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATEMENTS = (
    "ALTER TABLE ml.email_predictions ADD COLUMN IF NOT EXISTS routed_by text",
    "ALTER TABLE ml.email_predictions ADD COLUMN IF NOT EXISTS model_stream text",
    "ALTER TABLE ml.email_predictions ADD COLUMN IF NOT EXISTS model_intent text",
    "ALTER TABLE ml.email_predictions ADD COLUMN IF NOT EXISTS model_confidence double precision",
    "COMMENT ON COLUMN ml.email_predictions.routed_by IS 'the routing rule that decided the "
    "stream (<kind>:<pattern>, mailbox:<name>); NULL when the model decided'",
    "COMMENT ON COLUMN ml.email_predictions.model_stream IS 'the model''s own stream (the "
    "stored stream is the rule''s when routed_by is set)'",
)


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("Pebble's migrations are forward-only")
