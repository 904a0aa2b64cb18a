with source as (
    select * from {{ source('tally', 'tally_ledgers') }}
),

renamed as (
    select
        guid                                            as ledger_guid,
        name                                            as company,
        parent                                          as ledger_group,
        case parent
            when 'Sundry Debtors' then 'customer'
            when 'Sundry Creditors' then 'supplier'
        end                                             as party_role,
        upper(nullif(trim(gstin), ''))                  as gstin,
        {{ gstin_pan('gstin') }}                        as gstin_pan,
        gstins,
        upper(nullif(trim(pan), ''))                    as pan,
        state,
        lower(nullif(trim(email), ''))                  as email,
        nullif(trim(mobile), '')                        as phone,
        address,
        {{ tally_debit_positive('opening_balance') }}   as opening_balance_inr,
        {{ tally_dr_cr('opening_balance') }}            as opening_balance_dr_cr,
        master_id,
        alter_id,
        row_hash,
        loaded_at
    from source
)

select * from renamed
