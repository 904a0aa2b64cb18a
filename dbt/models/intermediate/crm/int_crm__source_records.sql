{#
    One row per source record that can name a company: a Tally party ledger, a Focus RT
    customer code, an inbound email sender address, an approved (or merged) prelead row.
    Identifiers are normalised here once (PAN from the GSTIN first, CIN upper case, email
    lower case, free-mail domains dropped, name normalised, state as its GST code) so the
    resolution model only compares columns.
    creates_company: Tally, Focus and prelead records found a company when nothing matches;
    a mail sender only joins one (newsletters and tender portals are not customers).
#}

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
        true                                                    as creates_company,
        null::text                                              as manual_company_key,
        min(occurred_at)                                        as first_activity_at,
        max(occurred_at)                                        as last_activity_at
    from focus_documents
    where customer_code is not null and customer_code <> ''
    group by customer_code
),

-- what the sender wrote, without quoted or forwarded text (another firm's GSTIN or ours)
mail_messages as (
    select
        from_address,
        from_name,
        sent_at,
        regexp_replace(
            regexp_replace(
                coalesce(body_text, ''),
                '(^|\n)\s*(On [^\n]{0,200}wrote:|-{2,}\s*(Original Message|Forwarded message)).*$',
                ''),
            '^\s*>.*$', '', 'gn')                              as own_text
    from {{ ref('stg_mail__emails') }}
    -- our own staff, auto-replies, bounces and bulk mail (ticket acknowledgements,
    -- newsletters) are not a company's people writing
    where not is_outbound and not is_auto_reply and not is_bounce and not is_bulk
      and from_address like '%_@_%'
),

-- GSTINs a sender states in their own text (signatures); used only when they all carry one
-- PAN. Interim: the ML extraction's GSTIN/PAN/CIN (ml.email_entities) has no staging model
mail_gstins as (
    select m.from_address, array_agg(distinct g[1] order by g[1]) as gstins
    from mail_messages as m
    cross join lateral regexp_matches(
        m.own_text, '\m([0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][0-9A-Z]Z[0-9A-Z])\M', 'g') as g
    group by m.from_address
    having count(distinct substr(g[1], 3, 10)) = 1
),

mail as (
    select
        'mail'::text                                            as source_system,
        m.from_address                                          as source_id,
        max(m.from_name)                                        as name,
        coalesce(min(mg.gstins), '{}'::text[])                  as raw_gstins,
        null::text                                              as stated_pan,
        null::text                                              as cin,
        m.from_address                                          as email,
        null::text                                              as phone,
        max(m.from_name)                                        as contact_name,
        null::text                                              as designation,
        null::text                                              as state_code,
        false                                                   as creates_company,
        null::text                                              as manual_company_key,
        min(m.sent_at)                                          as first_activity_at,
        max(m.sent_at)                                          as last_activity_at
    from mail_messages as m
    left join mail_gstins as mg on mg.from_address = m.from_address
    group by m.from_address
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
        true                                                    as creates_company,
        -- "this lead is a company we know" (PreleadMerged) is a person's decision: it wins
        case when d.decision = 'merged' then d.merged_into end  as manual_company_key,
        d.decided_at                                            as first_activity_at,
        d.decided_at                                            as last_activity_at
    from {{ ref('stg_prelead__rows') }} as r
    join {{ source('ops', 'prelead_decisions') }} as d
      on d.batch = r.batch and d.row_no = r.row_no
    where d.decision in ('approved', 'merged')
),

unioned as (
    select * from tally
    union all select * from focus
    union all select * from mail
    union all select * from prelead
)

select
    source_system,
    source_id,
    name,
    state_code,
    -- only well-formed GSTINs identify; a malformed one is kept for the risk inputs
    array(
        select g from unnest(raw_gstins) as g
        where {{ gstin_pan('g') }} is not null order by g
    )                                                           as gstins,
    coalesce(
        (select min({{ gstin_pan('g') }}) from unnest(raw_gstins) as g),
        case when stated_pan ~ '^[A-Z]{5}[0-9]{4}[A-Z]$' then stated_pan end
    )                                                           as pan,
    case when cin ~ '^[LU][0-9]{5}[A-Z]{2}[0-9]{4}[A-Z]{3}[0-9]{6}$' then cin end as cin,
    nullif(lower(trim(email)), '')                              as email,
    case when phone ~ '^\+[1-9][0-9]{7,14}$' then phone end     as phone,
    nullif(trim(contact_name), '')                              as contact_name,
    nullif(trim(designation), '')                               as designation,
    creates_company,
    manual_company_key,
    first_activity_at,
    last_activity_at
from unioned
