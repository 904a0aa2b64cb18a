with source as (
    select * from {{ source('focus', 'focus_qc_inspections') }}
),

renamed as (
    select
        doc_no                                  as qc_doc_no,
        doc_date                                as inspection_date,
        {{ business_date_start('doc_date') }}   as occurred_at,
        batch_no,
        product_code,
        product_name,
        order_no                                as sales_order_no,
        result,
        result = 'pass'                         as passed,
        coa_status,
        content_hash,
        first_loaded_at,
        loaded_at
    from source
)

select * from renamed
