-- One row per batch: its latest QC inspection, the verdict, the COA status and when the
-- order it went out against was first dispatched (the clock a pending COA runs against).
-- A COA pending more than erp_coa_pending_days (2) days after that dispatch is overdue
-- (qc_alerts raises coa_pending alerts by the same rule). The customer is the order's,
-- placed in the CRM master as int_sales__order_lines places orders: by its Focus RT
-- customer code, else by its GSTIN. days_order_to_result: from the order's day to the
-- batch's first QC result (negative when the batch was tested before it was ordered).
with inspections as (
    select
        *,
        coalesce(batch_no, qc_doc_no)                               as batch_key,
        row_number() over (
            partition by coalesce(batch_no, qc_doc_no)
            order by inspection_date desc, qc_doc_no desc
        )                                                           as recency,
        count(*) over (partition by coalesce(batch_no, qc_doc_no))  as inspection_count,
        min(inspection_date) over (partition by coalesce(batch_no, qc_doc_no))
                                                                    as first_inspection_date
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
    select sales_order_no, order_date, company_name, gstin, customer_code, first_dispatched_on
    from {{ ref('sales_orders') }}
),

by_customer_code as (
    select source_id as customer_code, min(company_key) as company_key
    from {{ ref('crm_company_sources') }}
    where source_system = 'focus'
    group by source_id
),

by_gstin as (
    select g.gstin, min(c.company_key) as company_key
    from {{ ref('crm_companies') }} as c
    cross join lateral unnest(c.gstins) as g (gstin)
    group by g.gstin
),

joined as (
    select
        i.*,
        o.company_name,
        o.gstin,
        o.customer_code,
        o.order_date,
        o.first_dispatched_on                       as dispatched_on,
        coalesce(bc.company_key, bg.company_key)    as company_key,
        coalesce(r.parameter_count, 0)              as parameter_count,
        coalesce(r.out_of_spec_count, 0)            as out_of_spec_count,
        coalesce(r.warning_count, 0)                as warning_count,
        case when lower(i.coa_status) = 'pending' and o.first_dispatched_on is not null
            then ({{ erp_as_of_date() }} - o.first_dispatched_on)
        end                                         as coa_pending_days
    from inspections as i
    left join results as r on r.qc_doc_no = i.qc_doc_no
    left join orders as o on o.sales_order_no = i.sales_order_no
    left join by_customer_code as bc on bc.customer_code = o.customer_code
    left join by_gstin as bg on bg.gstin = o.gstin
    where i.recency = 1
)

select
    batch_key,
    batch_no,
    qc_doc_no                                       as latest_qc_doc_no,
    inspection_date,
    occurred_at,
    inspection_count,
    product_code,
    product_name,
    sales_order_no,
    company_name,
    gstin,
    result,
    passed,
    parameter_count,
    out_of_spec_count,
    warning_count,
    coa_status,
    dispatched_on,
    customer_code,
    company_key,
    order_date,
    first_inspection_date,
    (first_inspection_date - order_date)::integer   as days_order_to_result,
    coa_pending_days::integer                       as coa_pending_days,
    coalesce(coa_pending_days > {{ var('erp_coa_pending_days', 2) | int }}, false)
                                                    as coa_overdue
from joined
