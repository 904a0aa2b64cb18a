-- One row per Focus RT sales order line with what has been dispatched and invoiced against
-- it. Dispatches name the order and the product, not the line: when an order holds the
-- same product twice, the earlier line is filled first.
with orders as (
    select * from {{ ref('stg_focus__sales_orders') }}
),

lines as (
    select
        l.*,
        {{ erp_product_key('l.product_name') }}     as product_key,
        -- kilograms where the unit is a mass, else the line's own unit
        coalesce(l.qty_kg, l.qty)                    as ordered_qty
    from {{ ref('stg_focus__sales_order_lines') }} as l
),

dispatched as (
    select
        sales_order_no,
        product_key,
        sum(coalesce(qty_kg, qty))                               as dispatched_qty,
        sum(coalesce(qty_kg, qty)) filter (where is_invoice)     as invoiced_qty,
        min(dispatched_on)                                       as first_dispatched_on,
        max(dispatched_on)                                       as last_dispatched_on
    from {{ ref('int_erp__dispatch_lines') }}
    where sales_order_no is not null
    group by 1, 2
),

allocated as (
    select
        lines.*,
        coalesce(sum(lines.ordered_qty) over (
            partition by lines.sales_order_no, lines.product_key
            order by lines.line_no
            rows between unbounded preceding and 1 preceding
        ), 0)                                                    as earlier_qty,
        coalesce(d.dispatched_qty, 0)                            as product_dispatched_qty,
        coalesce(d.invoiced_qty, 0)                              as product_invoiced_qty,
        d.first_dispatched_on,
        d.last_dispatched_on
    from lines
    left join dispatched as d
        on d.sales_order_no = lines.sales_order_no and d.product_key = lines.product_key
),

measured as (
    select
        *,
        least(ordered_qty, greatest(product_dispatched_qty - earlier_qty, 0)) as dispatched_qty,
        least(ordered_qty, greatest(product_invoiced_qty - earlier_qty, 0))   as invoiced_qty
    from allocated
)

select
    m.sales_order_line_key,
    m.sales_order_no,
    m.line_no,
    o.order_date,
    o.company                                                   as company_name,
    o.gstin,
    m.product_code,
    m.product_name,
    m.qty,
    m.unit,
    m.qty_kg,
    m.rate_inr,
    m.rate_inr_per_kg,
    m.amount_inr,
    m.ordered_qty,
    m.dispatched_qty,
    m.invoiced_qty,
    m.ordered_qty - m.dispatched_qty                            as pending_qty,
    m.first_dispatched_on,
    m.last_dispatched_on,
    case
        when m.ordered_qty > 0 and m.invoiced_qty >= m.ordered_qty then 'invoiced'
        when m.ordered_qty > 0 and m.dispatched_qty >= m.ordered_qty then 'dispatched'
        when m.dispatched_qty > 0 then 'part-dispatched'
        else 'open'
    end                                                         as line_status
from measured as m
left join orders as o on o.sales_order_no = m.sales_order_no
