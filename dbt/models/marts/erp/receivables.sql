-- One row per sales invoice with what has been paid against it and how late the rest is.
-- Tally lands no bill-wise allocation, so a party's payments settle its oldest invoices
-- first (FIFO). Due date: invoice date plus the credit period (var erp_credit_days, 30).
with invoices as (
    select * from {{ ref('int_erp__invoices') }}
),

paid_per_party as (
    select party_key, sum(amount_inr) as paid_inr, max(paid_on) as last_paid_on
    from {{ ref('int_erp__payments') }}
    group by 1
),

ordered as (
    select
        i.*,
        coalesce(sum(i.amount_inr) over (
            partition by i.party_key
            order by i.invoice_date, i.invoice_no
            rows between unbounded preceding and 1 preceding
        ), 0)                                                    as billed_before_inr,
        coalesce(p.paid_inr, 0)                                  as party_paid_inr,
        p.last_paid_on
    from invoices as i
    left join paid_per_party as p on p.party_key = i.party_key
),

settled as (
    select
        *,
        least(amount_inr, greatest(party_paid_inr - billed_before_inr, 0)) as paid_inr,
        invoice_date + {{ var('erp_credit_days', 30) | int }}               as due_date,
        {{ erp_as_of_date() }}                                              as as_of_date
    from ordered
)

select
    invoice_no,
    source_system,
    invoice_date,
    occurred_at,
    due_date,
    as_of_date,
    sales_order_no,
    company_name,
    gstin,
    amount_inr,
    paid_inr,
    amount_inr - paid_inr                                        as outstanding_inr,
    case
        when amount_inr - paid_inr > 0 and as_of_date > due_date then as_of_date - due_date
        else 0
    end                                                          as days_overdue,
    case
        when amount_inr - paid_inr <= 0 then 'paid'
        when paid_inr > 0 then 'part-paid'
        else 'unpaid'
    end                                                          as payment_status,
    last_paid_on                                                 as party_last_paid_on
from settled
