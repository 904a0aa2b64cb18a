{#
    activity_stream with every event placed in its company as the CRM master places things
    now. The stream is append-only, so what it stored at streaming time cannot follow a
    later merge, split or better match; this view resolves at read time instead:

    - people's events that name a company keep it (link 'event');
    - an email by the CRM's link of that email (crm_email_links: unlinked mail stays
      unplaced), a card by its thread's company (email_cards);
    - a Focus order (OrderPlaced, OrderDispatched) by the order's customer, a QC inspection
      (QCResultRecorded, COAIssued) by the customer of the order it was made for;
    - a Tally sales voucher or receipt (InvoiceRaised, PaymentReceived) by its party ledger;
    - a lead row (PreleadLoaded and the people's decisions on it) by where its row went.

    Events of nobody's company (StockChanged, unlinked mail) have a NULL company_key. Every
    entity id maps to at most one company: each mapping below reads a table keyed by it.
    A view, so a merge shows in every company's history as soon as the CRM master is rebuilt.
#}
{{ config(materialized='view') }}

-- not materialized: each is read by several branches, and a filter on company_key must reach
-- every one of them

with stream as not materialized (
    select * from {{ ref('activity_stream') }}
),

sources as not materialized (
    select company_key, source_system, source_id
    from {{ ref('crm_company_sources') }}
),

orders as not materialized (
    select o.sales_order_no, s.company_key
    from {{ ref('stg_focus__sales_orders') }} as o
    inner join sources as s
      on s.source_system = 'focus' and s.source_id = o.customer_code
),

tally_parties as not materialized (
    select l.company as ledger_name, s.company_key
    from {{ ref('stg_tally__ledgers') }} as l
    inner join sources as s
      on s.source_system = 'tally' and s.source_id = l.ledger_guid
),

-- entity -> company; Tally's voucher numbers repeat across voucher types, so a Tally event
-- must also carry the voucher's GUID (in its payload)
placed as not materialized (
    select
        'email'::text as entity_type, email_key as entity_id, company_key,
        'email_link'::text as link, null::text as voucher_guid
    from {{ ref('crm_email_links') }}
    where company_key is not null
    union all
    select 'card', card_id, company_key, 'card', null
    from {{ ref('email_cards') }}
    where company_key is not null
    union all
    select 'sales_order', sales_order_no, company_key, 'focus_customer', null
    from orders
    union all
    select 'qc_inspection', q.qc_doc_no, o.company_key, 'focus_customer', null
    from {{ ref('stg_focus__qc_inspections') }} as q
    inner join orders as o on o.sales_order_no = q.sales_order_no
    union all
    select 'prelead', replace(source_id, ':', '/'), company_key, 'prelead_row', null
    from sources
    where source_system = 'prelead'
    union all
    -- entity ids as int_activity__tally makes them
    select
        case v.voucher_class when 'sales' then 'invoice' else 'payment' end,
        case v.voucher_class
            when 'sales' then v.voucher_number
            else coalesce(v.voucher_number, v.voucher_guid)
        end,
        p.company_key, 'tally_ledger', v.voucher_guid
    from {{ ref('stg_tally__vouchers') }} as v
    inner join tally_parties as p on p.ledger_name = v.company
    where v.voucher_class in ('sales', 'receipt')
),

-- branches of their own (not one outer join) so that a filter on company_key reaches each
-- mapping first and the stream is then read by its (entity_type, entity_id) index
events as (
    select a.*, a.company_key as placed_key, 'event'::text as link
    from stream as a
    where a.company_key is not null
    union all
    select a.*, p.company_key, p.link
    from placed as p
    inner join stream as a
      on a.entity_type = p.entity_type
     and a.entity_id = p.entity_id
     and (p.voucher_guid is null or a.payload ->> 'voucher_guid' = p.voucher_guid)
    where a.company_key is null
    union all
    select a.*, null::text, null::text
    from stream as a
    where a.company_key is null
      and not exists (
            select 1 from placed as p
            where p.entity_type = a.entity_type
              and p.entity_id = a.entity_id
              and (p.voucher_guid is null or a.payload ->> 'voucher_guid' = p.voucher_guid)
        )
)

select
    event_id::uuid                  as event_id,
    placed_key::text                as company_key,
    link::text                      as link,
    event_type::text                as event_type,
    entity_type::text               as entity_type,
    entity_id::text                 as entity_id,
    actor::text                     as actor,
    payload::jsonb                  as payload,
    occurred_at::timestamptz        as occurred_at
from events
