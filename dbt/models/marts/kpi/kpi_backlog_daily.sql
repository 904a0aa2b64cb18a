{#
    The backlog at the end of each business day (PEBBLE_TIMEZONE), per column, stream and
    age bucket, from the first card's day to the ERP as-of day (today, or the var
    erp_as_of_date): the last day's rows are the current snapshot.

    A card enters `new` on the day of its first customer message and changes column with
    each CardMoved event (its column at the end of a day: the day's last move, events in
    version order). Done and spam are not backlog. Age is whole days since the card
    entered its column: 0-1d entered that day, 1-3d one or two days ago, 3-7d three to six,
    >7d seven or more. The stream is the card's current one (a person's correction first).

    Computed from intervals, not card x day: each card's stay in a column is cut into one
    segment per age bucket, each segment adds +1 on its first day and -1 after its last,
    and a running sum over the days gives the count.
#}
{%- set zone = env_var("PEBBLE_TIMEZONE", "Asia/Kolkata") -%}
{%- if not modules.re.fullmatch("[A-Za-z0-9_+/-]+", zone) -%}
    {{ exceptions.raise_compiler_error("PEBBLE_TIMEZONE is not a time zone name: " ~ zone) }}
{%- endif %}

with cards as (
    select card_id, coalesce(stream, 'unclassified') as stream
    from {{ ref('email_cards') }}
),

created as (
    select thread_key as card_id, min(occurred_on) as created_on
    from {{ ref('int_sales__messages') }}
    where not is_outbound
    group by thread_key
),

changes as (
    select card_id, 0::bigint as seq, 'new'::text as status, created_on as changed_on
    from created
    union all
    select
        e.entity_id,
        e.entity_version,
        e.payload ->> 'to',
        greatest((e.occurred_at at time zone '{{ zone }}')::date, c.created_on)
    from {{ ref('stg_ops__events') }} as e
    join created as c on c.card_id = e.entity_id
    where e.entity_type = 'card' and e.event_type = 'CardMoved'
),

-- a move recorded with an earlier time than the one before it still comes after it
effective as (
    select
        *,
        max(changed_on) over (
            partition by card_id order by seq rows between unbounded preceding and current row
        )                                                               as day
    from changes
),

end_of_day as (
    select distinct on (card_id, day) card_id, day, status
    from effective
    order by card_id, day, seq desc
),

runs as (
    select *, lag(status) over (partition by card_id order by day) as previous_status
    from end_of_day
),

stays as (
    select
        card_id,
        status,
        day                                                             as entered_on,
        lead(day) over (partition by card_id order by day)              as left_on
    from runs
    where previous_status is distinct from status
),

buckets (age_bucket, age_bucket_rank, from_days, to_days) as (
    values ('0-1d', 1, 0, 1), ('1-3d', 2, 1, 3), ('3-7d', 3, 3, 7), ('>7d', 4, 7, null)
),

segments as (
    select
        s.status,
        c.stream,
        b.age_bucket,
        b.age_bucket_rank,
        s.entered_on + b.from_days                                      as first_day,
        least(
            coalesce(s.left_on, {{ erp_as_of_date() }} + 1),
            coalesce(s.entered_on + b.to_days, {{ erp_as_of_date() }} + 1)
        )                                                               as end_day
    from stays as s
    join cards as c on c.card_id = s.card_id
    cross join buckets as b
    where s.status not in ('done', 'spam')
),

deltas as (
    select status, stream, age_bucket, age_bucket_rank, day, sum(delta) as delta
    from (
        select status, stream, age_bucket, age_bucket_rank, first_day as day, 1 as delta
        from segments
        where first_day < end_day and first_day <= {{ erp_as_of_date() }}
        union all
        select status, stream, age_bucket, age_bucket_rank, end_day, -1
        from segments
        where first_day < end_day and end_day <= {{ erp_as_of_date() }}
    ) as d
    group by status, stream, age_bucket, age_bucket_rank, day
),

series as (
    select status, stream, age_bucket, age_bucket_rank, min(day) as since
    from deltas
    group by status, stream, age_bucket, age_bucket_rank
),

grid as (
    select s.status, s.stream, s.age_bucket, s.age_bucket_rank, d::date as day
    from series as s
    cross join lateral generate_series(
        s.since::timestamp, {{ erp_as_of_date() }}::timestamp, interval '1 day'
    ) as d
)

select
    concat_ws('|', g.day, g.status, g.stream, g.age_bucket)::text         as kpi_key,
    g.day::date                                                         as day,
    g.status::text                                                      as status,
    g.stream::text                                                      as stream,
    g.age_bucket::text                                                  as age_bucket,
    g.age_bucket_rank::integer                                          as age_bucket_rank,
    (sum(coalesce(d.delta, 0)) over (
        partition by g.status, g.stream, g.age_bucket order by g.day
    ))::integer                                                         as cards
from grid as g
left join deltas as d
  on d.status = g.status and d.stream = g.stream and d.age_bucket = g.age_bucket
 and d.day = g.day
