with source as (
    select * from {{ source('raw', 'mailbox_routes') }}
),

renamed as (
    select
        mailbox,
        default_stream,
        updated_at
    from source
)

select * from renamed
