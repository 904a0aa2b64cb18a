-- Stock on hand now: each Tally stock item's latest snapshot, with its group's parent.
with stock_groups as (
    select distinct on (stock_group) stock_group, parent_stock_group
    from {{ ref('stg_tally__stock_groups') }}
    order by stock_group, loaded_at desc
)

select
    stock_item_guid,
    product_name,
    product_aliases,
    stock_group,
    stock_groups.parent_stock_group,
    unit,
    closing_qty,
    closing_qty_kg,
    rate_inr,
    rate_inr_per_kg,
    closing_value_inr,
    hsn_code,
    gst_rate_pct,
    pack,
    pack_size_kg,
    master_id,
    snapshot_at                                     as as_of
from {{ ref('stg_tally__stock_items') }}
left join stock_groups using (stock_group)
where is_latest
