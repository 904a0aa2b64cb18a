-- People's actions on cards folded into each card's current state, one row per card (an
-- email thread: entity id = thread key) with events. The same fold as the view
-- ops.card_state (migration 0005), which the app reads live between dbt builds; this one is
-- what the mart is built with. The latest event of each kind wins (entity_version orders a
-- card's events without gaps); an assignment without an assignee takes the card back.
with events as (
    select * from {{ ref('stg_ops__events') }}
    where entity_type = 'card'
),

latest as (
    select distinct on (entity_id, event_type)
        entity_id,
        event_type,
        entity_version,
        payload,
        occurred_at
    from events
    order by entity_id, event_type, entity_version desc
)

select
    entity_id                                                               as card_id,
    max(payload ->> 'to') filter (where event_type = 'CardMoved')           as status,
    max(occurred_at) filter (where event_type = 'CardMoved')                as status_changed_at,
    max(payload ->> 'assignee') filter (where event_type = 'CardAssigned')  as assignee,
    max(payload ->> 'stream') filter (where event_type = 'CardReclassified') as stream,
    max(payload ->> 'intent') filter (where event_type = 'CardReclassified') as intent,
    max(entity_version)                                                     as card_version
from latest
group by entity_id
