-- EmailReceived: one event per customer message landed (our own staff's messages are
-- replies, recorded as ReplySent by people, not received mail).
with emails as (
    select * from {{ ref('stg_mail__emails') }}
    where not is_outbound
)

select
    {{ activity_event_id('mail', 'email_key', 'EmailReceived') }}  as event_id,
    'EmailReceived'::text                                           as event_type,
    'email'::text                                                   as entity_type,
    email_key                                                       as entity_id,
    null::text                                                      as company_key,
    'system:mail'::text                                             as actor,
    jsonb_strip_nulls(jsonb_build_object(
        'thread_key', thread_key,
        'mailbox', mailbox,
        'message_id', message_id,
        'from_address', from_address,
        'from_domain', from_domain,
        'subject', subject,
        'attachment_count', attachment_count,
        'is_auto_reply', is_auto_reply,
        'is_bulk', is_bulk
    ))                                                              as payload,
    coalesce(sent_at, loaded_at)                                    as occurred_at,
    loaded_at
from emails
