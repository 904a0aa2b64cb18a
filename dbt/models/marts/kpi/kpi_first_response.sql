{#
    First response per card: from the thread's first customer message to our first answer
    after it - an outbound message on the thread or a ReplySent event, whichever came
    first - in minutes of wall-clock time. A card not answered yet has no response time
    (it counts in `cards`, not in the percentiles, of kpi_first_response_daily).
    first_inbound_on is the business day (PEBBLE_TIMEZONE) the customer wrote.
#}
with messages as (
    select * from {{ ref('int_sales__messages') }}
),

cards as (
    select * from {{ ref('email_cards') }}
),

first_inbound as (
    select distinct on (thread_key)
        thread_key,
        occurred_at                                                 as first_inbound_at,
        occurred_on                                                 as first_inbound_on
    from messages
    where not is_outbound
    order by thread_key, occurred_at, email_key
),

first_outbound as (
    select distinct on (m.thread_key)
        m.thread_key,
        m.occurred_at                                               as responded_at,
        m.from_address                                              as responded_by
    from messages as m
    join first_inbound as f on f.thread_key = m.thread_key
    where m.is_outbound and m.occurred_at > f.first_inbound_at
    order by m.thread_key, m.occurred_at, m.email_key
),

first_sent as (
    select distinct on (e.entity_id)
        e.entity_id                                                 as thread_key,
        e.occurred_at                                               as responded_at,
        e.actor                                                     as responded_by
    from {{ ref('stg_ops__events') }} as e
    join first_inbound as f on f.thread_key = e.entity_id
    where e.entity_type = 'card' and e.event_type = 'ReplySent'
      and e.occurred_at > f.first_inbound_at
    order by e.entity_id, e.occurred_at, e.event_seq
),

answered as (
    select
        f.*,
        case
            when s.responded_at is null or o.responded_at <= s.responded_at then o.responded_at
            else s.responded_at
        end                                                         as first_response_at,
        case
            when s.responded_at is null or o.responded_at <= s.responded_at then o.responded_by
            else s.responded_by
        end                                                         as responded_by
    from first_inbound as f
    left join first_outbound as o on o.thread_key = f.thread_key
    left join first_sent as s on s.thread_key = f.thread_key
)

select
    c.card_id::text                                                 as card_id,
    c.mailbox::text                                                 as mailbox,
    c.stream::text                                                  as stream,
    c.intent::text                                                  as intent,
    c.assignee::text                                                as assignee,
    c.company_key::text                                             as company_key,
    a.first_inbound_at::timestamptz                                 as first_inbound_at,
    a.first_inbound_on::date                                        as first_inbound_on,
    a.first_response_at::timestamptz                                as first_response_at,
    a.responded_by::text                                            as responded_by,
    (a.first_response_at is not null)                               as is_responded,
    round((extract(epoch from a.first_response_at - a.first_inbound_at) / 60)::numeric, 1)
        ::numeric(12, 1)                                            as response_minutes
from cards as c
join answered as a on a.thread_key = c.card_id
