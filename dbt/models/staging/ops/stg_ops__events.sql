with source as (
    select * from {{ source('ops', 'events') }}
),

renamed as (
    select
        event_id,
        event_seq,
        event_type,
        entity_type,
        entity_id,
        entity_version,
        company_key,
        actor,
        payload,
        occurred_at,
        recorded_at
    from source
)

select * from renamed
