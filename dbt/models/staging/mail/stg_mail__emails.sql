with source as (
    select * from {{ source('raw', 'emails') }}
),

renamed as (
    select
        email_key,
        message_id,
        variant_of,
        mailbox,
        source_kind,
        nullif(trim(subject), '')          as subject,
        lower(from_addr)                   as from_address,
        from_name,
        split_part(lower(from_addr), '@', 2) as from_domain,
        -- our own staff's messages (replies, forwards) are not customer mail
        split_part(lower(from_addr), '@', 2) = any(
            string_to_array('{{ env_var("PEBBLE_OWN_DOMAINS", "pebbledemo.in") }}', ',')
        )                                  as is_outbound,
        to_addrs                           as to_addresses,
        sent_at,
        thread_key,
        body_text,
        coalesce(has_html, false)          as has_html,
        coalesce(attachment_count, 0)      as attachment_count,
        coalesce(is_auto_reply, false)     as is_auto_reply,
        coalesce(is_bounce, false)         as is_bounce,
        coalesce(is_bulk, false)           as is_bulk,
        size_bytes,
        loaded_at
    from source
)

select * from renamed
