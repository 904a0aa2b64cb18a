{#
    Company resolution: each source record gets the company key the rules give it, the rule
    that decided and its score. Rules, strongest first:

      manual      a person merged a prelead into a company (PreleadMerged)
      gstin       the record shares a GSTIN with another record of the company
      pan         the PAN (from a GSTIN, else the one stated) is the company's
      cin         the CIN belongs to exactly one PAN company, else founds cin:<CIN>
      email       the exact address is on exactly one company's records
      domain      the address's domain is on exactly one company's ERP records (or, where
                  no ERP record has it, on exactly one company's records); free-mail
                  domains never count (crm_company_domain makes them NULL). A record that
                  founds companies (lead, ledger) must also carry the company's name for
                  email or domain to count.
      name_state  normalised name and GST state code equal those of exactly one company;
                  otherwise the record founds name:<md5(name|state)>

    Keys are derived from the identifier, never from a row number or a load order, so a
    rebuild from scratch gives every entity the key it had: pan:<PAN>, else cin:<CIN>, else
    name:<first 16 hex of md5(normalised name|state code)>. An ambiguous email, domain or
    name (two companies) decides nothing: a mail sender stays unresolved rather than guess.
    Manual merges and splits (ops.company_merges) are applied on top, in crm_company_sources.
#}

with records as (
    select
        source_system,
        source_id,
        name,
        {{ crm_normalise_name('name') }}        as name_norm,
        state_code,
        coalesce(gstins, '{}'::text[])         as gstins,
        pan,
        cin,
        email,
        {{ crm_company_domain('email') }}       as email_domain,
        creates_company,
        manual_company_key
    from {{ ref('int_crm__source_records') }}
),

-- GSTINs seen on more than one record: a record holding one matched by GSTIN
shared_gstins as (
    select g as gstin
    from records, unnest(gstins) as g
    group by g
    having count(*) > 1
),

company_pans as (
    select distinct pan from records
    where creates_company and pan is not null and manual_company_key is null
),

-- a CIN points at a PAN company when the records stating it agree on one PAN
cin_pans as (
    select cin, min(pan) as pan
    from records
    where cin is not null and pan is not null
    group by cin
    having count(distinct pan) = 1
),

company_cins as (
    select distinct cin from records
    where creates_company and cin is not null and pan is null and manual_company_key is null
),

by_identifier as (
    select
        r.*,
        case
            when r.manual_company_key is not null then r.manual_company_key
            when p.pan is not null then 'pan:' || p.pan
            when cp.pan is not null then 'pan:' || cp.pan
            when cc.cin is not null then 'cin:' || cc.cin
        end as company_key,
        case
            when r.manual_company_key is not null then 'manual'
            when p.pan is not null and exists (
                select 1 from unnest(r.gstins) as g join shared_gstins as s on s.gstin = g
            ) then 'gstin'
            when p.pan is not null then 'pan'
            when cp.pan is not null or cc.cin is not null then 'cin'
        end as rule,
        case
            when r.manual_company_key is not null then null
            when p.pan is not null and exists (
                select 1 from unnest(r.gstins) as g join shared_gstins as s on s.gstin = g
            ) then (select min(g) from unnest(r.gstins) as g join shared_gstins as s on s.gstin = g)
            when p.pan is not null then p.pan
            else r.cin
        end as matched_on
    from records as r
    left join company_pans as p on p.pan = r.pan
    left join cin_pans as cp on cp.cin = r.cin and r.pan is null
    left join company_cins as cc on cc.cin = r.cin and r.pan is null
),

keyed_1 as (select * from by_identifier where company_key is not null),

emails_1 as (
    select email, min(company_key) as company_key from keyed_1
    where email is not null group by email having count(distinct company_key) = 1
),
domains_1 as (
    select email_domain, min(company_key) as company_key from keyed_1
    where email_domain is not null group by email_domain having count(distinct company_key) = 1
),
names_1 as (
    select name_norm, state_code, min(company_key) as company_key from keyed_1
    where name_norm is not null and state_code is not null
    group by name_norm, state_code having count(distinct company_key) = 1
),

-- records that found no PAN or CIN but found a company (Tally ledgers without GSTIN, leads)
keyed_2 as (
    select
        r.source_system, r.source_id, r.name, r.name_norm, r.state_code, r.gstins, r.pan,
        r.cin, r.email, r.email_domain, r.creates_company, r.manual_company_key,
        coalesce(
            e.company_key, d.company_key, n.company_key,
            case when r.name_norm is not null then 'name:' || left(md5(
                r.name_norm || '|' || coalesce(r.state_code, '')), 16) end,
            'src:' || left(md5(r.source_system || ':' || r.source_id), 16)
        ) as company_key,
        case
            when e.company_key is not null then 'email'
            when d.company_key is not null then 'domain'
            else 'name_state'
        end as rule,
        case
            when e.company_key is not null then r.email
            when d.company_key is not null then r.email_domain
            else concat_ws('|', r.name_norm, r.state_code)
        end as matched_on
    from by_identifier as r
    -- a record that founds companies (a lead, a ledger) joins by address or domain only under
    -- the company's own name: lead lists put sister firms and strangers on one domain
    left join emails_1 as e on e.email = r.email and exists (
        select 1 from keyed_1 as k where k.company_key = e.company_key and k.name_norm = r.name_norm)
    left join domains_1 as d on d.email_domain = r.email_domain and exists (
        select 1 from keyed_1 as k where k.company_key = d.company_key and k.name_norm = r.name_norm)
    left join names_1 as n on n.name_norm = r.name_norm and n.state_code = r.state_code
    where r.company_key is null and r.creates_company
),

keyed_12 as (
    select * from keyed_1
    union all
    select * from keyed_2
),

emails_12 as (
    select email, min(company_key) as company_key from keyed_12
    where email is not null group by email having count(distinct company_key) = 1
),
-- a domain on the ERP's (vetted) ledgers speaks first; lead lists, scraped and dirty, put
-- strangers on a customer's domain, so they decide only where the ERP is silent
domains_erp as (
    select email_domain, min(company_key) as company_key from keyed_12
    where email_domain is not null and source_system in ('tally', 'focus')
    group by email_domain having count(distinct company_key) = 1
),
domains_12 as (
    select email_domain, company_key from domains_erp
    union all
    select email_domain, min(company_key) from keyed_12
    where email_domain is not null
      and email_domain not in (
        select email_domain from keyed_12
        where email_domain is not null and source_system in ('tally', 'focus'))
    group by email_domain having count(distinct company_key) = 1
),

-- mail senders (and anything else that founds nothing) join a company or stay unresolved
keyed_3 as (
    select
        r.source_system, r.source_id, r.name, r.name_norm, r.state_code, r.gstins, r.pan,
        r.cin, r.email, r.email_domain, r.creates_company, r.manual_company_key,
        coalesce(e.company_key, d.company_key) as company_key,
        case when e.company_key is not null then 'email' else 'domain' end as rule,
        case when e.company_key is not null then r.email else r.email_domain end as matched_on
    from by_identifier as r
    left join emails_12 as e on e.email = r.email
    left join domains_12 as d on d.email_domain = r.email_domain
    where r.company_key is null and not r.creates_company
      and coalesce(e.company_key, d.company_key) is not null
),

resolved as (
    select * from keyed_12
    union all
    select * from keyed_3
)

select
    source_system,
    source_id,
    company_key,
    rule,
    case rule
        when 'manual' then 1.0
        when 'gstin' then 1.0
        when 'pan' then 0.98
        when 'cin' then 0.95
        when 'email' then 0.9
        when 'domain' then 0.8
        else 0.7
    end::numeric(3, 2) as score,
    matched_on
from resolved
