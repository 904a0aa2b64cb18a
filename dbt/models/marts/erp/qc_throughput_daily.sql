-- The lab's throughput, one row per inspection day and product: inspections, the batches
-- they tested, passed and failed verdicts, parameter results and those out of spec, and
-- the days from the order's day to the result (summed with their count, so any period's
-- average is exact: sum / count). Weeks are sums of days.
with inspections as (
    select * from {{ ref('stg_focus__qc_inspections') }}
),

results as (
    select
        qc_doc_no,
        count(*)                                    as parameter_count,
        count(*) filter (where not in_spec)         as out_of_spec_count
    from {{ ref('qc_results') }}
    group by 1
),

orders as (
    select sales_order_no, order_date from {{ ref('sales_orders') }}
),

joined as (
    select
        i.inspection_date,
        i.product_code,
        i.product_name,
        coalesce(i.batch_no, i.qc_doc_no)           as batch_key,
        i.passed,
        coalesce(r.parameter_count, 0)              as parameter_count,
        coalesce(r.out_of_spec_count, 0)            as out_of_spec_count,
        i.inspection_date - o.order_date            as days_order_to_result
    from inspections as i
    left join results as r on r.qc_doc_no = i.qc_doc_no
    left join orders as o on o.sales_order_no = i.sales_order_no
    where i.inspection_date is not null
)

select
    inspection_date,
    date_trunc('week', inspection_date)::date                       as inspection_week,
    coalesce(product_code, '?')                                     as product_code,
    max(product_name)                                               as product_name,
    count(*)::integer                                               as inspections,
    count(distinct batch_key)::integer                              as batches,
    (count(*) filter (where passed))::integer                       as passed,
    (count(*) filter (where not passed))::integer                   as failed,
    sum(parameter_count)::integer                                   as parameter_results,
    sum(out_of_spec_count)::integer                                 as out_of_spec_results,
    coalesce(sum(days_order_to_result), 0)::integer                 as order_to_result_days,
    count(days_order_to_result)::integer                            as order_to_result_count
from joined
group by inspection_date, coalesce(product_code, '?')
