with source as (
    select * from {{ source('tally', 'tally_stock_items') }}
),

renamed as (
    select
        guid || '@' || extract(epoch from snapshot_at)::text as stock_item_snapshot_key,
        guid                                                 as stock_item_guid,
        name                                                 as product_name,
        aliases                                              as product_aliases,
        nullif(parent, 'Primary')                            as stock_group,
        unit,
        opening_qty,
        {{ to_kg('opening_qty', 'unit') }}                   as opening_qty_kg,
        closing_qty,
        {{ to_kg('closing_qty', 'unit') }}                   as closing_qty_kg,
        rate                                                 as rate_inr,
        {{ rate_per_kg('rate', 'unit') }}                    as rate_inr_per_kg,
        opening_value                                        as opening_value_inr,
        value                                                as closing_value_inr,
        hsn                                                  as hsn_code,
        gst_rate                                             as gst_rate_pct,
        pack,
        pack_size,
        {{ to_kg('pack_size', 'unit') }}                     as pack_size_kg,
        master_id,
        alter_id,
        snapshot_at,
        snapshot_at                                          as occurred_at,
        row_number() over (
            partition by guid order by snapshot_at desc
        ) = 1                                                as is_latest,
        row_hash,
        loaded_at
    from source
)

select * from renamed
