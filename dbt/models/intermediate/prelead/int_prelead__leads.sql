{#
    One row per valid prelead row, with what screening and scoring need derived once:
    identifiers (PAN from the GSTIN first), the email's company domain (NULL for free mail),
    the name core (what fuzzy matching compares), the industry, the size signals the
    list carries, and the latest decision (ops.prelead_decisions, folded from the events;
    'pending' when nobody decided).

    Lead lists carry no fixed industry or size columns: the loader keeps unknown columns by
    header in `extra`. Industry is read from an industry-like column (Industry, Sector,
    Segment, Nature of Business...), else from the company name's words ("Lotus Rubber" is
    rubber). Size: a turnover column (unit from the value or the header: crore, lakh,
    million, billion; bare rupees above 1 lakh; a bare small number is read as crore, the
    unit Indian lists state turnover in), an employees column, and a stated volume ("monthly
    requirement 5 MT", per year divided by 12) in any extra column or the product interest.
#}

{{ config(materialized='table') }}

{#-
    Industries by keyword, most specific first, with their fit points: how much of what we
    sell the industry buys (25 core chemical consumers, 20 food-grade only, 10-15 consumers
    of a few products, 0 not a chemical consumer). A stem matches the start of a word
    ("chem": chemicals, chemtech), a whole word only itself ("ink", not "inkjet"); a
    two-word keyword matches spaced or glued ("home care", "homecare").
-#}
{%- set industries = [
    ('rubber', 25, ['tyre', 'tire', 'rubber', 'elastomer', 'latex'], []),
    ('paints', 25, ['paint', 'coating', 'colour', 'color', 'resin', 'varnish', 'pigment'], ['ink', 'inks']),
    ('detergents', 25, ['detergent', 'soap', 'surfactant', 'cleaning', 'home care'], []),
    ('pharma', 25, ['pharma', 'life science', 'healthcare', 'drug', 'formulation'], ['api']),
    ('textiles', 25, ['textile', 'dye', 'processor', 'fabric', 'garment', 'yarn', 'spinning', 'weaving'], []),
    ('water', 25, ['enviro', 'effluent', 'aqua'], ['water']),
    ('plastics', 25, ['plastic', 'polymer', 'pipe', 'profile', 'packaging'], ['pvc']),
    ('glass', 25, ['glass', 'ceramic', 'tile', 'sanitary ware', 'refractor'], []),
    ('leather', 25, ['leather', 'tanner'], []),
    ('paper', 25, ['paper', 'pulp'], ['board', 'boards']),
    ('agrochemicals', 25, ['agrochem', 'agro chem', 'pesticide', 'fertili', 'crop care', 'crop science'], []),
    ('cosmetics', 25, ['cosmetic', 'personal care', 'perfum'], []),
    ('chemicals', 25, ['chem', 'specialit', 'petrochem'], []),
    ('metals', 15, ['metal', 'steel', 'foundry', 'galvani', 'electroplat', 'engineering'], []),
    ('food', 20, ['food', 'beverage', 'baker', 'dairy', 'confection'], ['agro']),
    ('construction', 10, ['construction', 'cement', 'concrete', 'infra'], []),
    ('services', 0, ['software', 'infotech', 'technologies', 'consult', 'finance', 'insurance', 'real estate', 'travel', 'media', 'it service'], []),
] -%}
{%- set keyword_rows = [] -%}
{%- for name, points, stem_list, whole_list in industries -%}
    {%- set priority = loop.index -%}
    {%- set needles = [] -%}
    {%- for k in stem_list -%}
        {%- do needles.append(' ' ~ k) -%}
        {%- if ' ' in k %}{% do needles.append(' ' ~ k.replace(' ', '')) %}{% endif -%}
    {%- endfor -%}
    {%- for k in whole_list %}{% do needles.append(' ' ~ k ~ ' ') %}{% endfor -%}
    {%- for needle in needles -%}
        {%- do keyword_rows.append("(%d, '%s', %d, '%s')" % (priority, name, points, needle)) -%}
    {%- endfor -%}
{%- endfor %}

with rows as (
    select * from {{ ref('stg_prelead__rows') }}
    where is_valid
),

batches as (
    select batch, file_name, loaded_at from {{ ref('stg_prelead__batches') }}
),

decisions as (
    select * from {{ source('ops', 'prelead_decisions') }}
),

-- the industry keywords as the text to find in " <words> ": " chem" (a stem: the start of
-- a word), " ink " (a whole word); a two-word keyword also glued (" home care", " homecare")
keywords (priority, industry, fit_points, needle) as (
    values
        {{ keyword_rows | join(',\n        ') }}
),

extras as (
    select
        r.prelead_row_key,
        lower(regexp_replace(e.key, '[^A-Za-z]', '', 'g'))       as key_letters,
        lower(e.key)                                             as key_lower,
        -- a neutralised formula keeps its leading apostrophe in the stored cell
        ltrim(e.value, '''')                                     as value
    from rows as r
    cross join lateral jsonb_each_text(coalesce(r.extra, '{}'::jsonb)) as e
),

stated_industry as (
    select distinct on (prelead_row_key) prelead_row_key, value as industry_text
    from extras
    where key_letters ~ '^(industry|industrytype|sector|segment|natureofbusiness|businesstype|business|category|typeofbusiness|vertical)$'
    order by prelead_row_key, key_letters
),

turnover as (
    select distinct on (prelead_row_key)
        prelead_row_key,
        key_lower || ' ' || lower(value)                                     as unit_text,
        (regexp_match(replace(value, ',', ''), '([0-9]+(\.[0-9]+)?)'))[1]::numeric as amount
    from extras
    where key_letters ~ '(turnover|revenue|annualsales|salesturnover)'
      and replace(value, ',', '') ~ '[0-9]'
    order by prelead_row_key, key_letters
),

employees as (
    select distinct on (prelead_row_key)
        prelead_row_key,
        (regexp_match(replace(value, ',', ''), '([0-9]+)'))[1]::integer     as employees
    from extras
    where key_letters ~ '(employees?|staff|headcount|manpower|workers|workforce)'
      and value ~ '[0-9]'
      and length((regexp_match(replace(value, ',', ''), '([0-9]+)'))[1]) <= 7
    order by prelead_row_key, key_letters
),

-- "Monthly requirement 5 MT", "60 tons per annum": the first volume stated anywhere
volumes as (
    select distinct on (prelead_row_key)
        prelead_row_key,
        (m[1])::numeric
            * case when m[4] ~ '^k' then 0.001 else 1 end
            / case when lower(t.body) ~ '(per annum|\mp\.? ?a\.?\M|per year|yearly|annual)' then 12 else 1 end
                                                                             as requirement_mt_month
    from (
        select prelead_row_key, 0 as ord, value as body from extras
        union all
        select prelead_row_key, 1, product_interest from rows where product_interest is not null
    ) as t
    cross join lateral regexp_match(
        lower(t.body), '([0-9]+(\.[0-9]+)?)\s*(mt|tons?|tonnes?|(kgs?))\M') as m
    where m is not null
    order by prelead_row_key, ord
),

leads as (
    select
        r.prelead_row_key,
        r.batch,
        r.row_no,
        r.batch || '/' || r.row_no                                          as prelead_id,
        b.file_name,
        b.loaded_at,
        r.company                                                           as company_name,
        r.contact_person,
        r.gstin,
        coalesce(r.gstin_pan, r.pan)                                        as pan,
        r.cin,
        r.email,
        {{ crm_company_domain('r.email') }}                                 as email_domain,
        split_part(r.email, '@', 2) = any({{ crm_free_mail_domains() }})   as is_free_mail,
        r.phone,
        r.city,
        r.state,
        coalesce(r.state_code, substr(r.gstin, 1, 2))                       as state_code,
        r.product_interest,
        r.lead_source,
        r.extra,
        case when r.is_duplicate then r.batch || ':' || r.duplicate_of_row_no end
                                                                            as duplicate_in_batch_of,
        si.industry_text,
        -- what the industry keywords are looked for in: " <lower-case words> "
        ' ' || regexp_replace(lower(coalesce(si.industry_text, r.company)), '[^a-z0-9]+', ' ', 'g')
            || ' '                                                          as industry_body,
        {{ prelead_name_core('r.company') }}                                as name_core,
        case
            when t.amount is null then null
            when t.unit_text ~ '(billion|\mbn\M|arab)' then t.amount * 100
            when t.unit_text ~ '(crore|\mcr\M|\mcrs\M)' then t.amount
            when t.unit_text ~ '(lakh|\mlac|\mlacs\M|\mlakhs?\M)' then t.amount / 100
            when t.unit_text ~ '(million|\mmn\M|\mmio\M)' then t.amount / 10
            when t.amount >= 100000 then t.amount / 10000000
            else t.amount
        end::numeric(14, 2)                                                 as turnover_inr_crore,
        e.employees,
        v.requirement_mt_month::numeric(12, 2)                              as requirement_mt_month,
        coalesce(d.decision, 'pending')                                     as decision,
        d.decided_by,
        d.decided_at,
        d.reason                                                            as decision_reason,
        d.merged_into,
        coalesce(d.version, 0)                                              as decision_version
    from rows as r
    join batches as b on b.batch = r.batch
    left join stated_industry as si on si.prelead_row_key = r.prelead_row_key
    left join turnover as t on t.prelead_row_key = r.prelead_row_key
    left join employees as e on e.prelead_row_key = r.prelead_row_key
    left join volumes as v on v.prelead_row_key = r.prelead_row_key
    left join decisions as d on d.batch = r.batch and d.row_no = r.row_no
),

-- every industry keyword in the stated industry, else in the company name; the most
-- specific industry (first in the list) wins
matched_industry as (
    select distinct on (t.prelead_row_key)
        t.prelead_row_key, k.industry, k.fit_points
    from leads as t
    join keywords as k on strpos(t.industry_body, k.needle) > 0
    order by t.prelead_row_key, k.priority
),

with_industry as (
    select
        l.*,
        i.industry,
        i.fit_points                                                        as industry_fit_points,
        case when i.industry is null then null
             when l.industry_text is not null then 'stated' else 'name' end as industry_source
    from leads as l
    left join matched_industry as i on i.prelead_row_key = l.prelead_row_key
)

select
    prelead_row_key::text                   as prelead_key,
    prelead_id::text                        as prelead_id,
    batch::text                             as batch,
    row_no::integer                         as row_no,
    file_name::text                         as file_name,
    loaded_at::timestamptz                  as loaded_at,
    company_name::text                      as company_name,
    contact_person::text                    as contact_person,
    gstin::text                             as gstin,
    pan::text                               as pan,
    cin::text                               as cin,
    email::text                             as email,
    email_domain::text                      as email_domain,
    coalesce(is_free_mail, false)           as is_free_mail,
    phone::text                             as phone,
    city::text                              as city,
    state::text                             as state,
    state_code::text                        as state_code,
    product_interest::text                  as product_interest,
    lead_source::text                       as lead_source,
    extra                                   as extra,
    duplicate_in_batch_of::text             as duplicate_in_batch_of,
    coalesce(industry, nullif(trim(industry_text), ''))::text as industry,
    industry_source::text                   as industry_source,
    industry_fit_points::integer            as industry_fit_points,
    turnover_inr_crore,
    employees::integer                      as employees,
    requirement_mt_month,
    name_core::text                         as name_core,
    decision::text                          as decision,
    decided_by::text                        as decided_by,
    decided_at::timestamptz                 as decided_at,
    decision_reason::text                   as decision_reason,
    merged_into::text                       as merged_into,
    decision_version::integer               as decision_version
from with_industry
