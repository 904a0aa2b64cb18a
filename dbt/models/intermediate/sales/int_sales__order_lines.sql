{#
    What a deal can turn into: each Focus RT sales order (cancelled ones excluded) per
    product, with the CRM company that placed it (its Focus customer code, else its
    GSTIN), the kilograms and value ordered of that product, and when the order was won:
    dispatched or invoiced in full (its last dispatch day, else its order day).
#}
with orders as (
    select * from {{ ref('sales_orders') }}
    where status <> 'cancelled'
),

lines as (
    select * from {{ ref('sales_order_lines') }}
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
)

select
    o.sales_order_no,
    {{ erp_product_key('l.product_name') }}                         as product_key,
    min(l.product_name)                                             as product_name,
    coalesce(min(bc.company_key), min(bg.company_key))              as company_key,
    o.gstin,
    o.order_date,
    o.occurred_at                                                   as ordered_at,
    o.status                                                        as order_status,
    sum(coalesce(l.qty_kg, l.ordered_qty))                          as ordered_qty_kg,
    sum(l.amount_inr)                                               as line_value_inr,
    o.amount_inr                                                    as order_value_inr,
    case
        when o.status in ('dispatched', 'invoiced')
            then {{ business_date_start('coalesce(o.last_dispatched_on, o.order_date)') }}
    end                                                             as won_at
from orders as o
join lines as l on l.sales_order_no = o.sales_order_no
left join by_customer_code as bc on bc.customer_code = o.customer_code
left join by_gstin as bg on bg.gstin = o.gstin
group by
    o.sales_order_no, {{ erp_product_key('l.product_name') }}, o.gstin, o.order_date,
    o.occurred_at, o.status, o.amount_inr, o.last_dispatched_on
