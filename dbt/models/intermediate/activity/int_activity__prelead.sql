-- PreleadLoaded: one event per valid row of a loaded lead list, keyed like the people's
-- prelead events (<batch>/<row_no>), so approvals and rejections join to it.
with rows as (
    select * from {{ ref('stg_prelead__rows') }}
    where is_valid
),

batches as (
    select * from {{ ref('stg_prelead__batches') }}
)

select
    {{ activity_event_id('prelead', "r.batch || '/' || r.row_no", 'PreleadLoaded') }}
                                                        as event_id,
    'PreleadLoaded'::text                               as event_type,
    'prelead'::text                                     as entity_type,
    r.batch || '/' || r.row_no                          as entity_id,
    null::text                                          as company_key,
    'system:prelead'::text                              as actor,
    jsonb_strip_nulls(jsonb_build_object(
        'batch', r.batch,
        'row_no', r.row_no,
        'file_name', b.file_name,
        'company_name', r.company,
        'gstin', r.gstin,
        'pan', r.pan,
        'cin', r.cin,
        'state', r.state,
        'lead_source', r.lead_source,
        'is_duplicate_in_batch', r.is_duplicate
    ))                                                  as payload,
    b.occurred_at,
    b.loaded_at
from rows as r
inner join batches as b on b.batch = r.batch
