{#
    The inputs of a company's risk score, one row per company of the CRM master, each
    traced to the ERP or mail records it counts:

      overdue receivables   receivables (FIFO settlement, due after erp_credit_days) with
                            anything outstanding past its due date: amount and count
      payment days          the average days from invoice date to the day FIFO settlement
                            paid the invoice in full (int_erp__invoices / int_erp__payments,
                            the same rule receivables uses), over the invoices paid in full
      QC complaints         quality-complaint mail linked to the company (the classifier's
                            intent on crm_email_links) plus batches whose latest inspection
                            failed and whose order has been dispatched (qc_batches' rule,
                            read from staging so the CRM waits on no QC mart)
      GSTIN issues          GSTINs on the company's ERP and lead records that fail the
                            check character, carry another PAN than the company's, or, on a
                            record with one GSTIN, a state other than the record's state

    ERP documents reach a company through the CRM master's own placement of their source
    record (crm_company_sources): a Focus RT document through its customer code, a Tally
    voucher through its party ledger's name; else through a GSTIN or name that one
    company's ERP records carry. This model reads the receivables mart, and no ERP
    mart reads the CRM master, so there is no cycle.
#}

-- a table: its inputs scan receivables, payments and QC; crm_companies and the tests read it
{{ config(materialized='table') }}

with sources as (
    select * from {{ ref('crm_company_sources') }}
),

records as (
    select s.company_key, r.*
    from sources as s
    join {{ ref('int_crm__source_records') }} as r
      on r.source_system = s.source_system and r.source_id = s.source_id
),

-- ERP records' GSTINs and names, where exactly one company carries them
gstin_companies as (
    select g as gstin, min(company_key) as company_key
    from records cross join lateral unnest(gstins) as g
    where source_system in ('tally', 'focus')
    group by g having count(distinct company_key) = 1
),

name_companies as (
    select lower(trim(name)) as name_key, min(company_key) as company_key
    from records
    where source_system in ('tally', 'focus') and name is not null
    group by 1 having count(distinct company_key) = 1
),

focus_customers as (
    select source_id as customer_code, company_key from sources where source_system = 'focus'
),

invoice_companies as (
    select
        i.invoice_no,
        coalesce(fc.company_key, gc.company_key, nc.company_key) as company_key
    from {{ ref('int_erp__invoices') }} as i
    left join {{ ref('stg_focus__invoices') }} as f
      on i.source_system = 'focus' and f.invoice_no = i.invoice_no
    left join focus_customers as fc on fc.customer_code = f.customer_code
    left join gstin_companies as gc on gc.gstin = i.gstin
    left join name_companies as nc on nc.name_key = lower(trim(i.company_name))
),

overdue as (
    select
        ic.company_key,
        sum(r.outstanding_inr) filter (where r.days_overdue > 0)    as overdue_inr,
        count(*) filter (where r.days_overdue > 0)                  as overdue_count,
        max(r.days_overdue)                                         as max_days_overdue,
        sum(r.outstanding_inr)                                      as outstanding_inr
    from {{ ref('receivables') }} as r
    join invoice_companies as ic on ic.invoice_no = r.invoice_no
    where ic.company_key is not null
    group by ic.company_key
),

-- FIFO, as receivables settles: an invoice is paid in full on the first payment date by
-- which the party's payments cover everything billed up to and including it
billed as (
    select
        invoice_no,
        party_key,
        invoice_date,
        sum(amount_inr) over (
            partition by party_key order by invoice_date, invoice_no
        )                                                           as billed_through_inr,
        -- one row per invoice row, for the aggregate below (the number alone may repeat)
        row_number() over (order by party_key, invoice_date, invoice_no)   as billed_row
    from {{ ref('int_erp__invoices') }}
),

paid as (
    select
        party_key,
        paid_on,
        sum(amount_inr) over (
            partition by party_key order by paid_on, payment_key
        )                                                           as paid_through_inr
    from {{ ref('int_erp__payments') }}
),

-- the first payment date whose running total covers the invoice: a join on the party
-- (hashed), not a subquery per invoice that rescans every party's payments
settled as (
    select
        b.invoice_no,
        min(p.paid_on) - b.invoice_date                             as days_to_pay
    from billed as b
    left join paid as p
      on p.party_key = b.party_key and p.paid_through_inr >= b.billed_through_inr
    group by b.billed_row, b.invoice_no, b.invoice_date
),

payment_days as (
    select
        ic.company_key,
        avg(greatest(s.days_to_pay, 0))                             as payment_days,
        count(*)                                                    as paid_invoice_count
    from settled as s
    join invoice_companies as ic on ic.invoice_no = s.invoice_no
    where s.days_to_pay is not null and ic.company_key is not null
    group by ic.company_key
),

-- a batch's verdict is its latest inspection (as qc_batches has it); it counts when it
-- failed and its order has been dispatched
latest_inspections as (
    select distinct on (coalesce(batch_no, qc_doc_no))
        coalesce(batch_no, qc_doc_no)                               as batch_key,
        sales_order_no,
        passed
    from {{ ref('stg_focus__qc_inspections') }}
    order by coalesce(batch_no, qc_doc_no), inspection_date desc, qc_doc_no desc
),

failed_batches as (
    select
        coalesce(fc.company_key, gc.company_key, nc.company_key)    as company_key,
        count(distinct b.batch_key)                                 as failed_batch_count
    from latest_inspections as b
    join {{ ref('stg_focus__sales_orders') }} as o on o.sales_order_no = b.sales_order_no
    left join focus_customers as fc on fc.customer_code = o.customer_code
    left join gstin_companies as gc on gc.gstin = o.gstin
    left join name_companies as nc on nc.name_key = lower(trim(o.company))
    where not b.passed
      and exists (
        select 1 from {{ ref('int_erp__dispatch_lines') }} as d
        where d.sales_order_no = b.sales_order_no
      )
    group by 1
),

-- the classifier's latest reading of each email
intents as (
    select distinct on (email_key) email_key, intent
    from {{ ref('stg_ml__email_predictions') }}
    order by email_key, scored_at desc
),

complaint_mail as (
    select l.company_key, count(*) as complaint_email_count
    from {{ ref('crm_email_links') }} as l
    join intents as i on i.email_key = l.email_key
    where i.intent = 'quality_complaint' and l.company_key is not null
    group by l.company_key
),

company_pans as (
    select distinct on (company_key) company_key, pan
    from records where pan is not null
    group by company_key, pan
    order by company_key, count(*) desc, pan
),

gstin_checks as (
    select distinct
        r.company_key,
        g                                                           as gstin,
        not {{ gstin_is_valid('g') }}                               as is_invalid,
        {{ gstin_is_valid('g') }} and (
            substr(g, 3, 10) <> coalesce(cp.pan, substr(g, 3, 10))
            or {{ crm_state_name('substr(g, 1, 2)') }} is null
            or (cardinality(r.raw_gstins) = 1 and substr(g, 1, 2) <> r.stated_state_code)
        )                                                           as is_mismatched
    from records as r
    cross join lateral unnest(r.raw_gstins) as g
    left join company_pans as cp on cp.company_key = r.company_key
    where r.source_system in ('tally', 'focus', 'prelead')
),

gstin_issues as (
    select
        company_key,
        count(distinct gstin) filter (where is_invalid)             as invalid_count,
        count(distinct gstin) filter (where is_mismatched)          as mismatched_count,
        array_agg(distinct gstin order by gstin)
            filter (where is_invalid or is_mismatched)              as issue_gstins
    from gstin_checks
    group by company_key
),

companies as (
    select distinct company_key from sources
)

select
    c.company_key,
    coalesce(o.overdue_inr, 0)::numeric(18, 2)                      as overdue_receivables_inr,
    coalesce(o.overdue_count, 0)::integer                           as overdue_invoice_count,
    coalesce(o.max_days_overdue, 0)::integer                        as max_days_overdue,
    coalesce(o.outstanding_inr, 0)::numeric(18, 2)                  as outstanding_receivables_inr,
    round(pd.payment_days, 1)::numeric(8, 1)                        as payment_days,
    coalesce(pd.paid_invoice_count, 0)::integer                     as paid_invoice_count,
    coalesce(cm.complaint_email_count, 0)::integer                  as qc_complaint_email_count,
    coalesce(fb.failed_batch_count, 0)::integer                     as qc_failed_batch_count,
    (coalesce(cm.complaint_email_count, 0)
        + coalesce(fb.failed_batch_count, 0))::integer              as qc_complaint_count,
    coalesce(gi.invalid_count, 0)::integer                          as invalid_gstin_count,
    coalesce(gi.mismatched_count, 0)::integer                       as mismatched_gstin_count,
    (coalesce(gi.invalid_count, 0) + coalesce(gi.mismatched_count, 0))::integer
                                                                    as gstin_issue_count,
    coalesce(gi.issue_gstins, '{}'::text[])                         as issue_gstins
from companies as c
left join overdue as o using (company_key)
left join payment_days as pd using (company_key)
left join complaint_mail as cm using (company_key)
left join failed_batches as fb using (company_key)
left join gstin_issues as gi using (company_key)
