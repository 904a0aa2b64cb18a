-- One card per customer email thread for the Kanban ("every card represents a customer
-- email thread"). A thread is a card once it holds a customer message; our replies count
-- towards its last outbound and first response but never make a card alone. Which
-- messages count, and how replies find their thread: int_mail__thread_messages.
--
-- What the card says comes from the thread's latest customer message (sender, snippet,
-- the model's stream and intent), its subject from the first; the linked company is the
-- latest one the model found in the thread's customer mail. People's events override:
-- status and assignee come only from them, and a correction (CardReclassified) replaces
-- the model's stream and intent (the confidence stays, `reclassified` says so). The model's
-- labels are attributes only: a misclassified customer mail never disappears.
--
-- Built from mail, ML and ops staging only (never the ERP or CRM models), so cards still
-- build while Tally or Focus RT is down. Between builds the app overlays ops.card_state,
-- which folds the same events live.
--
-- Nested loops off: the planner guesses one row for each folded CTE and then joins the
-- threads' messages to every other CTE row by row (1.9 s at demo scale 1, 0.1 s without).
{{ config(pre_hook="set local enable_nestloop = off") }}

with messages as (
    select * from {{ ref('int_mail__thread_messages') }}
),

routes as (
    select * from {{ ref('stg_mail__mailbox_routes') }}
),

predictions as (
    select * from {{ ref('stg_ml__email_predictions') }}
),

card_events as (
    select * from {{ ref('int_mail__card_events') }}
),

-- the files the thread carries, named once each (the same file sent twice is one name)
attachments as (
    select
        messages.thread_key,
        array_agg(distinct coalesce(nullif(a.filename, ''), a.sha256) order by
            coalesce(nullif(a.filename, ''), a.sha256))         as attachment_names
    from messages
    join {{ ref('stg_mail__email_attachments') }} as a using (email_key)
    group by messages.thread_key
),

ranked as (
    select
        messages.*,
        min(occurred_at) filter (where not is_outbound)
            over (partition by thread_key)                      as thread_first_inbound_at,
        row_number() over (
            partition by thread_key, is_outbound order by occurred_at, email_key
        )                                                       as nth_in_direction,
        row_number() over (
            partition by thread_key, is_outbound order by occurred_at desc, email_key desc
        )                                                       as nth_latest_in_direction
    from messages
),

threads as (
    select
        thread_key,
        count(*)::integer                                       as message_count,
        count(*) filter (where not is_outbound)::integer        as inbound_count,
        count(*) filter (where is_outbound)::integer            as outbound_count,
        min(occurred_at)                                        as first_message_at,
        max(occurred_at)                                        as last_message_at,
        min(occurred_at) filter (where not is_outbound)         as first_inbound_at,
        max(occurred_at) filter (where not is_outbound)         as last_inbound_at,
        max(occurred_at) filter (where is_outbound)             as last_outbound_at,
        min(occurred_at) filter (
            where is_outbound and occurred_at > thread_first_inbound_at
        )                                                       as first_response_at,
        sum(attachment_count)::integer                          as attachment_count,
        max(loaded_at)                                          as loaded_at
    from ranked
    group by thread_key
    having count(*) filter (where not is_outbound) > 0
),

first_inbound as (
    select thread_key, mailbox, subject
    from ranked
    where not is_outbound and nth_in_direction = 1
),

latest_inbound as (
    select
        ranked.thread_key,
        ranked.email_key,
        ranked.from_address,
        ranked.from_display,
        ranked.from_domain,
        ranked.snippet,
        predictions.stream,
        predictions.intent,
        predictions.confidence,
        predictions.requires_review
    from ranked
    left join predictions using (email_key)
    where not ranked.is_outbound and ranked.nth_latest_in_direction = 1
),

linked_company as (
    select distinct on (messages.thread_key)
        messages.thread_key,
        predictions.company_key,
        predictions.company_name
    from messages
    join predictions using (email_key)
    where not messages.is_outbound
      and predictions.company_key is not null
    order by messages.thread_key, messages.occurred_at desc, messages.email_key desc
),

cards as (
    select
        threads.thread_key                                      as card_id,
        threads.thread_key,
        first_inbound.mailbox,
        coalesce(first_inbound.subject, '(no subject)')         as subject,
        latest_inbound.from_address,
        latest_inbound.from_display,
        latest_inbound.from_domain,
        threads.message_count,
        threads.inbound_count,
        threads.outbound_count,
        threads.first_message_at,
        threads.last_message_at,
        threads.last_inbound_at,
        threads.last_outbound_at,
        threads.first_response_at,
        latest_inbound.email_key                                as latest_email_key,
        latest_inbound.snippet,
        threads.attachment_count,
        coalesce(attachments.attachment_names, '{}'::text[])    as attachment_names,
        -- a person's correction first; unscored mail follows its mailbox's default stream
        -- until the model has seen it
        coalesce(card_events.stream, latest_inbound.stream, routes.default_stream) as stream,
        coalesce(card_events.intent, latest_inbound.intent)     as intent,
        latest_inbound.confidence,
        card_events.stream is not null                          as reclassified,
        -- a person's classification needs no review; unscored mail does
        case
            when card_events.stream is not null then false
            else coalesce(latest_inbound.requires_review, true)
        end                                                     as requires_review,
        linked_company.company_key,
        linked_company.company_name,
        coalesce(card_events.status, 'new')                     as status,
        card_events.assignee,
        coalesce(card_events.card_version, 0)::bigint           as card_version,
        -- since when the card is in its column: its latest move, else its first customer mail
        coalesce(card_events.status_changed_at, threads.first_inbound_at) as status_changed_at,
        threads.loaded_at
    from threads
    join first_inbound using (thread_key)
    join latest_inbound using (thread_key)
    left join routes on routes.mailbox = first_inbound.mailbox
    left join linked_company using (thread_key)
    left join attachments using (thread_key)
    left join card_events on card_events.card_id = threads.thread_key
)

select * from cards
