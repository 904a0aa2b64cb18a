-- One row per Focus RT sales order with its status inferred from what was dispatched and
-- invoiced against its lines. Focus RT's own status is a floor, not the answer: it may
-- say "dispatched" before the dispatch document lands, and it never says "part".
-- dispatch_documents lists what went out against the order, newest first, with the vehicle
-- and LR the document names (what a reply about a delivery quotes).
with orders as (
    select * from {{ ref('stg_focus__sales_orders') }}
),

lines as (
    select * from {{ ref('sales_order_lines') }}
),

documents as (
    select distinct sales_order_no, document_kind, document_no, is_invoice, dispatched_on
    from {{ ref('int_erp__dispatch_lines') }}
    where sales_order_no is not null and document_no is not null
),

focus_invoices as (
    select invoice_no, vehicle_no, lr_no from {{ ref('stg_focus__invoices') }}
),

tally_vouchers as (
    select voucher_number, voucher_class, vehicle_no, lr_no
    from {{ ref('stg_tally__vouchers') }}
    where voucher_class in ('sales', 'delivery_note') and not coalesce(is_cancelled, false)
),

per_order_documents as (
    select
        d.sales_order_no,
        jsonb_agg(
            jsonb_build_object(
                'document_no', d.document_no,
                'document_kind', d.document_kind,
                'is_invoice', d.is_invoice,
                'dispatched_on', d.dispatched_on,
                'vehicle_no', coalesce(f.vehicle_no, t.vehicle_no),
                'lr_no', coalesce(f.lr_no, t.lr_no)
            )
            order by d.dispatched_on desc nulls last, d.document_no desc
        )                                                        as dispatch_documents
    from documents as d
    left join focus_invoices as f
        on d.document_kind = 'focus_invoice' and f.invoice_no = d.document_no
    left join lateral (
        select v.vehicle_no, v.lr_no
        from tally_vouchers as v
        where d.document_kind like 'tally%' and v.voucher_number = d.document_no
        order by v.vehicle_no nulls last, v.lr_no nulls last
        limit 1
    ) as t on true
    group by d.sales_order_no
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
    end                                                          as status,
    coalesce(d.dispatch_documents, '[]'::jsonb)                  as dispatch_documents
from ranked
left join per_order_documents as d using (sales_order_no)
