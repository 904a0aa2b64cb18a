-- One row per Focus RT sales order with its status inferred from what was dispatched and
-- invoiced against its lines. Focus RT's own status is a floor, not the answer: it may
-- say "dispatched" before the dispatch document lands, and it never says "part".
with orders as (
    select * from {{ ref('stg_focus__sales_orders') }}
),

lines as (
    select * from {{ ref('sales_order_lines') }}
),

per_order as (
    select
        sales_order_no,
        count(*)                                                 as line_count,
        sum(ordered_qty)                                         as ordered_qty,
        sum(dispatched_qty)                                      as dispatched_qty,
        sum(invoiced_qty)                                        as invoiced_qty,
        min(first_dispatched_on)                                 as first_dispatched_on,
        max(last_dispatched_on)                                  as last_dispatched_on,
        case
            when bool_and(line_status = 'invoiced') then 3
            when bool_and(line_status in ('dispatched', 'invoiced')) then 2
            when bool_or(dispatched_qty > 0) then 1
            else 0
        end                                                      as documents_rank
    from lines
    group by 1
),

ranked as (
    select
        o.*,
        coalesce(p.line_count, 0)                                as line_count,
        coalesce(p.ordered_qty, 0)                               as ordered_qty,
        coalesce(p.dispatched_qty, 0)                            as dispatched_qty,
        coalesce(p.invoiced_qty, 0)                              as invoiced_qty,
        p.first_dispatched_on,
        p.last_dispatched_on,
        lower(trim(o.status)) in ('cancelled', 'canceled', 'closed - cancelled') as is_cancelled,
        greatest(
            coalesce(p.documents_rank, 0),
            case
                when lower(o.status) like '%invoiced%' then 3
                when lower(o.status) like '%part%dispatch%' then 1
                when lower(o.status) like '%dispatch%' then 2
                else 0
            end
        )                                                        as status_rank
    from orders as o
    left join per_order as p on p.sales_order_no = o.sales_order_no
)

select
    sales_order_no,
    order_date,
    occurred_at,
    company                                                      as company_name,
    gstin,
    customer_code,
    po_ref,
    amount_inr,
    line_count,
    ordered_qty,
    dispatched_qty,
    invoiced_qty,
    first_dispatched_on,
    last_dispatched_on,
    status                                                       as source_status,
    case
        when is_cancelled then 'cancelled'
        when status_rank = 3 then 'invoiced'
        when status_rank = 2 then 'dispatched'
        when status_rank = 1 then 'part-dispatched'
        else 'open'
    end                                                          as status
from ranked
