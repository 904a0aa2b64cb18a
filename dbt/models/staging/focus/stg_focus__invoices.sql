with source as (
    select * from {{ source('focus', 'focus_invoices') }}
),

renamed as (
    select
        doc_no                                  as invoice_no,
        doc_date                                as invoice_date,
        {{ business_date_start('doc_date') }}   as occurred_at,
        order_no                                as sales_order_no,
        customer_code,
        customer_name                           as company,
        upper(nullif(trim(gstin), ''))          as gstin,
        {{ gstin_pan('gstin') }}                as gstin_pan,
        vehicle_no,
        lr_no,
        taxable_value                           as taxable_value_inr,
        gst_amount                              as gst_amount_inr,
        total                                   as amount_inr,
        content_hash,
        first_loaded_at,
        loaded_at
    from source
)

select * from renamed
