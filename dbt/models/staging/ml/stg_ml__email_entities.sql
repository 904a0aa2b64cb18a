with source as (
    select * from {{ source('ml', 'email_entities') }}
),

renamed as (
    select
        email_key || ':' || position    as email_entity_key,
        email_key,
        position,
        label,
        text                            as entity_text,
        value,
        valid                           as is_valid,
        start_char,
        end_char,
        linked_to
    from source
)

select * from renamed
