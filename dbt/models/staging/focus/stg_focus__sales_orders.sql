with source as (
    select * from {{ source('focus', 'focus_sales_orders') }}
),

renamed as (
    select
        doc_no                                  as sales_order_no,
        doc_date                                as order_date,
        {{ business_date_start('doc_date') }}   as occurred_at,
        customer_code,
        customer_name                           as company,
        upper(nullif(trim(gstin), ''))          as gstin,
        {{ gstin_pan('gstin') }}                as gstin_pan,
        po_ref,
        status,
        total                                   as amount_inr,
        content_hash,
        first_loaded_at,
        loaded_at
    from source
)

select * from renamed
