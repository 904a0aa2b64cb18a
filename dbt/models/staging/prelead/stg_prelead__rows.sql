with source as (
    select * from {{ source('prelead', 'prelead_rows') }}
),

renamed as (
    select
        batch || ':' || row_no                  as prelead_row_key,
        batch,
        row_no,
        company_name                            as company,
        company_key,
        upper(nullif(trim(gstin), ''))          as gstin,
        {{ gstin_pan('gstin') }}                as gstin_pan,
        upper(nullif(trim(pan), ''))            as pan,
        upper(nullif(trim(cin), ''))            as cin,
        contact_person,
        -- the loader's normalised forms; what the list said stays in raw
        email_normalised                        as email,
        phone_e164                              as phone,
        city,
        coalesce(state_name, state)             as state,
        state_code,
        address,
        product_interest,
        source                                  as lead_source,
        extra,
        is_valid,
        reason_codes,
        reasons,
        duplicate_of is not null                as is_duplicate,
        duplicate_of                            as duplicate_of_row_no,
        duplicate_on,
        formula_neutralised
    from source
)

select * from renamed
