-- Focus RT is the system of record for orders, dispatch and the lab:
-- OrderPlaced per sales order (not cancelled ones), OrderDispatched per dispatch row (an
-- invoice that left with a vehicle or a lorry receipt, against its order), QCResultRecorded
-- per inspection and COAIssued per inspection whose certificate was issued.
-- loaded_at is first_loaded_at: a document updated later keeps the moment it arrived.
with orders as (
    select * from {{ ref('stg_focus__sales_orders') }}
),

order_lines as (
    select
        sales_order_no,
        jsonb_agg(
            jsonb_strip_nulls(jsonb_build_object(
                'product_code', product_code, 'qty', qty, 'unit', unit, 'qty_kg', qty_kg,
                'rate_inr', rate_inr, 'amount_inr', amount_inr
            ))
            order by line_no
        ) as lines
    from {{ ref('stg_focus__sales_order_lines') }}
    group by sales_order_no
),

invoices as (
    select * from {{ ref('stg_focus__invoices') }}
),

invoice_lines as (
    select
        invoice_no,
        sum(qty_kg) as qty_kg,
        jsonb_agg(
            jsonb_strip_nulls(jsonb_build_object(
                'product_code', product_code, 'qty', qty, 'unit', unit, 'qty_kg', qty_kg
            ))
            order by line_no
        ) as lines
    from {{ ref('stg_focus__invoice_lines') }}
    group by invoice_no
),

inspections as (
    select * from {{ ref('stg_focus__qc_inspections') }}
),

failed_params as (
    select
        qc_doc_no,
        count(*)                                            as param_count,
        coalesce(
            jsonb_agg(param_name order by line_no) filter (where not passed), '[]'::jsonb
        )                                                   as failed_params
    from {{ ref('stg_focus__qc_results') }}
    group by qc_doc_no
),

placed as (
    select
        {{ activity_event_id('focus', 'o.sales_order_no', 'OrderPlaced') }}    as event_id,
        'OrderPlaced'::text                                                     as event_type,
        'sales_order'::text                                                     as entity_type,
        o.sales_order_no                                                        as entity_id,
        null::text                                                              as company_key,
        'system:focus'::text                                                    as actor,
        jsonb_strip_nulls(jsonb_build_object(
            'company_name', o.company,
            'gstin', o.gstin,
            'customer_code', o.customer_code,
            'po_ref', o.po_ref,
            'amount_inr', o.amount_inr,
            'lines', l.lines
        ))                                                                      as payload,
        o.occurred_at,
        o.first_loaded_at                                                       as loaded_at
    from orders as o
    left join order_lines as l on l.sales_order_no = o.sales_order_no
    where o.status is distinct from 'cancelled'
),

dispatched as (
    select
        {{ activity_event_id('focus', 'i.invoice_no', 'OrderDispatched') }}    as event_id,
        'OrderDispatched'::text                                                 as event_type,
        'sales_order'::text                                                     as entity_type,
        i.sales_order_no                                                        as entity_id,
        null::text                                                              as company_key,
        'system:focus'::text                                                    as actor,
        jsonb_strip_nulls(jsonb_build_object(
            'invoice_no', i.invoice_no,
            'company_name', i.company,
            'gstin', i.gstin,
            'vehicle_no', i.vehicle_no,
            'lr_no', i.lr_no,
            'qty_kg', l.qty_kg,
            'lines', l.lines
        ))                                                                      as payload,
        i.occurred_at,
        i.first_loaded_at                                                       as loaded_at
    from invoices as i
    left join invoice_lines as l on l.invoice_no = i.invoice_no
    where i.sales_order_no is not null
      and (nullif(trim(i.vehicle_no), '') is not null or nullif(trim(i.lr_no), '') is not null)
),

qc_recorded as (
    select
        {{ activity_event_id('focus', 'q.qc_doc_no', 'QCResultRecorded') }}    as event_id,
        'QCResultRecorded'::text                                                as event_type,
        'qc_inspection'::text                                                   as entity_type,
        q.qc_doc_no                                                             as entity_id,
        null::text                                                              as company_key,
        'system:focus'::text                                                    as actor,
        jsonb_strip_nulls(jsonb_build_object(
            'batch_no', q.batch_no,
            'product_code', q.product_code,
            'sales_order_no', q.sales_order_no,
            'result', q.result,
            'passed', q.passed,
            'coa_status', q.coa_status,
            'param_count', coalesce(f.param_count, 0),
            'failed_params', coalesce(f.failed_params, '[]'::jsonb)
        ))                                                                      as payload,
        q.occurred_at,
        q.first_loaded_at                                                       as loaded_at
    from inspections as q
    left join failed_params as f on f.qc_doc_no = q.qc_doc_no
),

coa_issued as (
    select
        {{ activity_event_id('focus', 'qc_doc_no', 'COAIssued') }}             as event_id,
        'COAIssued'::text                                                       as event_type,
        'qc_inspection'::text                                                   as entity_type,
        qc_doc_no                                                               as entity_id,
        null::text                                                              as company_key,
        'system:focus'::text                                                    as actor,
        jsonb_strip_nulls(jsonb_build_object(
            'batch_no', batch_no,
            'product_code', product_code,
            'sales_order_no', sales_order_no
        ))                                                                      as payload,
        occurred_at,
        first_loaded_at                                                         as loaded_at
    from inspections
    where coa_status = 'issued'
)

select * from placed
union all
select * from dispatched
union all
select * from qc_recorded
union all
select * from coa_issued
