with source as (
    select * from {{ source('focus', 'focus_invoice_lines') }}
),

renamed as (
    select
        doc_no || ':' || line_no                    as invoice_line_key,
        doc_no                                      as invoice_no,
        line_no,
        item_code                                   as product_code,
        item_name                                   as product_name,
        quantity                                    as qty,
        unit,
        {{ to_kg('quantity', 'unit') }}             as qty_kg,
        rate                                        as rate_inr,
        {{ rate_per_kg('rate', 'unit') }}           as rate_inr_per_kg,
        amount                                      as amount_inr
    from source
)

select * from renamed
