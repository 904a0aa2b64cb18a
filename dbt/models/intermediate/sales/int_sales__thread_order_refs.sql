{#
    Sales orders a thread names: an ORDER_NO or PO_NO entity the ML linked to a Focus RT
    order (linking only links an order of the sender's own company), or whose value is an
    order's number exactly. One row per thread and order, with the first mention.
#}
with messages as (
    select * from {{ ref('int_sales__messages') }}
),

entities as (
    select * from {{ ref('stg_ml__email_entities') }}
    where label in ('ORDER_NO', 'PO_NO')
),

orders as (
    select sales_order_no from {{ ref('sales_orders') }}
)

select
    m.thread_key,
    o.sales_order_no,
    min(m.occurred_at)                                  as first_mentioned_at
from messages as m
join entities as e on e.email_key = m.email_key
join orders as o
  on o.sales_order_no = e.linked_to
  or (e.linked_to is null and o.sales_order_no = e.value #>> '{}')
group by m.thread_key, o.sales_order_no
