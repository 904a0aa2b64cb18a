{#
    One row per tender: the notices read (stg_tender__documents) grouped by the tender's
    identity, the latest one kept (a corrigendum or a resent notice replaces the earlier).

    - Identity: the tender number and the organisation, normalised (lower case, spaces and
      punctuation dropped, "Ltd"/"Limited"/"Pvt"/"The" ignored). tender_id is
      'tender:' || md5(number key || '|' || organisation key), the same after a rebuild;
      a notice without a number (an unreadable PDF among them) is a tender of its own,
      'tender:' || its content hash.
    - Latest: the notice from the newest mail (sent_at, else loaded_at), then the newest read.
      A field the latest notice lacks is filled from the newest earlier notice that has it
      (a corrigendum often restates only the dates it changes): its value, and in `fields`
      its evidence, marked with `from_notice` (that notice's file name).
    - matched_products: the stock items the extractor matched to the notice's items.
    - days_to_bid_end: whole days from today to the bid end date in the trader's time zone
      (PEBBLE_TIMEZONE), as of the build; the app counts from bid_end_at live.
#}
{%- set zone = env_var("PEBBLE_TIMEZONE", "Asia/Kolkata") -%}
{%- if not modules.re.fullmatch("[A-Za-z0-9_+/-]+", zone) -%}
    {{ exceptions.raise_compiler_error("PEBBLE_TIMEZONE is not a time zone name: " ~ zone) }}
{%- endif -%}

with documents as (
    select * from {{ ref('stg_tender__documents') }}
),

emails as (
    select email_key, thread_key, coalesce(sent_at, loaded_at) as received_at
    from {{ ref('stg_mail__emails') }}
),

keyed as (
    select
        case
            when coalesce(d.tender_no_key, '') <> ''
                then 'tender:' || md5(d.tender_no_key || '|' || d.organisation_key)
            else 'tender:' || d.content_sha256
        end                                     as tender_id,
        d.*,
        e.thread_key,
        e.received_at
    from documents as d
    left join emails as e on e.email_key = d.email_key
),

ranked as (
    select
        *,
        row_number() over (
            partition by tender_id
            order by received_at desc nulls last, read_at desc, content_sha256
        )                                       as recency,
        count(*) over (partition by tender_id)  as document_count
    from keyed
),

latest as (
    select * from ranked where recency = 1
),

-- per tender, each field from the newest notice that has it
filled as (
    select
        tender_id,
        {%- for column in ['estimated_value_inr', 'emd_amount_inr', 'emd_form', 'tender_fee_inr',
                           'bid_start_at', 'bid_end_at', 'bid_opening_at', 'pre_bid_at',
                           'eligibility', 'contact'] %}
        (array_agg({{ column }} order by recency) filter (where {{ column }} is not null))[1]
                                                as {{ column }},
        {%- endfor %}
        (array_agg(items order by recency)
            filter (where jsonb_typeof(items) = 'array' and jsonb_array_length(items) > 0))[1]
                                                as items
    from ranked
    group by tender_id
),

field_sources as (
    select distinct on (r.tender_id, f.key)
        r.tender_id,
        f.key,
        case
            when r.recency > 1 then f.value || jsonb_build_object('from_notice', r.filename)
            else f.value
        end                                     as value
    from ranked as r
    cross join lateral jsonb_each(coalesce(r.fields, '{}'::jsonb)) as f (key, value)
    where jsonb_typeof(f.value) = 'object' and f.value -> 'value' is not null
        and f.value -> 'value' <> 'null'::jsonb
    order by r.tender_id, f.key, r.recency
),

merged_fields as (
    select
        tender_id,
        jsonb_object_agg(key, value)            as fields,
        min((value ->> 'confidence')::numeric)  as min_confidence
    from field_sources
    group by tender_id
),

final as (
    select
        tender_id,
        tender_no,
        organisation,
        content_sha256,
        filename,
        document_count::integer                 as document_count,
        email_key,
        thread_key,
        received_at,
        text_method,
        pages,
        error,
        f.estimated_value_inr,
        f.emd_amount_inr,
        f.emd_form,
        f.tender_fee_inr,
        f.bid_start_at,
        f.bid_end_at,
        f.bid_opening_at,
        f.pre_bid_at,
        coalesce(f.items, l.items)              as items,
        f.eligibility,
        f.contact,
        coalesce(m.fields, l.fields)            as fields,
        round(coalesce(m.min_confidence, l.min_confidence), 4)::numeric(5,4)
                                                as min_confidence,
        array(
            select distinct item ->> 'product'
            from jsonb_array_elements(coalesce(f.items, l.items)) as i (item)
            where jsonb_typeof(item) = 'object' and nullif(trim(item ->> 'product'), '') is not null
            order by 1
        )::text[]                               as matched_products,
        ((f.bid_end_at at time zone '{{ zone }}')::date
            - (now() at time zone '{{ zone }}')::date)::integer
                                                as days_to_bid_end,
        extractor_version,
        read_at
    from latest as l
    inner join filled as f using (tender_id)
    left join merged_fields as m using (tender_id)
)

select * from final
