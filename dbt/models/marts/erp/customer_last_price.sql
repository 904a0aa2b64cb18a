-- The latest price each customer got for each product: from invoice lines (Focus RT and
-- Tally-only sales) and Focus RT sales order lines (cancelled orders excluded). On the same
-- day an invoice beats an order. A customer is its GSTIN where known, else its name.
with invoiced as (
    select
        document_no,
        document_kind                               as price_source,
        dispatched_on                               as priced_on,
        company_name,
        gstin,
        product_code,
        product_name,
        product_key,
        unit,
        rate_inr,
        rate_inr_per_kg,
        qty_kg,
        1                                           as source_rank
    from {{ ref('int_erp__dispatch_lines') }}
    where is_invoice and rate_inr is not null
),

ordered as (
    select
        l.sales_order_no                            as document_no,
        'focus_sales_order'                         as price_source,
        o.order_date                                as priced_on,
        o.company                                   as company_name,
        o.gstin,
        l.product_code,
        l.product_name,
        {{ erp_product_key('l.product_name') }}     as product_key,
        l.unit,
        l.rate_inr,
        l.rate_inr_per_kg,
        l.qty_kg,
        2                                           as source_rank
    from {{ ref('stg_focus__sales_order_lines') }} as l
    inner join {{ ref('stg_focus__sales_orders') }} as o on o.sales_order_no = l.sales_order_no
    where lower(coalesce(o.status, '')) not like 'cancel%' and l.rate_inr is not null
),

prices as (
    select
        *,
        coalesce(gstin, 'name:' || lower(trim(company_name))) as party_key
    from (select * from invoiced union all select * from ordered) as u
),

ranked as (
    select
        *,
        row_number() over (
            partition by party_key, product_key
            order by priced_on desc, source_rank, document_no desc
        )                                                     as recency,
        count(*) over (partition by party_key, product_key)  as price_count,
        max(product_code) over (partition by product_key)    as known_product_code
    from prices
)

select
    party_key || '|' || product_key                          as customer_product_key,
    company_name,
    gstin,
    coalesce(product_code, known_product_code)               as product_code,
    product_name,
    rate_inr                                                 as last_rate_inr,
    unit                                                     as rate_unit,
    rate_inr_per_kg                                          as last_rate_inr_per_kg,
    qty_kg                                                   as last_qty_kg,
    priced_on                                                as last_priced_on,
    price_source,
    document_no,
    price_count
from ranked
where recency = 1
