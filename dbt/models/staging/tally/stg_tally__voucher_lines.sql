with source as (
    select * from {{ source('tally', 'tally_voucher_lines') }}
),

renamed as (
    select
        voucher_guid || ':' || line_no                             as voucher_line_key,
        voucher_guid,
        line_no,
        item                                                       as product_name,
        qty,
        unit,
        {{ to_kg('qty', 'unit') }}                                 as qty_kg,
        billed_qty,
        {{ to_kg('billed_qty', 'unit') }}                          as billed_qty_kg,
        rate                                                       as rate_inr,
        rate_unit,
        {{ rate_per_kg('rate', 'coalesce(rate_unit, unit)') }}     as rate_inr_per_kg,
        abs(amount)                                                as amount_inr,
        {{ tally_stock_direction('amount') }}                      as stock_direction,
        order_no,
        godown
    from source
)

select * from renamed
