-- The ledger entries Tally stores inside each voucher (raw.tally_vouchers.ledger_entries),
-- one row each: receipts and payments have no inventory lines, only these.
with source as (
    select * from {{ source('tally', 'tally_vouchers') }}
),

entries as (
    select
        source.guid || ':' || entry.entry_no                                 as ledger_entry_key,
        source.guid                                                          as voucher_guid,
        entry.entry_no::integer                                              as entry_no,
        entry.value ->> 'ledger'                                             as ledger,
        coalesce((entry.value ->> 'is_party')::boolean, false)               as is_party,
        -- amounts were Python floats: "-118000.0" is -118000
        trim_scale((entry.value ->> 'amount')::numeric)                      as tally_amount
    from source
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof(source.ledger_entries) = 'array' then source.ledger_entries
        else '[]'::jsonb end
    ) with ordinality as entry (value, entry_no)
),

renamed as (
    select
        ledger_entry_key,
        voucher_guid,
        entry_no,
        ledger,
        is_party,
        case when is_party then ledger end              as company,
        {{ tally_debit_positive('tally_amount') }}      as amount_inr,
        {{ tally_dr_cr('tally_amount') }}               as dr_cr
    from entries
)

select * from renamed
