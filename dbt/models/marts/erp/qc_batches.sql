-- One row per batch: its latest QC inspection, the verdict, the COA status and when the
-- order it went out against was first dispatched (the clock a pending COA runs against).
with inspections as (
    select
        *,
        coalesce(batch_no, qc_doc_no)                               as batch_key,
        row_number() over (
            partition by coalesce(batch_no, qc_doc_no)
            order by inspection_date desc, qc_doc_no desc
        )                                                           as recency,
        count(*) over (partition by coalesce(batch_no, qc_doc_no))  as inspection_count
    from {{ ref('stg_focus__qc_inspections') }}
),

results as (
    select
        qc_doc_no,
        count(*)                                    as parameter_count,
        count(*) filter (where not in_spec)         as out_of_spec_count,
        count(*) filter (where warning_limit is not null) as warning_count
    from {{ ref('qc_results') }}
    group by 1
),

orders as (
    select sales_order_no, company_name, gstin, first_dispatched_on
    from {{ ref('sales_orders') }}
)

select
    i.batch_key,
    i.batch_no,
    i.qc_doc_no                                     as latest_qc_doc_no,
    i.inspection_date,
    i.occurred_at,
    i.inspection_count,
    i.product_code,
    i.product_name,
    i.sales_order_no,
    o.company_name,
    o.gstin,
    i.result,
    i.passed,
    coalesce(r.parameter_count, 0)                  as parameter_count,
    coalesce(r.out_of_spec_count, 0)                as out_of_spec_count,
    coalesce(r.warning_count, 0)                    as warning_count,
    i.coa_status,
    o.first_dispatched_on                           as dispatched_on
from inspections as i
left join results as r on r.qc_doc_no = i.qc_doc_no
left join orders as o on o.sales_order_no = i.sales_order_no
where i.recency = 1
