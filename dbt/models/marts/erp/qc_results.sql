-- One row per QC parameter result against its specification. in_spec is recomputed from
-- the limits (the source's verdict only where the result is not a number). The warning
-- zone is the last 10% of the band next to a limit, inside spec. A maximum alone gets 0 as
-- its other end (impurities, moisture, colour cannot go below it). A minimum alone has no
-- band: a purity's practical ceiling is the product's, not 100% (KOH flakes of 90% min
-- run at 90-91%, and [90, 100] would put every batch in the zone).
-- Control limits (Shewhart, individuals): the mean and sample standard deviation of the
-- product's parameter over the previous qc_control_window (20) numeric results, and the
-- mean +/- 3 sigma; none until qc_control_min_results (5) previous results exist. A result
-- outside them is out of control (a process change), whether or not it is in spec.
{%- set control_window = var('qc_control_window', 20) | int %}
{%- set control_min = var('qc_control_min_results', 5) | int %}
with results as (
    select * from {{ ref('stg_focus__qc_results') }}
),

inspections as (
    select * from {{ ref('stg_focus__qc_inspections') }}
),

orders as (
    select sales_order_no, company_name, gstin from {{ ref('sales_orders') }}
),

joined as (
    select
        r.*,
        i.inspection_date,
        i.occurred_at,
        i.batch_no,
        i.product_code,
        i.product_name,
        i.sales_order_no,
        o.company_name,
        o.gstin,
        coalesce(r.min_value, case when r.max_value is not null then 0 end) as band_low,
        r.max_value                                                         as band_high,
        case
            when r.result_value is null then r.passed
            else (r.min_value is null or r.result_value >= r.min_value)
                and (r.max_value is null or r.result_value <= r.max_value)
        end                                                                 as in_spec
    from results as r
    inner join inspections as i on i.qc_doc_no = r.qc_doc_no
    left join orders as o on o.sales_order_no = i.sales_order_no
),

zoned as (
    select
        *,
        case when band_high > band_low
            then round((result_value - band_low) / (band_high - band_low), 4)
        end                                                                 as band_position,
        case
            when not coalesce(in_spec, false) or result_value is null
                or not (band_high > band_low) then null
            when min_value is not null
                and result_value <= min_value + 0.1 * (band_high - band_low) then 'min'
            when max_value is not null
                and result_value >= max_value - 0.1 * (band_high - band_low) then 'max'
        end                                                                 as warning_limit
    from joined
),

controlled as (
    select
        *,
        count(result_value) over w                                          as control_n,
        avg(result_value) over w                                            as control_mean,
        stddev_samp(result_value) over w                                    as control_sigma
    from zoned
    window w as (
        partition by product_code, param_name
        order by inspection_date, qc_doc_no, line_no
        rows between {{ control_window }} preceding and 1 preceding
    )
),

limited as (
    select
        *,
        case when control_n >= {{ control_min }}
            then control_mean - 3 * control_sigma
        end                                                                 as control_low,
        case when control_n >= {{ control_min }}
            then control_mean + 3 * control_sigma
        end                                                                 as control_high
    from controlled
)

select
    qc_result_key,
    qc_doc_no,
    line_no,
    inspection_date,
    occurred_at,
    batch_no,
    product_code,
    product_name,
    sales_order_no,
    company_name,
    gstin,
    param_name,
    unit,
    min_value,
    max_value,
    result_value,
    result_text,
    passed                                                  as source_passed,
    in_spec,
    case
        when in_spec then null
        when result_value < min_value then 'below_min'
        when result_value > max_value then 'above_max'
        else 'failed'
    end                                                     as out_of_spec_side,
    band_low,
    band_high,
    band_position,
    warning_limit,
    control_n::integer                                      as control_n,
    round(control_mean, 6)                                  as control_mean,
    round(control_sigma, 6)                                 as control_sigma,
    round(control_low, 6)                                   as control_low,
    round(control_high, 6)                                  as control_high,
    case
        when control_low is null or result_value is null then null
        else result_value < control_low or result_value > control_high
    end                                                     as out_of_control
from limited
