{#
    Customer mail volume per business day (PEBBLE_TIMEZONE), mailbox, stream and intent:
    the customer messages of the Kanban's threads (auto-replies, bounces, non-tender bulk
    mail and our own replies excluded; a copy landed twice counted once), each under its
    own stream and intent (a person's correction first: int_sales__messages). Unscored mail
    has no intent and its mailbox's default stream.
#}
with messages as (
    select * from {{ ref('int_sales__messages') }}
    where not is_outbound
),

firsts as (
    select
        *,
        occurred_at = min(occurred_at) over (partition by thread_key)  as opens_thread
    from messages
)

select
    concat_ws('|', occurred_on, coalesce(mailbox, '-'), coalesce(stream, '-'),
              coalesce(intent, '-'))::text                              as kpi_key,
    occurred_on::date                                                   as day,
    mailbox::text                                                       as mailbox,
    stream::text                                                        as stream,
    intent::text                                                        as intent,
    count(*)::integer                                                   as messages,
    count(distinct thread_key)::integer                                 as threads,
    count(distinct thread_key) filter (where opens_thread)::integer     as new_threads
from firsts
group by occurred_on, mailbox, stream, intent
