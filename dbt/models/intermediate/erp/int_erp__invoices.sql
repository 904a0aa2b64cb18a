-- Every sales invoice once: Focus RT's invoices, plus Tally sales vouchers that are not a
-- Focus invoice under the same number (dispatches booked in Tally only). party_key groups an
-- invoice with the payments of the same party: the GSTIN where known, else the name.
with focus as (
    select * from {{ ref('stg_focus__invoices') }}
),

tally as (
    select * from {{ ref('stg_tally__vouchers') }}
    where voucher_class = 'sales'
        and not coalesce(is_cancelled, false)
        and not coalesce(is_optional, false)
),

ledgers as (
    select company, max(gstin) as gstin
    from {{ ref('stg_tally__ledgers') }}
    group by 1
),

unioned as (
    select
        invoice_no,
        'focus'                                 as source_system,
        invoice_date,
        occurred_at,
        sales_order_no,
        company                                 as company_name,
        gstin,
        amount_inr
    from focus

    union all

    select
        coalesce(t.voucher_number, t.voucher_guid) as invoice_no,
        'tally'                                 as source_system,
        t.voucher_date                          as invoice_date,
        t.occurred_at,
        t.order_refs[1]                         as sales_order_no,
        t.company                               as company_name,
        coalesce(t.gstin, l.gstin)              as gstin,
        t.amount_inr
    from tally as t
    left join ledgers as l on l.company = t.company
    where not exists (select 1 from focus as f where f.invoice_no = t.voucher_number)
)

select
    *,
    coalesce(gstin, 'name:' || lower(trim(company_name)))   as party_key
from unioned
