{#
    Lead names against the names of the records that found companies (Tally ledgers, Focus
    RT customers, approved leads: int_crm__erp_records; a mail sender's name is a person's):
    one row per (lead name core, record) whose trigram similarity of the name cores (macros/
    trigram.sql) is at or above var prelead_name_similarity (0.7). int_prelead__candidates
    places each record in its CRM company; this model reads neither mail nor the CRM master,
    so new mail does not recompute it (it is the costliest step of the duplicate search).

    Why 0.7: in the demo world (seed 7, scale 0.3) every respelled customer name a lead list
    carries ("Pvt. Ltd." for "Private Limited", upper case, "M/s.", glued words) scored
    1.00 against its company, the best wrong company at most 0.65, and new leads at most
    0.68 against the closest customer that is not a namesake; "Lotus Rubber Pvt. Ltd." and
    "Lotus Rubber Products Private Limited" (two firms) score 0.52.

    Blocking: a pair is compared only when it shares one of the rarest trigrams of both
    names (prefix filtering, trigram_prefix_length), which finds every pair at or above the
    threshold without comparing every lead with every record name.
#}

-- work_mem: the candidate pairs' trigrams (millions of rows at demo scale 10) are sorted
-- and counted with less spilling to temporary files
{{ config(materialized='table', pre_hook="set local work_mem = '128MB'") }}

{% set threshold = var('prelead_name_similarity', 0.7) %}

-- each distinct lead name once: lists repeat companies, within and across batches
with lead_names as (
    select row_number() over (order by name_core) as name_id, name_core,
           {{ trigrams('name_core') }} as name_trigrams
    from (
        select distinct name_core from {{ ref('int_prelead__leads') }}
        where name_core is not null
    ) as d
),

-- the trigrams once per record; a name with no core has none
record_trigrams as (
    select source_system, source_id,
           {{ trigrams(prelead_name_core('name')) }}                as name_trigrams
    from {{ ref('int_crm__erp_records') }}
    where {{ prelead_name_core('name') }} is not null
),

-- each distinct set of trigrams once: a company's records often spell it alike
variants as (
    select row_number() over (order by name_trigrams) as variant_id, name_trigrams
    from (select distinct name_trigrams from record_trigrams) as d
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
)

select
    n.name_core::text                                   as name_core,
    r.source_system::text                               as source_system,
    r.source_id::text                                   as source_id,
    s.similarity::numeric                               as similarity
from similar_names as s
join lead_names as n using (name_id)
join variants as v using (variant_id)
join record_trigrams as r on r.name_trigrams = v.name_trigrams
