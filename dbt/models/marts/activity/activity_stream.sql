{#
    Append-only and incremental: each run adds the events it has not streamed yet, never
    changes one. Sources' rows (and people's events) are picked up by when they reached the
    warehouse (loaded_at), re-reading a window of activity_stream_lookback_hours before the
    newest streamed one: writers' transactions commit out of order, so a row may become
    visible after a later one was streamed. Anything already streamed is skipped by event_id.
    Every event id is deterministic, so a --full-refresh gives the same rows.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['loaded_at']},
            {'columns': ['entity_type', 'entity_id']},
            {'columns': ['company_key']},
        ],
    )
}}

with events as (
    select * from {{ ref('int_activity__mail') }}
    union all
    select * from {{ ref('int_activity__ml') }}
    union all
    select * from {{ ref('int_activity__focus') }}
    union all
    select * from {{ ref('int_activity__tally') }}
    union all
    select * from {{ ref('int_activity__prelead') }}
    union all
    select * from {{ ref('int_activity__ops') }}
)

select
    event_id,
    event_type,
    entity_type,
    entity_id,
    company_key,
    actor,
    payload,
    occurred_at,
    loaded_at
from events
{% if is_incremental() %}
where loaded_at >= (
        select coalesce(max(streamed.loaded_at), '-infinity'::timestamptz)
            - make_interval(hours => {{ var('activity_stream_lookback_hours', 24) | int }})
        from {{ this }} as streamed
    )
  and not exists (
        select 1 from {{ this }} as streamed where streamed.event_id = events.event_id
    )
{% endif %}
