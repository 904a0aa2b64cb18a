-- One card per customer message for the Kanban. Auto-replies, bounces and our own
-- outbound messages never become cards; bulk mail (newsletters, list mail) only where the
-- mailbox is a tender feed, since tender portals send their notices as bulk mail. A
-- message re-sent with the same Message-ID but other bytes keeps its own card. The model's
-- stream and intent are attributes only: a misclassified customer mail never disappears.
with emails as (
    select * from {{ ref('stg_mail__emails') }}
),

routes as (
    select * from {{ ref('stg_mail__mailbox_routes') }}
),

predictions as (
    select * from {{ ref('stg_ml__email_predictions') }}
),

cards as (
    select
        emails.email_key                                as card_id,
        emails.email_key,
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
        -- unscored mail follows its mailbox's default stream until the model has seen it
        coalesce(predictions.stream, routes.default_stream) as stream,
        predictions.intent,
        predictions.confidence,
        coalesce(predictions.requires_review, true)     as requires_review,
        predictions.company_key,
        predictions.company_name,
        'new'::text                                     as status,
        loaded_at
    from emails
    left join routes using (mailbox)
    left join predictions on predictions.email_key = emails.email_key
    where not is_auto_reply
      and not is_bounce
      and not is_outbound
      and (not is_bulk or routes.default_stream = 'tender')
)

select * from cards
