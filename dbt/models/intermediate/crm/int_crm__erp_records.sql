{#
    The source records of the systems that found companies: a Tally party ledger, a Focus RT
    customer code, an approved (or merged) prelead row, in int_crm__source_records' shape
    before its normalisation. Apart from the mail senders so that what compares names with
    these records (int_prelead__name_similarity) is not rebuilt when mail arrives.
#}

{{ config(materialized='table') }}

with tally_activity as (
    select company, min(occurred_at) as first_at, max(occurred_at) as last_at
    from {{ ref('stg_tally__vouchers') }}
    group by company
),

tally as (
    select
        'tally'::text                                           as source_system,
        l.ledger_guid                                           as source_id,
        l.company                                               as name,
        array_remove(array(
            select distinct g from unnest(array_append(
                coalesce(l.gstins, '{}'::text[]), l.gstin)) as g
            where g is not null and g <> ''
        ), null)                                                as raw_gstins,
        l.pan                                                   as stated_pan,
        null::text                                              as cin,
        l.email                                                 as email,
        l.phone                                                 as phone,
        null::text                                              as contact_name,
        null::text                                              as designation,
        coalesce(substr(l.gstin, 1, 2), {{ crm_state_code('l.state') }}) as state_code,
        {{ crm_state_code('l.state') }}                         as stated_state_code,
        null::text[]                                            as stated_phones,
        null::text[]                                            as stated_names,
        null::text[]                                            as document_customers,
        true                                                    as creates_company,
        null::text                                              as manual_company_key,
        a.first_at                                              as first_activity_at,
        a.last_at                                               as last_activity_at
    from {{ ref('stg_tally__ledgers') }} as l
    left join tally_activity as a on a.company = l.company
    where l.party_role is not null
),

focus_documents as (
    select customer_code, company, gstin, occurred_at, loaded_at
    from {{ ref('stg_focus__sales_orders') }}
    union all
    select customer_code, company, gstin, occurred_at, loaded_at
    from {{ ref('stg_focus__invoices') }}
),

focus as (
    select
        'focus'::text                                           as source_system,
        customer_code                                           as source_id,
        (array_agg(company order by occurred_at desc, company))[1] as name,
        array_remove(array_agg(distinct gstin), null)           as raw_gstins,
        null::text                                              as stated_pan,
        null::text                                              as cin,
        null::text                                              as email,
        null::text                                              as phone,
        null::text                                              as contact_name,
        null::text                                              as designation,
        min(substr(gstin, 1, 2))                                as state_code,
        null::text                                              as stated_state_code,
        null::text[]                                            as stated_phones,
        null::text[]                                            as stated_names,
        null::text[]                                            as document_customers,
        true                                                    as creates_company,
        null::text                                              as manual_company_key,
        min(occurred_at)                                        as first_activity_at,
        max(occurred_at)                                        as last_activity_at
    from focus_documents
    where customer_code is not null and customer_code <> ''
    group by customer_code
),

prelead as (
    select
        'prelead'::text                                         as source_system,
        r.prelead_row_key                                       as source_id,
        r.company                                               as name,
        array_remove(array[r.gstin], null)                      as raw_gstins,
        r.pan                                                   as stated_pan,
        r.cin                                                   as cin,
        r.email                                                 as email,
        r.phone                                                 as phone,
        r.contact_person                                        as contact_name,
        (select e.value from jsonb_each_text(coalesce(r.extra, '{}'::jsonb)) as e
         where lower(trim(e.key)) in ('designation', 'title', 'role', 'position')
         order by e.key limit 1)                                as designation,
        coalesce(r.state_code, substr(r.gstin, 1, 2))           as state_code,
        r.state_code                                            as stated_state_code,
        null::text[]                                            as stated_phones,
        null::text[]                                            as stated_names,
        null::text[]                                            as document_customers,
        true                                                    as creates_company,
        -- "this lead is a company we know" (PreleadMerged) is a person's decision: it wins
        case when d.decision = 'merged' then d.merged_into end  as manual_company_key,
        d.decided_at                                            as first_activity_at,
        d.decided_at                                            as last_activity_at
    from {{ ref('stg_prelead__rows') }} as r
    join {{ source('ops', 'prelead_decisions') }} as d
      on d.batch = r.batch and d.row_no = r.row_no
    where d.decision in ('approved', 'merged')
)

select * from tally
union all select * from focus
union all select * from prelead
