-- Tally Prime is the system of record for accounts and stock:
-- InvoiceRaised per sales voucher, PaymentReceived per receipt (the party's credit is the
-- amount received, the other side the account it went to), StockChanged per stock-item
-- snapshot whose closing quantity differs from the item's previous snapshot (the first
-- snapshot of an item is its opening position). Cancelled and optional vouchers are no events.
with vouchers as (
    select * from {{ ref('stg_tally__vouchers') }}
    where not is_cancelled and not is_optional
),

entries as (
    select * from {{ ref('stg_tally__voucher_ledger_entries') }}
),

receipts as (
    select
        v.voucher_guid,
        v.voucher_number,
        v.occurred_at,
        v.loaded_at,
        v.reference,
        v.order_refs,
        v.gstin,
        coalesce(min(e.ledger) filter (where e.is_party), v.company)    as company,
        -- debit-positive: the party's credit (what it paid us) is negative
        -sum(e.amount_inr) filter (where e.is_party)                     as received_inr,
        jsonb_agg(e.ledger order by e.entry_no) filter (where not e.is_party and e.dr_cr = 'Dr')
                                                                        as deposited_to
    from vouchers as v
    inner join entries as e on e.voucher_guid = v.voucher_guid
    where v.voucher_class = 'receipt'
    group by v.voucher_guid, v.voucher_number, v.occurred_at, v.loaded_at, v.reference,
             v.order_refs, v.gstin, v.company
),

invoiced as (
    select
        {{ activity_event_id('tally', 'voucher_guid', 'InvoiceRaised') }}      as event_id,
        'InvoiceRaised'::text                                                   as event_type,
        'invoice'::text                                                         as entity_type,
        voucher_number                                                          as entity_id,
        null::text                                                              as company_key,
        'system:tally'::text                                                    as actor,
        jsonb_strip_nulls(jsonb_build_object(
            'voucher_guid', voucher_guid,
            'voucher_type', voucher_type,
            'company_name', company,
            'gstin', gstin,
            'amount_inr', amount_inr,
            'order_refs', to_jsonb(order_refs),
            'vehicle_no', vehicle_no,
            'lr_no', lr_no
        ))                                                                      as payload,
        occurred_at,
        loaded_at
    from vouchers
    where voucher_class = 'sales'
),

paid as (
    select
        {{ activity_event_id('tally', 'voucher_guid', 'PaymentReceived') }}    as event_id,
        'PaymentReceived'::text                                                 as event_type,
        'payment'::text                                                         as entity_type,
        coalesce(voucher_number, voucher_guid)                                  as entity_id,
        null::text                                                              as company_key,
        'system:tally'::text                                                    as actor,
        jsonb_strip_nulls(jsonb_build_object(
            'voucher_guid', voucher_guid,
            'company_name', company,
            'gstin', gstin,
            'amount_inr', received_inr,
            'deposited_to', deposited_to,
            'reference', reference,
            'against', to_jsonb(order_refs)
        ))                                                                      as payload,
        occurred_at,
        loaded_at
    from receipts
    where received_inr > 0
),

snapshots as (
    select
        *,
        lag(closing_qty) over (
            partition by stock_item_guid order by snapshot_at
        ) as previous_qty,
        lag(closing_qty_kg) over (
            partition by stock_item_guid order by snapshot_at
        ) as previous_qty_kg,
        count(*) over (
            partition by stock_item_guid order by snapshot_at
        ) as snapshot_no
    from {{ ref('stg_tally__stock_items') }}
),

stock_changed as (
    select
        {{ activity_event_id('tally', "stock_item_snapshot_key", 'StockChanged') }}
                                                                                as event_id,
        'StockChanged'::text                                                    as event_type,
        'stock_item'::text                                                      as entity_type,
        stock_item_guid                                                         as entity_id,
        null::text                                                              as company_key,
        'system:tally'::text                                                    as actor,
        jsonb_strip_nulls(jsonb_build_object(
            'product_name', product_name,
            'unit', unit,
            'closing_qty', closing_qty,
            'closing_qty_kg', closing_qty_kg,
            'previous_qty', previous_qty,
            'change_qty', closing_qty - previous_qty,
            'change_qty_kg', closing_qty_kg - previous_qty_kg,
            'is_opening', snapshot_no = 1
        ))                                                                      as payload,
        snapshot_at                                                             as occurred_at,
        snapshot_at                                                             as loaded_at
    from snapshots
    where snapshot_no = 1 or closing_qty is distinct from previous_qty
)

select * from invoiced
union all
select * from paid
union all
select * from stock_changed
