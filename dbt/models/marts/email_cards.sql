-- One card per customer message for the Kanban. Auto-replies, bounces and our own
-- outbound messages never become cards; bulk mail (newsletters, list mail) only where the
-- mailbox is a tender feed, since tender portals send their notices as bulk mail. A
-- message re-sent with the same Message-ID but other bytes keeps its own card.
with emails as (
    select * from {{ ref('stg_mail__emails') }}
),

routes as (
    select * from {{ ref('stg_mail__mailbox_routes') }}
),

cards as (
    select
        email_key                                       as card_id,
        email_key,
        message_id,
        mailbox,
        coalesce(subject, '(no subject)')               as subject,
        from_address,
        coalesce(nullif(from_name, ''), from_address)   as from_display,
        from_domain,
        sent_at,
        thread_key,
        left(regexp_replace(coalesce(body_text, ''), '\s+', ' ', 'g'), 280) as snippet,
        attachment_count,
        'new'::text                                     as status,
        loaded_at
    from emails
    left join routes using (mailbox)
    where not is_auto_reply
      and not is_bounce
      and not is_outbound
      and (not is_bulk or routes.default_stream = 'tender')
)

select * from cards
