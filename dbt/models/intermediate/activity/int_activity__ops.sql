-- People's actions (pebble/events.py) pass through as they were recorded: their own
-- event_id (the writer's idempotency key), actor, company_key and payload. recorded_at is
-- the watermark; since transactions commit out of event_seq order, the mart re-reads a
-- window of it rather than "event_seq greater than the last one".
-- Account and sign-in events (entity type user) are the app's security audit, not business
-- activity: they stay in ops.events only.
select
    event_id,
    event_type,
    entity_type,
    entity_id,
    company_key,
    actor,
    payload || jsonb_build_object('entity_version', entity_version)    as payload,
    occurred_at,
    recorded_at                                                         as loaded_at
from {{ ref('stg_ops__events') }}
where entity_type <> 'user'
