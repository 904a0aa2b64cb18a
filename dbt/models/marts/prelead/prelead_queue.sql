{#
    The prelead screening queue: one row per valid prelead row, what marketing adjudicates.
    Decisions come from the events (ops.prelead_decisions), duplicate candidates from the
    CRM master (int_prelead__candidates), and a qualification score 0-100 that adds up
    five factors, each listed in score_reasons with its points:

      industry fit       0-25  a chemical-consuming industry (int_prelead__leads' list)
      state fit          0-15  15 where ERP customers already are, 5 another known state
      size signals       0-20  turnover 3/6/8 (>0, >=10, >=100 crore), employees 1/3/4
                               (>0, >=50, >=250), stated volume 4/6/8 (>0, >=2, >=10 MT
                               a month)
      relationship       0-20  20 already a customer (a GSTIN/PAN/CIN or >= 0.9 name
                               match on a company with a Tally or Focus record), 10 known
                               in the CRM otherwise, 5 a weaker (domain or name) candidate
      data quality       0-20  GSTIN 8 (else PAN or CIN 4), email on a company domain 5
                               (free mail 1), phone 5, contact person 2

    An existing relationship raises the score (a warm lead buys sooner); whether the lead
    is a company we already have is the candidates' question, and Merge is its answer.
#}

with leads as (
    select * from {{ ref('int_prelead__leads') }}
),

candidates as (
    select * from {{ ref('int_prelead__candidates') }}
),

erp_records as (
    select s.company_key, r.state_code, r.gstins
    from {{ ref('crm_company_sources') }} as s
    join {{ ref('int_crm__source_records') }} as r
      on r.source_system = s.source_system and r.source_id = s.source_id
    where r.source_system in ('tally', 'focus')
),

-- how many ERP companies (customers and suppliers we trade with) each state holds
erp_states as (
    select state_code, count(distinct company_key) as companies
    from (
        select company_key, state_code from erp_records where state_code is not null
        union
        select e.company_key, substr(g, 1, 2)
        from erp_records as e
        cross join lateral unnest(coalesce(e.gstins, '{}'::text[])) as g
    ) as s
    group by state_code
),

candidate_lists as (
    select
        prelead_key,
        count(*)::integer                                                   as candidate_count,
        coalesce(jsonb_agg(
            jsonb_build_object(
                'company_key', company_key,
                'name', company_name,
                'match', match,
                'score', score,
                'matches', to_jsonb(matches),
                'matched_value', matched_value,
                'source_systems', to_jsonb(source_systems)
            ) order by candidate_rank
        ) filter (where candidate_rank <= 10), '[]'::jsonb)                 as duplicate_candidates,
        min(company_key) filter (where candidate_rank = 1)                  as best_candidate_key,
        min(company_name) filter (where candidate_rank = 1)                 as best_candidate_name,
        min(match) filter (where candidate_rank = 1)                        as best_candidate_match,
        min(score) filter (where candidate_rank = 1)                        as best_candidate_score,
        -- the strongest link: an identifier, or a name all but the same
        bool_or((match in ('gstin', 'pan', 'cin') or (match = 'name' and score >= 0.9))
                and source_systems && array['tally', 'focus']::text[])      as strong_erp,
        bool_or(match in ('gstin', 'pan', 'cin') or (match = 'name' and score >= 0.9))
                                                                            as strong_any,
        (array_agg(company_name order by
            (match in ('gstin', 'pan', 'cin') or (match = 'name' and score >= 0.9))
                and source_systems && array['tally', 'focus']::text[] desc,
            candidate_rank))[1]                                             as relationship_name,
        (array_agg(array_to_string(source_systems, ', ') order by
            (match in ('gstin', 'pan', 'cin') or (match = 'name' and score >= 0.9))
                and source_systems && array['tally', 'focus']::text[] desc,
            candidate_rank))[1]                                             as relationship_systems
    from candidates
    group by prelead_key
),

-- two pending rows with one GSTIN are one company screened twice
pending_gstins as (
    select gstin,
           array_agg(prelead_key order by loaded_at, batch, row_no) as keys
    from leads
    where decision = 'pending' and gstin is not null
    group by gstin
    having count(*) > 1
),

joined as (
    select
        l.*,
        coalesce(c.candidate_count, 0)                                      as candidate_count,
        coalesce(c.duplicate_candidates, '[]'::jsonb)                       as duplicate_candidates,
        c.best_candidate_key,
        c.best_candidate_name,
        c.best_candidate_match,
        c.best_candidate_score,
        c.strong_erp,
        c.strong_any,
        c.relationship_name,
        c.relationship_systems,
        coalesce({{ crm_state_name('l.state_code') }}, l.state)            as state_label,
        coalesce(es.companies, 0)                                           as state_erp_companies,
        coalesce(array_remove(pg.keys, l.prelead_key), '{}'::text[])        as pending_same_gstin_keys,
        coalesce(l.decision = 'pending' and pg.keys[1] <> l.prelead_key, false)
                                                                            as is_queue_duplicate
    from leads as l
    left join candidate_lists as c on c.prelead_key = l.prelead_key
    left join erp_states as es on es.state_code = l.state_code
    left join pending_gstins as pg on pg.gstin = l.gstin
),

-- every factor as (factor, points, reason); the score is their sum
reasons as (
    select j.prelead_key, r.ord, r.factor, r.points, r.reason
    from joined as j
    cross join lateral (
        values
        (1, 'industry',
            coalesce(j.industry_fit_points, 0),
            case
                when j.industry is null then 'industry unknown'
                when j.industry_fit_points is null
                    then 'industry ' || j.industry || ': not a known chemical consumer'
                when j.industry_fit_points = 0
                    then 'industry ' || j.industry || ': not a chemical consumer'
                else 'industry ' || j.industry
                     || case when j.industry_source = 'name' then ' (from the name)' else '' end
            end),
        (2, 'state',
            case when j.state_code is null then 0
                 when j.state_erp_companies > 0 then 15 else 5 end,
            case
                when j.state_code is null then 'state unknown'
                when j.state_erp_companies > 0
                    then j.state_erp_companies || ' ERP compan'
                         || case when j.state_erp_companies = 1 then 'y' else 'ies' end
                         || ' in ' || j.state_label
                else j.state_label || ': no ERP customers yet'
            end),
        (3, 'size',
            case when j.turnover_inr_crore >= 100 then 8 when j.turnover_inr_crore >= 10 then 6
                 when j.turnover_inr_crore > 0 then 3 end,
            'turnover ' || trim_scale(j.turnover_inr_crore) || ' crore'),
        (4, 'size',
            case when j.employees >= 250 then 4 when j.employees >= 50 then 3
                 when j.employees > 0 then 1 end,
            j.employees || ' employees'),
        (5, 'size',
            case when j.requirement_mt_month >= 10 then 8 when j.requirement_mt_month >= 2 then 6
                 when j.requirement_mt_month > 0 then 4 end,
            'requirement ' || trim_scale(j.requirement_mt_month) || ' MT a month'),
        (6, 'size',
            case when coalesce(j.turnover_inr_crore, 0) <= 0 and coalesce(j.employees, 0) <= 0
                      and coalesce(j.requirement_mt_month, 0) <= 0 then 0 end,
            'no size signal'),
        (7, 'relationship',
            case when j.strong_erp then 20 when j.strong_any then 10
                 when j.candidate_count > 0 then 5 else 0 end,
            case
                when j.strong_erp
                    then 'already a customer: ' || j.relationship_name
                         || ' (' || j.relationship_systems || ')'
                when j.strong_any
                    then 'known in the CRM: ' || j.relationship_name
                         || ' (' || j.relationship_systems || ')'
                when j.candidate_count > 0
                    then 'possible match: ' || j.best_candidate_name || ' ('
                         || j.best_candidate_match || ' ' || j.best_candidate_score || ')'
                else 'no existing relationship'
            end),
        (8, 'data_quality',
            case when j.gstin is not null then 8
                 when j.pan is not null or j.cin is not null then 4 else 0 end,
            case when j.gstin is not null then 'valid GSTIN'
                 when j.pan is not null or j.cin is not null then 'no GSTIN; PAN or CIN given'
                 else 'no GSTIN, PAN or CIN' end),
        (9, 'data_quality',
            case when j.email_domain is not null then 5 when j.email is not null then 1 else 0 end,
            case when j.email_domain is not null then 'email on ' || j.email_domain
                 when j.email is not null then 'free-mail address'
                 else 'no email' end),
        (10, 'data_quality',
            case when j.phone is not null then 5 else 0 end,
            case when j.phone is not null then 'phone given' else 'no phone' end),
        (11, 'data_quality',
            case when j.contact_person is not null then 2 else 0 end,
            case when j.contact_person is not null then 'contact person named'
                 else 'no contact person' end)
    ) as r (ord, factor, points, reason)
    where r.points is not null
),

scored as (
    select
        prelead_key,
        sum(points)::integer                                                        as score,
        sum(points) filter (where factor = 'industry')::integer                     as industry_points,
        sum(points) filter (where factor = 'state')::integer                        as state_points,
        sum(points) filter (where factor = 'size')::integer                         as size_points,
        sum(points) filter (where factor = 'relationship')::integer                 as relationship_points,
        sum(points) filter (where factor = 'data_quality')::integer                 as data_quality_points,
        jsonb_agg(jsonb_build_object('factor', factor, 'points', points, 'reason', reason)
                  order by ord)                                                     as score_reasons
    from reasons
    group by prelead_key
)

select
    j.prelead_key::text                                 as prelead_key,
    j.prelead_id::text                                  as prelead_id,
    j.batch::text                                       as batch,
    j.row_no::integer                                   as row_no,
    j.file_name::text                                   as file_name,
    j.loaded_at::timestamptz                            as loaded_at,
    j.company_name::text                                as company_name,
    j.contact_person::text                              as contact_person,
    j.gstin::text                                       as gstin,
    j.pan::text                                         as pan,
    j.cin::text                                         as cin,
    j.email::text                                       as email,
    j.email_domain::text                                as email_domain,
    j.is_free_mail::boolean                             as is_free_mail,
    j.phone::text                                       as phone,
    j.city::text                                        as city,
    j.state_label::text                                 as state,
    j.state_code::text                                  as state_code,
    j.industry::text                                    as industry,
    j.industry_source::text                             as industry_source,
    j.turnover_inr_crore::numeric(14, 2)                as turnover_inr_crore,
    j.employees::integer                                as employees,
    j.requirement_mt_month::numeric(12, 2)              as requirement_mt_month,
    j.product_interest::text                            as product_interest,
    j.lead_source::text                                 as lead_source,
    j.extra::jsonb                                      as extra,
    j.decision::text                                    as decision,
    j.decided_by::text                                  as decided_by,
    j.decided_at::timestamptz                           as decided_at,
    j.decision_reason::text                             as decision_reason,
    j.merged_into::text                                 as merged_into,
    j.decision_version::integer                         as decision_version,
    j.duplicate_in_batch_of::text                       as duplicate_in_batch_of,
    j.pending_same_gstin_keys::text[]                   as pending_same_gstin_keys,
    j.is_queue_duplicate::boolean                       as is_queue_duplicate,
    j.duplicate_candidates::jsonb                       as duplicate_candidates,
    j.candidate_count::integer                          as candidate_count,
    j.best_candidate_key::text                          as best_candidate_key,
    j.best_candidate_name::text                         as best_candidate_name,
    j.best_candidate_match::text                        as best_candidate_match,
    j.best_candidate_score::numeric(3, 2)               as best_candidate_score,
    s.score::integer                                    as score,
    s.score_reasons::jsonb                              as score_reasons,
    s.industry_points::integer                          as industry_points,
    s.state_points::integer                             as state_points,
    s.size_points::integer                              as size_points,
    s.relationship_points::integer                      as relationship_points,
    s.data_quality_points::integer                      as data_quality_points
from joined as j
join scored as s using (prelead_key)
