{#
    One row per legal entity the CRM master resolved (see int_crm__resolved for the rules
    and the key). Names come from the ERP first (Tally's "(State)" suffix on a multi-GSTIN
    ledger dropped), identifiers are the most frequent among the company's records.
    group_key: companies that share a non-free-mail domain (sister firms of one group write
    from one domain); the sources carry no parent entity, so this is inferred, and NULL
    when the domain is the company's alone.
    Risk: the score (0-100) and its inputs as columns - overdue receivables, payment days,
    QC complaints, GSTIN issues - from int_crm__risk_scores (formula there).
#}

with sources as (
    select * from {{ ref('crm_company_sources') }}
),

records as (
    select
        s.company_key,
        s.source_system,
        s.source_id,
        r.name,
        r.gstins,
        r.pan,
        r.cin,
        {{ crm_company_domain('r.email') }} as email_domain,
        r.first_activity_at,
        r.last_activity_at,
        case s.source_system
            when 'tally' then 1 when 'focus' then 2 when 'prelead' then 3 else 4
        end as system_rank
    from sources as s
    join {{ ref('int_crm__source_records') }} as r
      on r.source_system = s.source_system and r.source_id = s.source_id
),

names as (
    select distinct on (company_key)
        company_key,
        regexp_replace(name, '\s*\([^)]*\)\s*$', '') as name
    from records
    where nullif(trim(name), '') is not null
    order by company_key, system_rank, source_id
),

pans as (
    select distinct on (company_key) company_key, pan
    from records where pan is not null
    group by company_key, pan
    order by company_key, count(*) desc, pan
),

cins as (
    select distinct on (company_key) company_key, cin
    from records where cin is not null
    group by company_key, cin
    order by company_key, count(*) desc, cin
),

gstins as (
    select
        company_key,
        array_agg(gstin order by gstin)                                      as gstins,
        array_agg({{ crm_state_name('substr(gstin, 1, 2)') }} order by gstin) as gstin_states
    from (
        select distinct company_key, g as gstin
        from records cross join lateral unnest(gstins) as g
    ) as d
    group by company_key
),

systems as (
    select
        company_key,
        array_agg(distinct source_system order by source_system)            as source_systems,
        jsonb_object_agg(source_system, ids)                                 as source_ids,
        sum(n)::integer                                                      as source_count
    from (
        select company_key, source_system,
               jsonb_agg(source_id order by source_id) as ids, count(*) as n
        from records
        group by company_key, source_system
    ) as per_system
    group by company_key
),

activity as (
    select company_key, min(first_activity_at) as first_activity_at,
           max(last_activity_at) as last_activity_at
    from records
    group by company_key
),

domains as (
    select distinct company_key, email_domain from records where email_domain is not null
),

shared_domains as (
    select email_domain from domains group by email_domain
    having count(distinct company_key) > 1
),

groups as (
    select d.company_key, 'group:' || min(d.email_domain) as group_key
    from domains as d
    join shared_domains using (email_domain)
    group by d.company_key
),

risk as (
    select * from {{ ref('int_crm__risk_scores') }}
)

select
    s.company_key::text                                         as company_key,
    n.name::text                                                as name,
    coalesce(p.pan, case when s.company_key like 'pan:%' then substr(s.company_key, 5) end)::text
                                                                as pan,
    c.cin::text                                                 as cin,
    coalesce(g.gstins, '{}'::text[])                            as gstins,
    coalesce(g.gstin_states, '{}'::text[])                      as gstin_states,
    gr.group_key::text                                          as group_key,
    s.source_systems::text[]                                    as source_systems,
    s.source_ids                                                as source_ids,
    s.source_count                                              as source_count,
    a.first_activity_at::timestamptz                            as first_activity_at,
    a.last_activity_at::timestamptz                             as last_activity_at,
    coalesce(rk.overdue_receivables_inr, 0)::numeric(18, 2)     as overdue_receivables_inr,
    coalesce(rk.overdue_invoice_count, 0)::integer              as overdue_invoice_count,
    coalesce(rk.max_days_overdue, 0)::integer                   as max_days_overdue,
    rk.payment_days::numeric(8, 1)                              as payment_days,
    coalesce(rk.qc_complaint_email_count, 0)::integer           as qc_complaint_email_count,
    coalesce(rk.qc_failed_batch_count, 0)::integer              as qc_failed_batch_count,
    coalesce(rk.qc_complaint_count, 0)::integer                 as qc_complaint_count,
    coalesce(rk.invalid_gstin_count, 0)::integer                as invalid_gstin_count,
    coalesce(rk.mismatched_gstin_count, 0)::integer             as mismatched_gstin_count,
    coalesce(rk.gstin_issue_count, 0)::integer                  as gstin_issue_count,
    coalesce(rk.issue_gstins, '{}'::text[])                     as issue_gstins,
    coalesce(rk.risk_points, '{}'::jsonb)                       as risk_points,
    coalesce(rk.risk_score, 0)::integer                         as risk_score
from systems as s
left join names as n using (company_key)
left join pans as p using (company_key)
left join cins as c using (company_key)
left join gstins as g using (company_key)
left join activity as a using (company_key)
left join groups as gr using (company_key)
left join risk as rk using (company_key)
