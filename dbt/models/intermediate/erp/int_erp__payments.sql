-- Money received from customers: the party side of Tally receipts and credit notes (Focus
-- RT lands no payments). The party is credited, so its debit-positive amount is negative;
-- the payment is that amount turned positive.
with vouchers as (
    select * from {{ ref('stg_tally__vouchers') }}
    where voucher_class in ('receipt', 'credit_note')
        and not coalesce(is_cancelled, false)
        and not coalesce(is_optional, false)
),

entries as (
    select * from {{ ref('stg_tally__voucher_ledger_entries') }}
    where is_party
),

ledgers as (
    select company, max(gstin) as gstin
    from {{ ref('stg_tally__ledgers') }}
    group by 1
),

paid as (
    select
        v.voucher_guid || ':' || e.company       as payment_key,
        v.voucher_number,
        v.voucher_class                         as payment_kind,
        v.voucher_date                          as paid_on,
        v.occurred_at,
        e.company                               as company_name,
        coalesce(v.gstin, l.gstin)              as gstin,
        -sum(e.amount_inr)                      as amount_inr
    from vouchers as v
    inner join entries as e on e.voucher_guid = v.voucher_guid
    left join ledgers as l on l.company = e.company
    group by 1, 2, 3, 4, 5, 6, 7
)

select
    *,
    coalesce(gstin, 'name:' || lower(trim(company_name)))   as party_key
from paid
