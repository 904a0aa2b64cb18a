with source as (
    select * from {{ source('tally', 'tally_vouchers') }}
),

renamed as (
    select
        guid                                        as voucher_guid,
        voucher_type,
        -- Tally's predefined voucher types; a company's own types (e.g. "GST Sales") are
        -- named after them often enough, anything else is 'other'
        case
            when voucher_type ilike '%sales order%' then 'sales_order'
            when voucher_type ilike '%purchase order%' then 'purchase_order'
            when voucher_type ilike '%credit note%' then 'credit_note'
            when voucher_type ilike '%debit note%' then 'debit_note'
            when voucher_type ilike '%delivery note%' then 'delivery_note'
            when voucher_type ilike '%receipt note%' then 'receipt_note'
            when voucher_type ilike '%sales%' then 'sales'
            when voucher_type ilike '%purchase%' then 'purchase'
            when voucher_type ilike '%receipt%' then 'receipt'
            when voucher_type ilike '%payment%' then 'payment'
            when voucher_type ilike '%journal%' then 'journal'
            when voucher_type ilike '%contra%' then 'contra'
            else 'other'
        end                                         as voucher_class,
        voucher_number,
        voucher_date,
        {{ business_date_start('voucher_date') }}   as occurred_at,
        party                                       as company,
        upper(nullif(trim(party_gstin), ''))        as gstin,
        {{ gstin_pan('party_gstin') }}              as gstin_pan,
        reference,
        order_refs,
        is_cancelled,
        is_optional,
        -- the party's amount, positive (the parser takes its absolute value)
        total                                       as amount_inr,
        vehicle_no,
        lr_no,
        master_id,
        alter_id,
        row_hash,
        loaded_at
    from source
)

select * from renamed
