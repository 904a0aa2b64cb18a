{#
    Products customers ask about against stock on hand, one row per product (every Tally
    stock item, and every product asked about that is not one): enquiries for it in the
    last `kpi_demand_days` (30) days up to the ERP as-of day, the kilograms they asked,
    the open deals and their kilograms, and the stock on hand (stock_levels, all items of
    the product's name). low_stock: nothing on hand, or less than either the last 30 days
    asked for or the open deals ask for (an ordered deal not yet dispatched is open).
#}
{%- set demand_days = var('kpi_demand_days', 30) | int %}

with deals as (
    select
        {{ erp_product_key('product') }}                            as product_key,
        product,
        qty_kg,
        is_open,
        enquiry_on
    from {{ ref('deal_pipeline') }}
    where product is not null
),

demand as (
    select
        product_key,
        min(product)                                                as product,
        count(*) filter (
            where enquiry_on > {{ erp_as_of_date() }} - {{ demand_days }}
              and enquiry_on <= {{ erp_as_of_date() }}
        )                                                           as enquiries,
        coalesce(sum(qty_kg) filter (
            where enquiry_on > {{ erp_as_of_date() }} - {{ demand_days }}
              and enquiry_on <= {{ erp_as_of_date() }}
        ), 0)                                                       as qty_asked_kg,
        count(*) filter (where is_open)                             as open_deals,
        coalesce(sum(qty_kg) filter (where is_open), 0)             as open_qty_kg
    from deals
    group by product_key
),

stock as (
    select
        {{ erp_product_key('product_name') }}                       as product_key,
        min(product_name)                                           as product,
        sum(closing_qty_kg)                                         as stock_on_hand_kg,
        max(as_of)                                                  as stock_as_of
    from {{ ref('stock_levels') }}
    group by {{ erp_product_key('product_name') }}
)

select
    coalesce(s.product_key, d.product_key)::text                    as product_key,
    coalesce(s.product, d.product)::text                            as product,
    coalesce(d.enquiries, 0)::integer                               as enquiries_30d,
    coalesce(d.qty_asked_kg, 0)::numeric(18, 3)                         as qty_asked_kg_30d,
    coalesce(d.open_deals, 0)::integer                              as open_deals,
    coalesce(d.open_qty_kg, 0)::numeric(18, 3)                          as open_qty_kg,
    s.stock_on_hand_kg::numeric(18, 3)                                  as stock_on_hand_kg,
    s.stock_as_of::timestamptz                                      as stock_as_of,
    (s.product_key is not null)                                     as is_stock_item,
    (
        coalesce(s.stock_on_hand_kg, 0) <= 0
        or coalesce(s.stock_on_hand_kg, 0)
            < greatest(coalesce(d.qty_asked_kg, 0), coalesce(d.open_qty_kg, 0))
    )                                                               as low_stock
from stock as s
full join demand as d on d.product_key = s.product_key
