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

    A mail sender founds nothing. After its own GSTIN/PAN/CIN (checksum-valid, stated in
    its own text), it joins a company by: email (the exact address), phone (a mobile
    number it writes is on exactly one company's records), domain (on exactly one
    company's Tally/Focus records; a lead's domain never links mail), or signature (a line
    of its own text is the name of exactly one company - among those sharing the domain,
    or anywhere when no ERP record has the domain, as with free mail). Signals that
    disagree, or an identity stated that no company has, leave the sender unresolved.

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
        manual_company_key,
        coalesce(phones, '{}'::text[])         as phones,
        coalesce(stated_names, '{}'::text[])   as stated_names
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
        r.phones, r.stated_names,
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
-- a domain on the ERP's (vetted) ledgers and customers; lead lists, scraped and dirty, put
-- strangers and near-namesakes on a customer's domain, so a lead's domain links no mail
erp_domains as (
    select distinct email_domain, company_key from keyed_12
    where email_domain is not null and source_system in ('tally', 'focus')
),
domains_erp as (
    select email_domain, min(company_key) as company_key from erp_domains
    group by email_domain having count(distinct company_key) = 1
),
-- a mobile number on exactly one company's records (a ledger's or a lead's contact; not
-- what another sender wrote)
phones_12 as (
    select p as phone, min(company_key) as company_key
    from keyed_12 cross join lateral unnest(phones) as p
    where creates_company
    group by p having count(distinct company_key) = 1
),
-- the CINs a company's records carry: a sender stating another CIN is another firm
cins_12 as (
    select distinct company_key, cin from keyed_12 where cin is not null
),
-- company names as the ledgers, customers and leads spell them, for a signature to name
-- (a sender's own record carries the person's name, never a company's)
names_12 as (
    select distinct name_norm, company_key from keyed_12
    where name_norm is not null and creates_company
),

-- mail senders (and anything else that founds nothing) join a company or stay unresolved.
-- Each signal names a company or nothing: the exact address, a mobile number in the
-- sender's own text, the domain (ERP only), the signature's company line among the
-- companies sharing the domain, or anywhere when the domain says nothing (free mail).
-- A sender whose signals disagree, who states a GSTIN or PAN no company has, or a CIN
-- other than the company's (someone else's firm on a near-namesake's domain), stays
-- unresolved.
mail_signals as (
    select
        r.source_system, r.source_id, r.name, r.name_norm, r.state_code, r.gstins, r.pan,
        r.cin, r.email, r.email_domain, r.creates_company, r.manual_company_key,
        r.phones, r.stated_names,
        e.company_key                                           as by_email,
        (select min(p.company_key) from unnest(r.phones) as x
         join phones_12 as p on p.phone = x
         having count(distinct p.company_key) = 1)             as by_phone,
        d.company_key                                           as by_domain,
        (select min(n.company_key) from unnest(r.stated_names) as x
         join names_12 as n on n.name_norm = x
         join erp_domains as ed
           on ed.company_key = n.company_key and ed.email_domain = r.email_domain
         having count(distinct n.company_key) = 1)             as by_domain_name,
        case when not exists (
            select 1 from erp_domains as ed where ed.email_domain = r.email_domain
        ) then (select min(n.company_key) from unnest(r.stated_names) as x
                join names_12 as n on n.name_norm = x
                having count(distinct n.company_key) = 1)
        end                                                     as by_name
    from by_identifier as r
    left join emails_12 as e on e.email = r.email
    left join domains_erp as d on d.email_domain = r.email_domain
    where r.company_key is null and not r.creates_company
      and r.pan is null
),

keyed_3 as (
    select
        source_system, source_id, name, name_norm, state_code, gstins, pan, cin, email,
        email_domain, creates_company, manual_company_key, phones, stated_names,
        coalesce(by_email, by_phone, by_domain, by_domain_name, by_name) as company_key,
        case
            when by_email is not null then 'email'
            when by_phone is not null then 'phone'
            when by_domain is not null then 'domain'
            else 'signature'
        end                                                     as rule,
        case
            when by_email is not null then email
            when by_phone is not null then (
                select min(x) from unnest(phones) as x
                join phones_12 as p on p.phone = x and p.company_key = by_phone)
            when by_domain is not null then email_domain
            else (select min(x) from unnest(stated_names) as x
                  join names_12 as n on n.name_norm = x
                   and n.company_key = coalesce(by_domain_name, by_name))
        end                                                     as matched_on
    from mail_signals
    where coalesce(by_email, by_phone, by_domain, by_domain_name, by_name) is not null
      and not exists (
        select 1 from cins_12 as c
        where c.company_key = coalesce(by_email, by_phone, by_domain, by_domain_name, by_name)
          and c.cin <> mail_signals.cin
      )
      and (
        select count(distinct k)
        from unnest(array[by_email, by_phone, by_domain, by_domain_name, by_name]) as k
      ) = 1
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
        when 'phone' then 0.85
        when 'domain' then 0.8
        when 'signature' then 0.75
        else 0.7
    end::numeric(3, 2) as score,
    matched_on
from resolved
