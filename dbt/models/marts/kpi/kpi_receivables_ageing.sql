{#
    Receivables ageing and customer value, one row per sales invoice (receivables: Focus RT
    invoices plus Tally-only sales vouchers, FIFO-settled against the party's payments),
    placed on its CRM company and aged on the ERP as-of day.

    Age is whole days from the invoice date to the as-of day (the bill-date ageing traders
    read in Tally): 0-30, 31-60, 61-90, >90. Only what is still outstanding is aged: a paid
    invoice has no bucket. is_overdue is past its due date (invoice date + erp_credit_days)
    with something outstanding, as receivables has it.

    The company is the CRM master's placement of the invoice's source record, as the risk
    score places it (int_crm__risk_inputs): a Focus RT invoice through its customer code,
    else a GSTIN or a name that exactly one company's ERP records carry. Region is the
    invoice GSTIN's state, else the company's first GSTIN's.
#}
with receivables as (
    select * from {{ ref('receivables') }}
),

sources as (
    select * from {{ ref('crm_company_sources') }}
),

records as (
    select s.company_key, r.source_system, r.name, r.gstins
    from sources as s
    join {{ ref('int_crm__source_records') }} as r
      on r.source_system = s.source_system and r.source_id = s.source_id
    where r.source_system in ('tally', 'focus')
),

gstin_companies as (
    select g as gstin, min(company_key) as company_key
    from records cross join lateral unnest(gstins) as g
    group by g having count(distinct company_key) = 1
),

name_companies as (
    select lower(trim(name)) as name_key, min(company_key) as company_key
    from records
    where name is not null
    group by 1 having count(distinct company_key) = 1
),

focus_customers as (
    select source_id as customer_code, company_key from sources where source_system = 'focus'
),

placed as (
    select
        r.*,
        coalesce(fc.company_key, gc.company_key, nc.company_key)   as company_key,
        r.as_of_date - r.invoice_date                               as age_days
    from receivables as r
    left join {{ ref('stg_focus__invoices') }} as f
      on r.source_system = 'focus' and f.invoice_no = r.invoice_no
    left join focus_customers as fc on fc.customer_code = f.customer_code
    left join gstin_companies as gc on gc.gstin = r.gstin
    left join name_companies as nc on nc.name_key = lower(trim(r.company_name))
),

buckets (ageing_bucket, ageing_bucket_rank, from_days, to_days) as (
    values ('0-30', 1, 0, 30), ('31-60', 2, 31, 60), ('61-90', 3, 61, 90), ('>90', 4, 91, null)
)

select
    p.invoice_no::text                                              as invoice_no,
    p.source_system::text                                           as source_system,
    p.invoice_date::date                                            as invoice_date,
    p.due_date::date                                                as due_date,
    p.as_of_date::date                                              as as_of_date,
    p.sales_order_no::text                                          as sales_order_no,
    p.company_key::text                                             as company_key,
    coalesce(c.name, p.company_name)::text                          as company_name,
    p.gstin::text                                                   as gstin,
    coalesce({{ crm_state_name('substr(p.gstin, 1, 2)') }}, c.gstin_states[1], 'unknown')::text
                                                                    as region,
    p.amount_inr::numeric(18, 2)                                    as amount_inr,
    p.paid_inr::numeric(18, 2)                                      as paid_inr,
    p.outstanding_inr::numeric(18, 2)                               as outstanding_inr,
    p.age_days::integer                                             as age_days,
    p.days_overdue::integer                                         as days_overdue,
    (p.days_overdue > 0)                                            as is_overdue,
    b.ageing_bucket::text                                           as ageing_bucket,
    b.ageing_bucket_rank::integer                                   as ageing_bucket_rank,
    p.payment_status::text                                          as payment_status
from placed as p
left join {{ ref('crm_companies') }} as c on c.company_key = p.company_key
left join buckets as b
  on p.outstanding_inr > 0
 and greatest(p.age_days, 0) >= b.from_days
 and (b.to_days is null or greatest(p.age_days, 0) <= b.to_days)
