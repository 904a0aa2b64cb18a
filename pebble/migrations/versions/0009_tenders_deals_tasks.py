"""Tenders, deals and tasks: their event types, the views folding them, and the landed
text of tender notices.

- New event types (``pebble/events.py`` holds the same pairs and the payload models):
  ``TenderDecided`` (entity ``tender``: a bid / no-bid decision), ``PipelineConfigured``
  (``pipeline``: an admin's stages of a sales pipeline), ``DealCreated``, ``DealMoved``,
  ``DealClosed`` (``deal``: made, moved and closed by hand; a deal the warehouse inferred is
  moved under its ``deal_key`` without a ``DealCreated``), ``TaskCreated``, ``TaskAssigned``,
  ``TaskCompleted`` (``task``).
- ``ops.pipelines``: each configured pipeline's latest stages. The default pipeline
  (``sales``: enquiry, quoted, sample_sent, negotiation, ordered, then won or lost) needs no
  event; ``pebble.deals`` supplies it while no ``PipelineConfigured`` overrides it.
- ``ops.deal_state``: one row per deal with people's events: what ``DealCreated`` said, the
  latest stage moved to, the outcome of ``DealClosed``, the version and who changed it last.
- ``ops.tasks``: one row per task: title, due day, link (company, contact, card, deal or
  tender), owner (the latest ``TaskAssigned``, else the creator's choice), done or not.
- ``ops.tender_decisions``: the latest bid / no-bid decision per tender.
- ``raw.tender_documents``: one row per tender notice (a PDF attachment) read: its text,
  how the text came (``text_layer`` or ``ocr``), the pages, and the fields extracted with
  their evidence and confidence (``fields`` jsonb). Keyed by the attachment's content hash:
  the same PDF attached twice is read once.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
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
    ("TenderDecided", "tender"),
    ("PipelineConfigured", "pipeline"),
    ("DealCreated", "deal"),
    ("DealMoved", "deal"),
    ("DealClosed", "deal"),
    ("TaskCreated", "task"),
    ("TaskAssigned", "task"),
    ("TaskCompleted", "task"),
)
_PAIRS = ", ".join(f"('{event}', '{entity}')" for event, entity in EVENT_ENTITIES)

STATEMENTS = (
    "ALTER TABLE ops.events DROP CONSTRAINT events_known_type",
    f"ALTER TABLE ops.events ADD CONSTRAINT events_known_type "
    f"CHECK ((event_type, entity_type) IN ({_PAIRS}))",
    """
    CREATE VIEW ops.pipelines AS
    SELECT DISTINCT ON (entity_id)
        entity_id                           AS pipeline_id,
        payload ->> 'name'                  AS name,
        payload -> 'stages'                 AS stages,
        entity_version                      AS version,
        occurred_at                         AS updated_at,
        actor                               AS updated_by
    FROM ops.events
    WHERE entity_type = 'pipeline'
    ORDER BY entity_id, entity_version DESC
    """,
    """
    CREATE VIEW ops.deal_state AS
    WITH deal_events AS (
        SELECT * FROM ops.events WHERE entity_type = 'deal'
    ),
    created AS (
        SELECT DISTINCT ON (entity_id) entity_id, payload, occurred_at, actor, company_key
        FROM deal_events WHERE event_type = 'DealCreated'
        ORDER BY entity_id, entity_version
    ),
    moved AS (
        SELECT DISTINCT ON (entity_id) entity_id, payload, occurred_at
        FROM deal_events WHERE event_type IN ('DealMoved', 'DealClosed')
        ORDER BY entity_id, entity_version DESC
    ),
    valued AS (
        SELECT DISTINCT ON (entity_id) entity_id, (payload ->> 'value_inr')::numeric AS value_inr
        FROM deal_events WHERE payload ? 'value_inr'
        ORDER BY entity_id, entity_version DESC
    ),
    head AS (
        SELECT DISTINCT ON (entity_id)
            entity_id, entity_version, occurred_at, actor, company_key
        FROM deal_events
        ORDER BY entity_id, entity_version DESC
    )
    SELECT
        h.entity_id                                         AS deal_id,
        c.entity_id IS NOT NULL                             AS created_by_hand,
        coalesce(c.payload ->> 'pipeline', 'sales')         AS pipeline_id,
        c.payload ->> 'title'                               AS title,
        coalesce(c.company_key, h.company_key)              AS company_key,
        c.payload ->> 'product'                             AS product,
        c.payload ->> 'thread_key'                          AS thread_key,
        c.payload ->> 'owner'                               AS owner,
        CASE
            WHEN m.payload ? 'outcome' THEN m.payload ->> 'outcome'
            WHEN m.entity_id IS NOT NULL THEN m.payload ->> 'to'
            ELSE c.payload ->> 'stage'
        END                                                 AS stage,
        coalesce(m.payload ? 'outcome', false)              AS is_closed,
        CASE WHEN m.payload ? 'outcome' THEN m.payload ->> 'reason' END AS close_reason,
        v.value_inr,
        c.occurred_at                                       AS created_at,
        coalesce(m.occurred_at, c.occurred_at)              AS stage_changed_at,
        h.entity_version                                    AS version,
        h.occurred_at                                       AS updated_at,
        h.actor                                             AS updated_by
    FROM head AS h
    LEFT JOIN created AS c ON c.entity_id = h.entity_id
    LEFT JOIN moved AS m ON m.entity_id = h.entity_id
    LEFT JOIN valued AS v ON v.entity_id = h.entity_id
    """,
    """
    CREATE VIEW ops.tasks AS
    WITH task_events AS (
        SELECT * FROM ops.events WHERE entity_type = 'task'
    ),
    created AS (
        SELECT DISTINCT ON (entity_id) entity_id, payload, occurred_at, actor, company_key
        FROM task_events WHERE event_type = 'TaskCreated'
        ORDER BY entity_id, entity_version
    ),
    assigned AS (
        SELECT DISTINCT ON (entity_id) entity_id, payload ->> 'owner' AS owner
        FROM task_events WHERE event_type = 'TaskAssigned'
        ORDER BY entity_id, entity_version DESC
    ),
    completed AS (
        SELECT DISTINCT ON (entity_id) entity_id, payload ->> 'note' AS note, occurred_at, actor
        FROM task_events WHERE event_type = 'TaskCompleted'
        ORDER BY entity_id, entity_version DESC
    ),
    head AS (
        SELECT DISTINCT ON (entity_id) entity_id, entity_version, occurred_at, actor
        FROM task_events
        ORDER BY entity_id, entity_version DESC
    )
    SELECT
        c.entity_id                                         AS task_id,
        c.payload ->> 'title'                               AS title,
        (c.payload ->> 'due_on')::date                      AS due_on,
        coalesce(a.owner, c.payload ->> 'owner')            AS owner,
        c.payload ->> 'linked_type'                         AS linked_type,
        c.payload ->> 'linked_id'                           AS linked_id,
        c.company_key,
        c.payload ->> 'note'                                AS note,
        d.entity_id IS NOT NULL                             AS is_done,
        d.occurred_at                                       AS done_at,
        d.actor                                             AS done_by,
        c.occurred_at                                       AS created_at,
        c.actor                                             AS created_by,
        h.entity_version                                    AS version,
        h.occurred_at                                       AS updated_at,
        h.actor                                             AS updated_by
    FROM created AS c
    JOIN head AS h ON h.entity_id = c.entity_id
    LEFT JOIN assigned AS a ON a.entity_id = c.entity_id
    LEFT JOIN completed AS d ON d.entity_id = c.entity_id
    """,
    """
    CREATE VIEW ops.tender_decisions AS
    SELECT DISTINCT ON (entity_id)
        entity_id                   AS tender_id,
        payload ->> 'decision'      AS decision,
        payload ->> 'note'          AS note,
        entity_version              AS version,
        occurred_at                 AS decided_at,
        actor                       AS decided_by,
        company_key
    FROM ops.events
    WHERE entity_type = 'tender'
    ORDER BY entity_id, entity_version DESC
    """,
    """
    CREATE TABLE raw.tender_documents (
        content_sha256  text PRIMARY KEY CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
        email_key       text NOT NULL,
        filename        text NOT NULL,
        pages           integer NOT NULL CHECK (pages >= 0),
        text_method     text NOT NULL CHECK (text_method IN ('text_layer', 'ocr', 'none')),
        text            text NOT NULL,
        ocr_seconds     double precision,
        fields          jsonb NOT NULL DEFAULT '{}'::jsonb,
        extractor_version text NOT NULL,
        error           text,
        read_at         timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX tender_documents_email_key ON raw.tender_documents (email_key)",
    "COMMENT ON TABLE raw.tender_documents IS 'Tender notices (PDF attachments of tender "
    "mail) read: text, how it came (text layer or OCR), and the extracted fields, each with "
    "its evidence span and confidence'",
)


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("Pebble's migrations are forward-only")
