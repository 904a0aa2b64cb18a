with source as (
    select * from {{ source('focus', 'focus_qc_results') }}
),

renamed as (
    select
        doc_no || ':' || line_no    as qc_result_key,
        doc_no                      as qc_doc_no,
        line_no,
        param_name,
        unit,
        min_value,
        max_value,
        result_value,
        result_text,
        passed
    from source
)

select * from renamed
