{#
    One row per tender notice read (a PDF's content hash), its fields typed. The extractor
    writes ISO datetimes (+05:30) and numbers; a value of another shape is NULL here, never
    a failed build (the raw field, with its evidence, stays in `fields`).
#}
{%- set iso_moment = "'^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])([T ]([01]\\d|2[0-3]):[0-5]\\d(:[0-5]\\d(\\.\\d+)?)?)?(Z|[+-](0\\d|1[0-4])(:?[0-5]\\d)?)?$'" -%}
{#- amounts up to 15 digits (numeric(18,2) in the mart); a confidence is a plain decimal -#}
{%- set amount = "'^-?\\d{1,15}(\\.\\d+)?$'" -%}
{%- set number = "'^-?\\d+(\\.\\d+)?$'" -%}

{#- field -> column, by type -#}
{%- set texts = {"tender_no": "tender_no", "organisation": "organisation", "emd_form": "emd_form"} -%}
{%- set amounts = {"estimated_value_inr": "estimated_value_inr", "emd_amount_inr": "emd_amount_inr",
                   "tender_fee_inr": "tender_fee_inr"} -%}
{%- set moments = {"bid_start": "bid_start_at", "bid_end": "bid_end_at",
                   "bid_opening": "bid_opening_at", "pre_bid_meeting": "pre_bid_at"} -%}
{%- set objects = {"eligibility": "eligibility", "contact": "contact"} -%}

with source as (
    select * from {{ source('tender', 'tender_documents') }}
),

renamed as (
    select
        content_sha256,
        email_key,
        filename,
        pages,
        text_method,
        text,
        ocr_seconds,
        fields,
        extractor_version,
        error,
        read_at,
        {%- for name, column in texts.items() %}
        nullif(trim(fields -> '{{ name }}' ->> 'value'), '')              as {{ column }},
        {%- endfor %}
        {%- for name, column in amounts.items() %}
        case when jsonb_typeof(fields -> '{{ name }}' -> 'value') in ('number', 'string')
                  and (fields -> '{{ name }}' ->> 'value') ~ {{ amount }}
             then round((fields -> '{{ name }}' ->> 'value')::numeric, 2) end as {{ column }},
        {%- endfor %}
        {%- for name, column in moments.items() %}
        {#- the pre-bid meeting's value is {"at": moment, "venue": text} -#}
        {%- set node = "fields -> '" ~ name ~ "' -> 'value'" ~ (" -> 'at'" if name == "pre_bid_meeting" else "") %}
        {%- set raw = "(" ~ node ~ ") #>> '{}'" %}
        case when jsonb_typeof({{ node }}) = 'string'
                  and ({{ raw }}) ~ {{ iso_moment }}
             -- a day the month has (the pattern allows 31 February)
             then case when substr({{ raw }}, 9, 2)::int <= extract(day from
                            make_date(substr({{ raw }}, 1, 4)::int, substr({{ raw }}, 6, 2)::int, 1)
                            + interval '1 month - 1 day')
                       then ({{ raw }})::timestamptz end
        end                                                              as {{ column }},
        {%- endfor %}
        case when jsonb_typeof(fields -> 'items' -> 'value') = 'array'
             then fields -> 'items' -> 'value' else '[]'::jsonb end     as items,
        {%- for name, column in objects.items() %}
        case when jsonb_typeof(fields -> '{{ name }}' -> 'value') = 'object'
             then fields -> '{{ name }}' -> 'value' end                 as {{ column }},
        {%- endfor %}
        -- the least sure of the fields found (a field without a value says nothing)
        (
            select min((f.entry ->> 'confidence')::numeric)
            from jsonb_each(case when jsonb_typeof(fields) = 'object' then fields
                                 else '{}'::jsonb end) as f (name, entry)
            where jsonb_typeof(f.entry) = 'object'
              and nullif(f.entry -> 'value', 'null'::jsonb) is not null
              and (f.entry ->> 'confidence') ~ {{ number }}
        )                                                   as min_confidence,
        -- the tender's identity: its number and organisation, normalised (case, spaces and
        -- punctuation do not make another tender); no number: the PDF itself
        regexp_replace(lower(nullif(trim(fields -> 'tender_no' ->> 'value'), '')),
                       '[^a-z0-9]+', '', 'g')
                                                            as tender_no_key,
        regexp_replace(
            regexp_replace(lower(coalesce(fields -> 'organisation' ->> 'value', '')),
                           '\m(the|ltd|limited|pvt|private)\M', '', 'g'),
            '[^a-z0-9]+', '', 'g')                          as organisation_key
    from source
)

select * from renamed
