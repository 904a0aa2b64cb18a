-- Stock per item at every Tally sync. A sync lands a snapshot only for items that changed,
-- so each sync moment (a distinct snapshot_at) carries every item forward from its latest
-- snapshot at or before it: one row per sync and item, whether it moved or not.
with snapshots as (
    select
        *,
        lead(snapshot_at) over (
            partition by stock_item_guid order by snapshot_at
        )                                               as superseded_at
    from {{ ref('stg_tally__stock_items') }}
),

syncs as (
    select distinct snapshot_at as synced_at from snapshots
),

carried as (
    select
        s.synced_at,
        n.*
    from syncs as s
    inner join snapshots as n
        on n.snapshot_at <= s.synced_at
        and (n.superseded_at is null or s.synced_at < n.superseded_at)
)

select
    stock_item_guid || '@' || extract(epoch from synced_at)::text   as stock_history_key,
    synced_at,
    stock_item_guid,
    product_name,
    stock_group,
    unit,
    closing_qty,
    closing_qty_kg,
    rate_inr_per_kg,
    closing_value_inr,
    snapshot_at = synced_at                                          as changed_in_sync,
    closing_qty - lag(closing_qty) over (
        partition by stock_item_guid order by synced_at
    )                                                                as qty_change
from carried
