-- The stream each shared mailbox's mail goes to by default: the seeded raw.mailbox_routes,
-- overridden by the latest RouteChanged event an admin recorded for the mailbox (the same
-- fold as the live view ops.mailbox_routes, migration 0005). A mailbox first routed in the
-- app has no seeded row and comes from its events alone.
with seeded as (
    select * from {{ source('raw', 'mailbox_routes') }}
),

changed as (
    select distinct on (entity_id)
        entity_id               as mailbox,
        payload ->> 'stream'    as default_stream,
        occurred_at             as updated_at
    from {{ source('ops', 'events') }}
    where entity_type = 'mailbox'
      and event_type = 'RouteChanged'
    order by entity_id, entity_version desc
),

renamed as (
    select
        coalesce(changed.mailbox, seeded.mailbox)                   as mailbox,
        coalesce(changed.default_stream, seeded.default_stream)     as default_stream,
        coalesce(changed.updated_at, seeded.updated_at)             as updated_at
    from seeded
    full outer join changed on changed.mailbox = seeded.mailbox
)

select * from renamed
