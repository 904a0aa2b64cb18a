{#
    First-response time per business day the customer wrote (kpi_first_response), per
    stream and per person: one row per day and dimension value, `dimension` saying which
    (stream, or assignee - "unassigned" for cards nobody owns). Median and 90th percentile
    (continuous) over the answered cards; `cards` counts every card, answered or not.
#}
with cards as (
    select
        first_inbound_on,
        coalesce(stream, 'unclassified')                            as stream,
        coalesce(assignee, 'unassigned')                            as assignee,
        is_responded,
        response_minutes
    from {{ ref('kpi_first_response') }}
),

grouped as (
    select
        first_inbound_on,
        case when grouping(stream) = 0 then 'stream' else 'assignee' end   as dimension,
        case when grouping(stream) = 0 then stream else assignee end      as dimension_value,
        count(*)                                                    as cards,
        count(*) filter (where is_responded)                        as responded,
        percentile_cont(0.5) within group (order by response_minutes)
            filter (where is_responded)                             as median_minutes,
        percentile_cont(0.9) within group (order by response_minutes)
            filter (where is_responded)                             as p90_minutes
    from cards
    group by grouping sets ((first_inbound_on, stream), (first_inbound_on, assignee))
)

select
    concat_ws('|', first_inbound_on, dimension, dimension_value)::text as kpi_key,
    first_inbound_on::date                                          as day,
    dimension::text                                                 as dimension,
    dimension_value::text                                           as dimension_value,
    cards::integer                                                  as cards,
    responded::integer                                              as responded,
    round(median_minutes::numeric, 1)::numeric(12, 1)                           as median_minutes,
    round(p90_minutes::numeric, 1)::numeric(12, 1)                              as p90_minutes
from grouped
