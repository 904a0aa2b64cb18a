-- The messages that make up the Kanban's threads, one row per distinct message, each with
-- the thread (card) it belongs to.
--
-- Which messages count: no auto-replies, no bounces, bulk mail (newsletters, list mail)
-- only where the mailbox is a tender feed (tender portals send their notices as bulk mail).
-- Our own outbound messages count towards their thread (last reply, first response) but a
-- thread needs a customer message to become a card (email_cards decides that).
--
-- The thread: the loader keys a message by the first Message-ID of its References (else
-- In-Reply-To), else by its normalised subject and participants. So the opening message of
-- a thread, which references nothing, has a subject key, while every reply to it carries the
-- opening's Message-ID. A reply whose root has landed joins the root's thread key: the key
-- a card gets from its first message never changes when replies arrive, so the people's
-- events recorded against it (entity id = card id) stay with the card.
--
-- The same message landed twice (one Message-ID, other bytes: a copy delivered to a second
-- mailbox) counts once in its thread: the copy stored first is kept.
-- a table, not a view: several marts and the data tests read it, and each would
-- otherwise recompute it (the mail refresh after new mail ran it six times over)
{{ config(materialized='table') }}
with emails as (
    select * from {{ ref('stg_mail__emails') }}
),

routes as (
    select * from {{ ref('stg_mail__mailbox_routes') }}
),

-- the thread key of each landed Message-ID (the first stored copy decides)
roots as (
    select distinct on (message_id)
        message_id,
        thread_key
    from emails
    where message_id is not null
    order by message_id, variant_of is not null, loaded_at, email_key
),

eligible as (
    select
        emails.*,
        coalesce(roots.thread_key, emails.thread_key)   as card_thread_key
    from emails
    left join routes using (mailbox)
    left join roots on roots.message_id = emails.thread_key
    where not emails.is_auto_reply
      and not emails.is_bounce
      and (not emails.is_bulk or routes.default_stream = 'tender')
),

distinct_messages as (
    select
        *,
        row_number() over (
            partition by card_thread_key, coalesce(message_id, email_key)
            order by variant_of is not null, loaded_at, email_key
        ) as copy_no
    from eligible
)

select
    email_key,
    card_thread_key                                     as thread_key,
    thread_key                                          as source_thread_key,
    message_id,
    mailbox,
    subject,
    from_address,
    coalesce(nullif(from_name, ''), from_address)       as from_display,
    from_domain,
    is_outbound,
    -- a message without a usable Date header is placed when it landed
    coalesce(sent_at, loaded_at)                        as occurred_at,
    left(btrim(regexp_replace(coalesce(body_text, ''), '\s+', ' ', 'g')), 280) as snippet,
    attachment_count,
    loaded_at
from distinct_messages
where copy_no = 1
