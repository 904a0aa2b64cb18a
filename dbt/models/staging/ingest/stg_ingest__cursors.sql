with source as (
    select * from {{ source('ingest', 'ingest_cursors') }}
),

renamed as (
    select
        source || ':' || cursor_key as cursor_id,
        source,
        cursor_key,
        value                       as cursor_value,
        updated_at
    from source
)

select * from renamed
