with source as (
    select * from {{ source('prelead', 'prelead_batches') }}
),

renamed as (
    select
        batch,
        file_name,
        file_sha256,
        file_kind,
        encoding,
        header_row,
        rows                    as row_count,
        valid                   as valid_count,
        invalid                 as invalid_count,
        duplicates_in_batch     as duplicate_count,
        formula_neutralised     as formula_neutralised_count,
        loaded_at               as occurred_at,
        loaded_at
    from source
)

select * from renamed
