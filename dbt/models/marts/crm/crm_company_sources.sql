{#
    Every source record the CRM master placed in a company: the company key, the rule that
    decided, its score and what matched. People's corrections (ops.company_merges, folded
    from CompanyMerged / CompanySplit events) override the rules and survive rebuilds:
    a record split off a company gets a key of its own, src:<first 16 hex of
    md5(system:source_id)>; a merged company's records move to the key it was merged into
    (chains followed). The rules' own answer stays in rule_company_key.
#}

with recursive

resolved as (
    select * from {{ ref('int_crm__resolved') }}
),

merges as (
    select company_key, merged_into, split_sources
    from {{ source('ops', 'company_merges') }}
),

splits as (
    select distinct
        m.company_key,
        s ->> 'system'      as source_system,
        s ->> 'source_id'   as source_id
    from merges as m
    cross join lateral jsonb_array_elements(m.split_sources) as s
),

after_split as (
    select
        r.*,
        case
            when s.source_id is not null
                then 'src:' || left(md5(r.source_system || ':' || r.source_id), 16)
            else r.company_key
        end                             as split_key,
        s.source_id is not null         as was_split
    from resolved as r
    left join splits as s
      on s.company_key = r.company_key
     and s.source_system = r.source_system
     and s.source_id = r.source_id
),

edges as (
    select company_key, merged_into
    from merges
    where merged_into is not null and merged_into <> company_key
),

-- A -> B -> C lands on C; a cycle stops after 20 steps at a deterministic key
walk (company_key, final_key, depth) as (
    select company_key, merged_into, 1 from edges
    union all
    select w.company_key, e.merged_into, w.depth + 1
    from walk as w
    join edges as e on e.company_key = w.final_key
    where w.depth < 20
),

merged_to as (
    select distinct on (company_key) company_key, final_key
    from walk
    order by company_key, depth desc
)

select
    coalesce(m.final_key, a.split_key)::text            as company_key,
    a.source_system::text                               as source_system,
    a.source_id::text                                   as source_id,
    (case
        when a.was_split then 'manual_split'
        when m.final_key is not null then 'manual_merge'
        else a.rule
    end)::text                                          as rule,
    (case when a.was_split or m.final_key is not null then 1.0 else a.score end)::numeric(3, 2)
                                                        as score,
    a.matched_on::text                                  as matched_on,
    a.company_key::text                                 as rule_company_key
from after_split as a
left join merged_to as m on m.company_key = a.split_key
