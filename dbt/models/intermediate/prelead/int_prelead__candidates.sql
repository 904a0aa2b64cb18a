{#
    Duplicate candidates: one row per (valid prelead row, CRM company) that the row may
    already be. Compared with every source record the CRM master placed in a company
    (crm_company_sources x int_crm__source_records), so a Tally ledger's own spelling counts,
    not only the master's chosen name. The row's own record (an approved lead is itself a
    CRM record) never counts: a company made of that lead alone is no duplicate of it.

    Rules and scores:
      gstin   the GSTIN is one of the record's GSTINs                          1.00
      pan     the PAN (the lead's, else the one inside its GSTIN) is the
              record's PAN (the record's, else the one inside its GSTIN)        0.95
      cin     same CIN                                                          0.95
      domain  same email domain; free-mail domains never (crm_company_domain)   0.80
      name    a record's name is similar to the lead's (int_prelead__name_similarity: trigram
              similarity of the name cores at or above var prelead_name_similarity,
              0.7); score = the similarity

    One row per company: match is the strongest rule (identifiers gstin, pan, cin first,
    then the higher of name and domain), matches every rule that hit; candidate_rank
    orders a lead's candidates the same way.
#}

{{ config(materialized='table') }}

with leads as (
    select prelead_key, gstin, pan, cin, email_domain, name_core
    from {{ ref('int_prelead__leads') }}
),

records as (
    select
        s.company_key,
        r.source_system,
        r.source_id,
        r.source_system || ':' || r.source_id       as record_id,
        r.name,
        coalesce(r.gstins, '{}'::text[])           as gstins,
        r.pan,
        r.cin,
        {{ crm_company_domain('r.email') }}         as email_domain
    from {{ ref('crm_company_sources') }} as s
    join {{ ref('int_crm__source_records') }} as r
      on r.source_system = s.source_system and r.source_id = s.source_id
),

record_gstins as (
    select r.company_key, r.record_id, g as gstin
    from records as r
    cross join lateral unnest(r.gstins) as g
),

identifier_hits as (
    select l.prelead_key, g.company_key, g.record_id, 'gstin'::text as match,
           1.00::numeric as score, l.gstin as matched_value
    from leads as l
    join record_gstins as g on g.gstin = l.gstin
    union all
    select l.prelead_key, r.company_key, r.record_id, 'pan', 0.95, l.pan
    from leads as l
    join records as r on r.pan = l.pan
    union all
    select l.prelead_key, r.company_key, r.record_id, 'cin', 0.95, l.cin
    from leads as l
    join records as r on r.cin = l.cin
    union all
    select l.prelead_key, r.company_key, r.record_id, 'domain', 0.80, l.email_domain
    from leads as l
    join records as r on r.email_domain = l.email_domain
),

-- names: the similar record names (int_prelead__name_similarity), placed in their companies
name_hits as (
    select
        l.prelead_key,
        r.company_key,
        r.record_id,
        'name'::text                                                as match,
        s.similarity                                                as score,
        r.name                                                      as matched_value
    from {{ ref('int_prelead__name_similarity') }} as s
    join leads as l on l.name_core = s.name_core
    join records as r on r.source_system = s.source_system and r.source_id = s.source_id
),

hits as (
    select prelead_key, company_key, match, round(score, 2) as score, matched_value,
           case match when 'gstin' then 1 when 'pan' then 2 when 'cin' then 3 else 4 end
               as rule_rank
    from (
        select * from identifier_hits
        union all
        select * from name_hits
    ) as h
    where record_id is not null
      and record_id <> 'prelead:' || prelead_key
),

per_company as (
    select
        prelead_key,
        company_key,
        (array_agg(match order by rule_rank, score desc, match, matched_value))[1]          as match,
        (array_agg(score order by rule_rank, score desc, match, matched_value))[1]          as score,
        (array_agg(matched_value order by rule_rank, score desc, match, matched_value))[1]  as matched_value,
        min(rule_rank)                                                       as rule_rank,
        array_agg(distinct match order by match)                             as matches
    from hits
    group by prelead_key, company_key
),

-- the systems a candidate is known in, leaving the lead's own record out
company_systems as (
    select c.prelead_key, c.company_key,
           array_agg(distinct r.source_system order by r.source_system) as source_systems
    from per_company as c
    join records as r
      on r.company_key = c.company_key
     and r.record_id <> 'prelead:' || c.prelead_key
    group by c.prelead_key, c.company_key
)

select
    c.prelead_key::text                                         as prelead_key,
    c.company_key::text                                         as company_key,
    m.name::text                                                as company_name,
    coalesce(s.source_systems, '{}'::text[])::text[]            as source_systems,
    c.match::text                                               as match,
    c.score::numeric(3, 2)                                      as score,
    c.matches::text[]                                           as matches,
    c.matched_value::text                                       as matched_value,
    row_number() over (
        partition by c.prelead_key
        order by c.rule_rank, c.score desc, c.company_key
    )::integer                                                  as candidate_rank
from per_company as c
left join {{ ref('crm_companies') }} as m on m.company_key = c.company_key
left join company_systems as s
  on s.prelead_key = c.prelead_key and s.company_key = c.company_key
