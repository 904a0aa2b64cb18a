-- Stock on hand now: each Tally stock item's latest snapshot.
select
    stock_item_guid,
    product_name,
    product_aliases,
    stock_group,
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
where is_latest
