-- The payload (raw bytes of untrusted input) stays in raw.rejects: nothing downstream
-- should render or parse it again.
with source as (
    select * from {{ source('ingest', 'rejects') }}
),

renamed as (
    select
        reject_id,
        source,
        source_kind,
        locator,
        reason,
        sha256,
        payload_in_store,
        size_bytes,
        run_id,
        rejected_at             as occurred_at,
        rejected_at,
        resolved_at,
        resolved_at is not null as is_resolved
    from source
)

select * from renamed
