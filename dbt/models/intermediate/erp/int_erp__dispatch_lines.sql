-- Every line of goods leaving against a sales order, from either system: Focus RT invoices
-- (an invoice is the dispatch document there) and Tally sales vouchers and delivery notes.
-- Tally mirrors Focus invoices under the same number, so a Tally voucher whose number is a
-- Focus invoice is the same dispatch and is dropped: each dispatch counts once.
--
-- A table: four models read it. The planner cannot estimate the voucher-class filter (a CASE
-- in stg_tally__vouchers: it guesses one voucher of thousands) and then pairs every voucher
-- with every line in a nested loop, quadratic in the vouchers (5 s at demo scale 1); hash and
-- merge joins do not care about that guess, so nested loops are off for this model alone.
{{ config(materialized='table', pre_hook="set local enable_nestloop = off") }}

with focus_invoices as (
    select * from {{ ref('stg_focus__invoices') }}
),

focus_lines as (
    select * from {{ ref('stg_focus__invoice_lines') }}
),

tally_vouchers as (
    select * from {{ ref('stg_tally__vouchers') }}
    where voucher_class in ('sales', 'delivery_note')
        and not coalesce(is_cancelled, false)
        and not coalesce(is_optional, false)
),

tally_lines as (
    select * from {{ ref('stg_tally__voucher_lines') }}
),

from_focus as (
    select
        'focus:' || l.invoice_line_key                  as dispatch_line_key,
        'focus_invoice'                                 as document_kind,
        true                                            as is_invoice,
        i.invoice_no                                    as document_no,
        i.sales_order_no,
        i.invoice_date                                  as dispatched_on,
        i.occurred_at,
        i.company                                       as company_name,
        i.gstin,
        l.product_code,
        l.product_name,
        {{ erp_product_key('l.product_name') }}         as product_key,
        l.qty,
        l.unit,
        l.qty_kg,
        l.rate_inr,
        l.rate_inr_per_kg,
        l.amount_inr
    from focus_lines as l
    inner join focus_invoices as i on i.invoice_no = l.invoice_no
),

from_tally as (
    select
        'tally:' || l.voucher_line_key                  as dispatch_line_key,
        case v.voucher_class when 'sales' then 'tally_sales'
            else 'tally_delivery_note' end              as document_kind,
        v.voucher_class = 'sales'                       as is_invoice,
        v.voucher_number                                as document_no,
        coalesce(nullif(trim(l.order_no), ''), v.order_refs[1]) as sales_order_no,
        v.voucher_date                                  as dispatched_on,
        v.occurred_at,
        v.company                                       as company_name,
        v.gstin,
        null::text                                      as product_code,
        l.product_name,
        {{ erp_product_key('l.product_name') }}         as product_key,
        l.qty,
        l.unit,
        l.qty_kg,
        l.rate_inr,
        l.rate_inr_per_kg,
        l.amount_inr
    from tally_lines as l
    inner join tally_vouchers as v on v.voucher_guid = l.voucher_guid
    where coalesce(l.stock_direction, 'out') = 'out'
        and not exists (
            select 1 from focus_invoices as f where f.invoice_no = v.voucher_number
        )
)

select * from from_focus
union all
select * from from_tally
