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
      name    trigram similarity of the name cores (macros/trigram.sql) at or
              above var prelead_name_similarity (0.7); score = the similarity

    Why 0.7: in the demo world (seed 7, scale 0.3) every respelled customer name a lead list
    carries ("Pvt. Ltd." for "Private Limited", upper case, "M/s.", glued words) scored
    1.00 against its company, the best wrong company at most 0.65, and new leads at most
    0.68 against the closest customer that is not a namesake; "Lotus Rubber Pvt. Ltd." and
    "Lotus Rubber Products Private Limited" (two firms) score 0.52.

    Blocking: a pair is compared only when it shares one of the rarest trigrams of both
    names (prefix filtering, trigram_prefix_length), which finds every pair at or above the
    threshold without comparing every lead with every company.

    One row per company: match is the strongest rule (identifiers gstin, pan, cin first,
    then the higher of name and domain), matches every rule that hit; candidate_rank
    orders a lead's candidates the same way.
#}

-- work_mem: the candidate pairs' trigrams (millions of rows at demo scale 10) are sorted
-- and counted with less spilling to temporary files
{{ config(materialized='table', pre_hook="set local work_mem = '128MB'") }}

{% set threshold = var('prelead_name_similarity', 0.7) %}

with leads as (
    select prelead_key, gstin, pan, cin, email_domain, name_core
    from {{ ref('int_prelead__leads') }}
),

-- each distinct lead name once: lists repeat companies, within and across batches
lead_names as (
    select row_number() over (order by name_core) as name_id, name_core,
           {{ trigrams('name_core') }} as name_trigrams
    from (select distinct name_core from leads where name_core is not null) as d
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

-- a company's names as its ERP records and leads spell them (a mail sender's name is a person)
variants as (
    select
        row_number() over (order by company_key, name_trigrams)     as variant_id,
        company_key,
        name,
        name_trigrams,
        record_ids
    from (
        select
            company_key,
            min(name)                                               as name,
            name_trigrams,
            array_agg(record_id order by record_id)                 as record_ids
        from (
            -- the trigrams once per record (a filter on their cardinality computed them
            -- again); a name with no core has none
            select company_key, name, record_id,
                   {{ trigrams(prelead_name_core('name')) }}        as name_trigrams
            from records
            where source_system <> 'mail' and {{ prelead_name_core('name') }} is not null
        ) as named
        group by company_key, name_trigrams
    ) as distinct_names
),

lead_tokens as (
    select l.name_id, t.token, cardinality(l.name_trigrams) as n
    from lead_names as l
    cross join lateral unnest(l.name_trigrams) as t (token)
),

variant_tokens as (
    select v.variant_id, t.token, cardinality(v.name_trigrams) as n
    from variants as v
    cross join lateral unnest(v.name_trigrams) as t (token)
),

-- one global order of trigrams, rarest among the CRM's names first (any fixed order keeps
-- prefix filtering exact; this one makes the prefixes selective). A lead's trigram that no
-- CRM name has sorts first and simply never joins.
token_frequency as (
    select token, count(*) as frequency
    from variant_tokens
    group by token
),

lead_prefix as (
    select name_id, token, n, pos
    from (
        select t.name_id, t.token, t.n,
               row_number() over (
                   partition by t.name_id order by coalesce(f.frequency, 0), t.token
               ) as pos
        from lead_tokens as t
        left join token_frequency as f using (token)
    ) as ordered
    where pos <= {{ trigram_prefix_length('n', threshold) }}
),

variant_prefix as (
    select variant_id, token, n, pos
    from (
        select t.variant_id, t.token, t.n,
               row_number() over (partition by t.variant_id order by f.frequency, t.token) as pos
        from variant_tokens as t
        join token_frequency as f using (token)
    ) as ordered
    where pos <= {{ trigram_prefix_length('n', threshold) }}
),

-- materialized: joined the other way round, the planner pairs every lead trigram with
-- every CRM trigram first. Three filters drop pairs that cannot reach the threshold t
-- before their trigrams are compared (all exact, as in PPJoin; J >= t needs
-- t / (1 + t) * (n_a + n_b) shared trigrams, multiplied out below so that numeric division
-- never rounds a pair at exactly t away):
--   size      t * n_a <= n_b <= n_a / t;
--   position  the first trigram two sets share, at positions i and j of the global order,
--             leaves at most 1 + min(n_a - i, n_b - j) shared (it is in both prefixes);
--   prefix    every shared trigram up to the earlier of the two prefixes' last trigrams is
--             in both prefixes, so at most (shared in the prefixes) + max(n_a - p_a,
--             n_b - p_b) are shared, p being the prefix lengths.
-- At demo scale 10 namesakes ("Sri Venkateswara ...") otherwise made 1.5 million pairs.
pairs as materialized (
    select lp.name_id, vp.variant_id, lp.n as lead_n, vp.n as variant_n
    from lead_prefix as lp
    join variant_prefix as vp using (token)
    where vp.n >= {{ threshold }} * lp.n
      and lp.n >= {{ threshold }} * vp.n
    group by lp.name_id, vp.variant_id, lp.n, vp.n
    having bool_or(
            (1 + {{ threshold }}) * (1 + least(lp.n - lp.pos, vp.n - vp.pos))
            >= {{ threshold }} * (lp.n + vp.n))
       and (1 + {{ threshold }}) * (count(*) + greatest(
                lp.n - least(lp.n, {{ trigram_prefix_length('lp.n', threshold) }}),
                vp.n - least(vp.n, {{ trigram_prefix_length('vp.n', threshold) }})))
            >= {{ threshold }} * (lp.n + vp.n)
),

pair_tokens as materialized (
    select p.name_id, p.variant_id, p.lead_n, p.variant_n, lt.token
    from pairs as p
    join lead_tokens as lt using (name_id)
),

-- Jaccard: shared trigrams / (both sets' sizes - shared)
similar_names as (
    select p.name_id, p.variant_id,
           count(*)::numeric / (p.lead_n + p.variant_n - count(*)) as similarity
    from pair_tokens as p
    join variant_tokens as vt on vt.variant_id = p.variant_id and vt.token = p.token
    group by p.name_id, p.variant_id, p.lead_n, p.variant_n
    having count(*)::numeric / (p.lead_n + p.variant_n - count(*)) >= {{ threshold }}
),

name_hits as (
    select
        l.prelead_key,
        v.company_key,
        -- the variant counts when one record other than the lead's own spells it
        (select min(x) from unnest(v.record_ids) as x where x <> 'prelead:' || l.prelead_key)
                                                                    as record_id,
        'name'::text                                                as match,
        s.similarity                                                as score,
        v.name                                                      as matched_value
    from similar_names as s
    join lead_names as n using (name_id)
    join leads as l on l.name_core = n.name_core
    join variants as v using (variant_id)
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
        (array_agg(match order by rule_rank, score desc, match))[1]          as match,
        (array_agg(score order by rule_rank, score desc, match))[1]          as score,
        (array_agg(matched_value order by rule_rank, score desc, match))[1]  as matched_value,
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
