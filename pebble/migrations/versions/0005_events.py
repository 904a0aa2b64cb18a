"""The event store ``ops.events`` and the current-state views that fold it.

People's actions (a card moved, a lead approved, two companies merged) are appended to
``ops.events`` and never changed: the history is the record, and the current state is a
fold of it. ``pebble/events.py`` is the write path (typed payloads, an expected-version
check, one transaction); the views below answer "what is the state now" straight from the
events, so a move shows at once, without a dbt run. They read ``ops.events`` only (no dbt
mart), so a dbt rebuild never has to drop them.

Guarantees kept by the database itself, whoever writes:

- ``event_id`` is unique: the same event sent twice is stored once (idempotency key);
- ``(entity_type, entity_id, entity_version)`` is unique and versions have no gaps (a
  trigger refuses version n unless n - 1 exists), so of two writers that read the same
  version exactly one can append the next;
- UPDATE, DELETE and TRUNCATE are refused by a trigger (append-only), whoever asks;
- only known event types, each with its own entity type, and a JSON object as payload.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Event type -> entity type, frozen here (pebble/events.py holds the same pairs).
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
)
_PAIRS = ", ".join(f"('{event}', '{entity}')" for event, entity in EVENT_ENTITIES)

CREATE = f"""
CREATE TABLE ops.events (
    event_seq      bigserial PRIMARY KEY,
    event_id       uuid NOT NULL,
    event_type     text NOT NULL,
    entity_type    text NOT NULL,
    entity_id      text NOT NULL CHECK (entity_id <> '' AND length(entity_id) <= 512),
    entity_version integer NOT NULL CHECK (entity_version >= 1),
    company_key    text,
    actor          text NOT NULL CHECK (actor <> '' AND length(actor) <= 200),
    payload        jsonb NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
    occurred_at    timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_event_id_key UNIQUE (event_id),
    CONSTRAINT events_entity_version_key UNIQUE (entity_type, entity_id, entity_version),
    CONSTRAINT events_known_type CHECK ((event_type, entity_type) IN ({_PAIRS}))
)
"""
INDEXES = (
    # the latest event of each kind per entity (the views), without reading older ones
    "CREATE INDEX events_entity_kind_idx ON ops.events "
    "(entity_type, entity_id, event_type, entity_version DESC)",
    # corrections for ml, newest first, without scanning every card event
    "CREATE INDEX events_corrections_idx ON ops.events (event_seq) "
    "WHERE event_type = 'CardReclassified'",
)
APPEND_ONLY = (
    """
    CREATE FUNCTION ops.events_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'ops.events is append-only: % refused', TG_OP
            USING ERRCODE = 'restrict_violation',
                  HINT = 'record a new event (pebble.events.append) instead of changing one';
    END
    $$
    """,
    "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ops.events "
    "FOR EACH STATEMENT EXECUTE FUNCTION ops.events_refuse_change()",
    """
    CREATE FUNCTION ops.events_check_version() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.entity_version > 1 AND NOT EXISTS (
            SELECT 1 FROM ops.events
            WHERE entity_type = NEW.entity_type AND entity_id = NEW.entity_id
              AND entity_version = NEW.entity_version - 1
        ) THEN
            RAISE EXCEPTION 'ops.events: % % has no version %, so version % would leave a gap',
                NEW.entity_type, NEW.entity_id, NEW.entity_version - 1, NEW.entity_version
                USING ERRCODE = 'check_violation',
                      HINT = 'append with the version you read (pebble.events.append)';
        END IF;
        NEW.recorded_at := now();
        RETURN NEW;
    END
    $$
    """,
    "CREATE TRIGGER events_contiguous_version BEFORE INSERT ON ops.events "
    "FOR EACH ROW EXECUTE FUNCTION ops.events_check_version()",
)
VIEWS = (
    # card = email thread (thread_key); a card without events is not here (status 'new').
    # One row per card and event type (the latest), read in index order; the window marks
    # the card's newest event without a sort per card (ordered aggregates cost twice as much)
    """
    CREATE VIEW ops.card_state AS
    WITH latest AS (
        SELECT DISTINCT ON (entity_id, event_type)
            entity_id, event_type, entity_version, payload, occurred_at, actor
        FROM ops.events
        WHERE entity_type = 'card'
        ORDER BY entity_id, event_type, entity_version DESC
    ),
    heads AS (
        SELECT latest.*, max(entity_version) OVER (PARTITION BY entity_id) AS head
        FROM latest
    )
    SELECT
        entity_id                                                         AS card_id,
        max(payload ->> 'to') FILTER (WHERE event_type = 'CardMoved')     AS status,
        max(payload ->> 'assignee') FILTER (WHERE event_type = 'CardAssigned') AS assignee,
        max(payload ->> 'stream') FILTER (WHERE event_type = 'CardReclassified') AS stream,
        max(payload ->> 'intent') FILTER (WHERE event_type = 'CardReclassified') AS intent,
        max(occurred_at) FILTER (WHERE event_type = 'ReplyDrafted')      AS last_drafted_at,
        max(occurred_at) FILTER (WHERE event_type = 'ReplySent')         AS last_reply_sent_at,
        max(head)                                                         AS version,
        max(occurred_at) FILTER (WHERE entity_version = head)            AS updated_at,
        max(actor) FILTER (WHERE entity_version = head)                  AS updated_by
    FROM heads
    GROUP BY entity_id
    """,
    """
    CREATE VIEW ops.prelead_decisions AS
    SELECT DISTINCT ON (entity_id)
        entity_id                                       AS prelead_id,
        payload ->> 'batch'                             AS batch,
        (payload ->> 'row_no')::integer                 AS row_no,
        CASE event_type
            WHEN 'PreleadApproved' THEN 'approved'
            WHEN 'PreleadRejected' THEN 'rejected'
            ELSE 'merged'
        END                                             AS decision,
        payload ->> 'into_company_key'                  AS merged_into,
        company_key,
        payload ->> 'reason'                            AS reason,
        entity_version                                  AS version,
        occurred_at                                     AS decided_at,
        actor                                           AS decided_by
    FROM ops.events
    WHERE entity_type = 'prelead'
    ORDER BY entity_id DESC, entity_version DESC
    """,
    # a split undoes any earlier merge of the company; the source records every split
    # detached stay detached
    """
    CREATE VIEW ops.company_merges AS
    SELECT
        entity_id                                       AS company_key,
        CASE WHEN (array_agg(event_type ORDER BY entity_version DESC))[1] = 'CompanyMerged'
             THEN (array_agg(payload ->> 'into_company_key' ORDER BY entity_version DESC))[1]
        END                                             AS merged_into,
        coalesce(
            jsonb_agg(source ORDER BY entity_version) FILTER (WHERE source IS NOT NULL),
            '[]'::jsonb
        )                                               AS split_sources,
        max(entity_version)                             AS version,
        (array_agg(occurred_at ORDER BY entity_version DESC))[1] AS updated_at,
        (array_agg(actor ORDER BY entity_version DESC))[1]       AS updated_by
    FROM ops.events
    LEFT JOIN LATERAL jsonb_array_elements(
        CASE WHEN event_type = 'CompanySplit' THEN payload -> 'sources' END
    ) AS source ON true
    WHERE entity_type = 'company'
    GROUP BY entity_id
    """,
    """
    CREATE VIEW ops.mailbox_routes AS
    SELECT DISTINCT ON (entity_id)
        entity_id               AS mailbox,
        payload ->> 'stream'    AS default_stream,
        entity_version          AS version,
        occurred_at             AS updated_at,
        actor                   AS updated_by
    FROM ops.events
    WHERE entity_type = 'mailbox'
    ORDER BY entity_id DESC, entity_version DESC
    """,
)
COMMENTS = (
    "COMMENT ON TABLE ops.events IS 'People''s actions, append-only (UPDATE, DELETE and "
    "TRUNCATE refused); written through pebble.events.append'",
    "COMMENT ON COLUMN ops.events.event_seq IS 'global order of insertion (transactions "
    "commit out of order: an incremental reader re-reads a recent window)'",
    "COMMENT ON COLUMN ops.events.event_id IS 'idempotency key chosen by the writer: the "
    "same event sent twice is stored once'",
    "COMMENT ON COLUMN ops.events.entity_version IS 'the entity''s version after this event, "
    "1-based and without gaps'",
    "COMMENT ON COLUMN ops.events.occurred_at IS 'when the person acted (the writer''s "
    "clock); recorded_at is the server''s'",
    "COMMENT ON VIEW ops.card_state IS 'Current state of each card (thread_key) with events: "
    "status, assignee, stream/intent override; a card without events is new'",
    "COMMENT ON VIEW ops.prelead_decisions IS 'Latest decision per prelead row (batch, "
    "row_no): approved, rejected or merged into a company'",
    "COMMENT ON VIEW ops.company_merges IS 'Manual overrides of company resolution: the "
    "company a key is merged into, and the source records split off it'",
    "COMMENT ON VIEW ops.mailbox_routes IS 'Mailbox routes changed by people; overrides "
    "raw.mailbox_routes'",
)


def upgrade() -> None:
    op.execute(CREATE)
    for statement in (*INDEXES, *APPEND_ONLY, *VIEWS, *COMMENTS):
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("Pebble's migrations are forward-only")
