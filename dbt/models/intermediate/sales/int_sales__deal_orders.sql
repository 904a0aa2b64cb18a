{#
    The Focus RT order each deal became, at most one per deal:
    1. an order the thread names (int_sales__thread_order_refs), on or after the enquiry's
       day: its line of the deal's product when it has one, else the whole order;
    2. else an order of the same CRM company for the deal's product placed within
       `deal_order_window_days` (60) days from the enquiry's day. When several of the
       company's deals for that product could claim one order, the latest enquiry before
       it takes it (each order line is counted once).
    A named order beats an inferred one; among several of a kind the earliest order wins.
#}
-- a table, not a view: several marts and the data tests read it, and each would
-- otherwise recompute it (the mail refresh after new mail ran it six times over)
{{ config(materialized='table') }}

{%- set window_days = var('deal_order_window_days', 60) | int %}

with deals as (
    select * from {{ ref('int_sales__enquiries') }}
),

order_lines as (
    select * from {{ ref('int_sales__order_lines') }}
),

refs as (
    select * from {{ ref('int_sales__thread_order_refs') }}
),

referenced as (
    select distinct on (d.deal_key, ol.sales_order_no)
        d.deal_key,
        ol.sales_order_no,
        'order_reference'                                       as match_rule,
        1                                                       as rule_rank,
        ol.order_date,
        ol.ordered_at,
        ol.order_status,
        ol.gstin                                                as order_gstin,
        ol.won_at,
        case when ol.product_key = d.product_key then ol.ordered_qty_kg end as ordered_qty_kg,
        case
            when ol.product_key = d.product_key then ol.line_value_inr
            else ol.order_value_inr
        end                                                     as order_value_inr
    from deals as d
    join refs as r on r.thread_key = d.thread_key
    join order_lines as ol on ol.sales_order_no = r.sales_order_no
    where ol.order_date >= d.enquiry_on
    order by d.deal_key, ol.sales_order_no, ol.product_key = d.product_key desc nulls last,
        ol.product_key
),

inferred as (
    select
        d.deal_key,
        ol.sales_order_no,
        'company_product_window'                                as match_rule,
        2                                                       as rule_rank,
        ol.order_date,
        ol.ordered_at,
        ol.order_status,
        ol.gstin                                                as order_gstin,
        ol.won_at,
        ol.ordered_qty_kg,
        ol.line_value_inr                                       as order_value_inr,
        row_number() over (
            partition by ol.sales_order_no, ol.product_key
            order by d.enquiry_at desc, d.deal_key
        )                                                       as claim
    from deals as d
    join order_lines as ol
      on ol.company_key = d.company_key
     and ol.product_key = d.product_key
     and ol.order_date >= d.enquiry_on
     and ol.order_date <= d.enquiry_on + {{ window_days }}
),

candidates as (
    select * from referenced
    union all
    select
        deal_key, sales_order_no, match_rule, rule_rank, order_date, ordered_at,
        order_status, order_gstin, won_at, ordered_qty_kg, order_value_inr
    from inferred
    where claim = 1
)

select distinct on (deal_key)
    deal_key,
    sales_order_no,
    match_rule,
    ordered_at,
    order_status,
    order_gstin,
    won_at,
    ordered_qty_kg,
    order_value_inr
from candidates
order by deal_key, rule_rank, order_date, sales_order_no
