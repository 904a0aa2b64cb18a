with source as (
    select * from {{ source('tally', 'tally_stock_groups') }}
),

renamed as (
    select
        guid                               as stock_group_guid,
        name                               as stock_group,
        -- Tally's root group is "Primary": a top-level group has no parent
        nullif(parent, 'Primary')          as parent_stock_group,
        master_id,
        alter_id,
        row_hash,
        loaded_at
    from source
)

select * from renamed
