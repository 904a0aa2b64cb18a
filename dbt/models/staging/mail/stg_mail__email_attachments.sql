with source as (
    select * from {{ source('raw', 'email_attachments') }}
),

renamed as (
    select
        email_key || ':' || sha256  as attachment_key,
        email_key,
        sha256,
        filename,
        lower(content_type)         as content_type,
        size_bytes
    from source
)

select * from renamed
