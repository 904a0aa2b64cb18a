{#
    One row per person, keyed by the normalised email address, merged across Tally ledger
    contacts, approved preleads and email senders. The company is the one the CRM master
    gave the person's most authoritative record (Tally, then prelead, then mail); a sender
    the master could not place is not a contact. Phone only where the source already holds
    it in E.164. is_primary: one per company - the contact on the Tally ledger first, then
    the one with the most records, then the address.
#}

with sources as (
    select * from {{ ref('crm_company_sources') }}
),

records as (
    select
        r.email,
        s.company_key,
        r.source_system,
        r.contact_name,
        r.designation,
        r.phone,
        r.first_activity_at,
        r.last_activity_at,
        case r.source_system when 'tally' then 1 when 'prelead' then 2 else 3 end as rank
    from {{ ref('int_crm__source_records') }} as r
    join sources as s on s.source_system = r.source_system and s.source_id = r.source_id
    where r.email is not null and r.email like '%_@_%'
),

people as (
    select
        email,
        (array_agg(company_key order by rank, company_key))[1]                      as company_key,
        (array_agg(contact_name order by rank desc, contact_name)
            filter (where contact_name is not null))[1]                              as name,
        (array_agg(designation order by rank, designation)
            filter (where designation is not null))[1]                               as designation,
        (array_agg(phone order by rank, phone) filter (where phone is not null))[1]  as phone,
        array_agg(distinct source_system order by source_system)                    as source_systems,
        bool_or(source_system = 'tally')                                             as on_ledger,
        count(*)                                                                     as record_count,
        min(first_activity_at)                                                       as first_activity_at,
        max(last_activity_at)                                                        as last_activity_at
    from records
    group by email
)

select
    email::text                                                 as email,
    company_key::text                                           as company_key,
    name::text                                                  as name,
    designation::text                                           as designation,
    phone::text                                                 as phone,
    source_systems::text[]                                      as source_systems,
    (row_number() over (
        partition by company_key
        order by on_ledger desc, record_count desc, email
    ) = 1)                                                      as is_primary,
    first_activity_at::timestamptz                              as first_activity_at,
    last_activity_at::timestamptz                               as last_activity_at
from people
