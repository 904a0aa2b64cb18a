{#
    Every message of the Kanban's threads (int_mail__thread_messages: one row per distinct
    message, replies in their root's thread) with what the deal pipeline and the mail KPIs
    need: the business day it arrived on (PEBBLE_TIMEZONE, Asia/Kolkata by default) and the
    message's own stream and intent.

    Stream and intent: a person's correction (CardReclassified) of this message first, then
    their correction of the whole thread, then the model's prediction, then the mailbox's
    default stream for mail the model has not scored yet. The latest correction wins.
#}
-- a table, not a view: several marts and the data tests read it, and each would
-- otherwise recompute it (the mail refresh after new mail ran it six times over)
{{ config(materialized='table') }}

{%- set zone = env_var("PEBBLE_TIMEZONE", "Asia/Kolkata") -%}
{%- if not modules.re.fullmatch("[A-Za-z0-9_+/-]+", zone) -%}
    {{ exceptions.raise_compiler_error("PEBBLE_TIMEZONE is not a time zone name: " ~ zone) }}
{%- endif %}

with messages as (
    select * from {{ ref('int_mail__thread_messages') }}
),

predictions as (
    select * from {{ ref('stg_ml__email_predictions') }}
),

routes as (
    select * from {{ ref('stg_mail__mailbox_routes') }}
),

corrections as (
    select
        entity_id                                   as thread_key,
        payload ->> 'email_key'                     as email_key,
        payload ->> 'stream'                        as stream,
        payload ->> 'intent'                        as intent,
        row_number() over (
            partition by entity_id, payload ->> 'email_key'
            order by entity_version desc
        )                                           as recency
    from {{ ref('stg_ops__events') }}
    where entity_type = 'card' and event_type = 'CardReclassified'
)

select
    m.email_key,
    m.thread_key,
    m.mailbox,
    m.from_address,
    m.is_outbound,
    m.occurred_at,
    (m.occurred_at at time zone '{{ zone }}')::date                 as occurred_on,
    coalesce(own.stream, whole.stream, p.stream, r.default_stream)  as stream,
    case
        when own.stream is not null then own.intent
        when whole.stream is not null then whole.intent
        else p.intent
    end                                                             as intent,
    p.company_key,
    p.company_name
from messages as m
left join predictions as p on p.email_key = m.email_key
left join routes as r on r.mailbox = m.mailbox
left join corrections as own
    on own.thread_key = m.thread_key and own.email_key = m.email_key and own.recency = 1
left join corrections as whole
    on whole.thread_key = m.thread_key and whole.email_key is null and whole.recency = 1
