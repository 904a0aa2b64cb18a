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
    company's Tally/Focus records; a lead's domain never links mail), document (the
    orders, invoices and QC batches of ours it quotes in its subject or own text are all
    one company's Focus RT customer's), or signature (a line of its own text, or a part of
    a subject, is the name of exactly one company - among those sharing the domain, or
    anywhere when no ERP record has the domain, as with free mail). Signals that
    disagree, or an identity stated that no company has, leave the sender unresolved.

    Keys are derived from the identifier, never from a row number or a load order, so a
    rebuild from scratch gives every entity the key it had: pan:<PAN>, else cin:<CIN>, else
    name:<first 16 hex of md5(normalised name|state code)>. An ambiguous email, domain or
    name (two companies) decides nothing: a mail sender stays unresolved rather than guess.
    Manual merges and splits (ops.company_merges) are applied on top, in crm_company_sources.
#}

-- A table: the rules' answer is read by crm_company_sources and its tests. Nested loops off:
-- every join here is an equality on a CTE with no index, and the planner, guessing one row
-- for each filtered CTE ("senders", "keyed_1"), otherwise rescans whole CTEs per row
-- (62 s at demo scale 10 instead of seconds).
{{ config(materialized='table', pre_hook="set local enable_nestloop = off") }}

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

-- each record's smallest GSTIN that another record shares (one join, not a subquery per
-- record)
record_shared_gstins as (
    select r.source_system, r.source_id, min(g) as gstin
    from records as r
    cross join lateral unnest(r.gstins) as g
    join shared_gstins as s on s.gstin = g
    group by r.source_system, r.source_id
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
            when p.pan is not null and sg.gstin is not null then 'gstin'
            when p.pan is not null then 'pan'
            when cp.pan is not null or cc.cin is not null then 'cin'
        end as rule,
        case
            when r.manual_company_key is not null then null
            when p.pan is not null and sg.gstin is not null then sg.gstin
            when p.pan is not null then p.pan
            else r.cin
        end as matched_on
    from records as r
    left join company_pans as p on p.pan = r.pan
    left join cin_pans as cp on cp.cin = r.cin and r.pan is null
    left join company_cins as cc on cc.cin = r.cin and r.pan is null
    left join record_shared_gstins as sg
      on sg.source_system = r.source_system and sg.source_id = r.source_id
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
-- the names each company's records carry, and the addresses and domains above under them
company_names_1 as (
    select distinct company_key, name_norm from keyed_1 where name_norm is not null
),
named_emails_1 as (
    select e.email, e.company_key, n.name_norm
    from emails_1 as e join company_names_1 as n using (company_key)
),
named_domains_1 as (
    select d.email_domain, d.company_key, n.name_norm
    from domains_1 as d join company_names_1 as n using (company_key)
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
    left join named_emails_1 as e on e.email = r.email and e.name_norm = r.name_norm
    left join named_domains_1 as d
      on d.email_domain = r.email_domain and d.name_norm = r.name_norm
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
-- sender's own text, the domain (ERP only), our documents it quotes (one company's), the
-- signature's company line (or a subject's part) among the companies sharing the domain,
-- or anywhere when the domain says nothing (free mail).
-- A sender whose signals disagree, who states a GSTIN or PAN no company has, or a CIN
-- other than the company's (someone else's firm on a near-namesake's domain), stays
-- unresolved. Each signal is one aggregate over all senders, joined back by the sender.
senders as materialized (
    select * from by_identifier
    where company_key is null and not creates_company and pan is null
),

-- what each sender states, one row per value (unnested once, then joined by equality: a
-- join inside the unnest would rescan the companies' CTE per sender)
sender_phone_values as materialized (
    select s.source_system, s.source_id, x as phone
    from senders as s cross join lateral unnest(s.phones) as x
),
sender_name_values as materialized (
    select s.source_system, s.source_id, s.email_domain, x as name_norm
    from senders as s cross join lateral unnest(s.stated_names) as x
),
sender_document_values as materialized (
    select s.source_system, s.source_id, c.customer_code
    from senders as s
    join {{ ref('int_crm__source_records') }} as r
      on r.source_system = s.source_system and r.source_id = s.source_id
    cross join lateral unnest(r.document_customers) as c (customer_code)
),

-- the sender's mobile numbers on exactly one company's records
sender_phones as (
    select v.source_system, v.source_id,
           min(p.company_key) as company_key, min(v.phone) as phone
    from sender_phone_values as v
    join phones_12 as p on p.phone = v.phone
    group by v.source_system, v.source_id
    having count(distinct p.company_key) = 1
),

-- the sender's own lines that are a company's name, with that company
sender_names as (
    select distinct v.source_system, v.source_id, v.email_domain, v.name_norm, n.company_key
    from sender_name_values as v
    join names_12 as n on n.name_norm = v.name_norm
),

-- ...naming exactly one of the companies on the sender's (ERP) domain
sender_domain_names as (
    select sn.source_system, sn.source_id, min(sn.company_key) as company_key
    from sender_names as sn
    join erp_domains as ed
      on ed.company_key = sn.company_key and ed.email_domain = sn.email_domain
    group by sn.source_system, sn.source_id
    having count(distinct sn.company_key) = 1
),

-- ...naming exactly one company anywhere (used when no ERP record has the domain)
sender_any_names as (
    select source_system, source_id, min(company_key) as company_key
    from sender_names
    group by source_system, source_id
    having count(distinct company_key) = 1
),

-- the Focus RT customers whose documents (orders, invoices, QC batches) the sender quotes,
-- all of them one company's
focus_customers_12 as (
    select source_id as customer_code, company_key from keyed_12 where source_system = 'focus'
),
sender_documents as (
    select v.source_system, v.source_id,
           min(f.company_key) as company_key, min(v.customer_code) as customer_code
    from sender_document_values as v
    join focus_customers_12 as f on f.customer_code = v.customer_code
    group by v.source_system, v.source_id
    having count(distinct f.company_key) = 1
),

known_erp_domains as (
    select distinct email_domain from erp_domains
),

mail_signals as materialized (
    select
        r.source_system, r.source_id, r.name, r.name_norm, r.state_code, r.gstins, r.pan,
        r.cin, r.email, r.email_domain, r.creates_company, r.manual_company_key,
        r.phones, r.stated_names,
        e.company_key                                           as by_email,
        sp.company_key                                          as by_phone,
        sp.phone                                                as matched_phone,
        d.company_key                                           as by_domain,
        sd.company_key                                          as by_document,
        sd.customer_code                                        as matched_customer,
        sdn.company_key                                         as by_domain_name,
        case when ked.email_domain is null then san.company_key end as by_name
    from senders as r
    left join emails_12 as e on e.email = r.email
    left join domains_erp as d on d.email_domain = r.email_domain
    left join sender_phones as sp
      on sp.source_system = r.source_system and sp.source_id = r.source_id
    left join sender_documents as sd
      on sd.source_system = r.source_system and sd.source_id = r.source_id
    left join sender_domain_names as sdn
      on sdn.source_system = r.source_system and sdn.source_id = r.source_id
    left join sender_any_names as san
      on san.source_system = r.source_system and san.source_id = r.source_id
    left join known_erp_domains as ked on ked.email_domain = r.email_domain
),

mail_decided as (
    select
        *,
        coalesce(by_email, by_phone, by_domain, by_document, by_domain_name, by_name)
                                                                as company_key
    from mail_signals
),

-- the signature line that named the company (the smallest, when several did)
decided_names as (
    select m.source_system, m.source_id, min(sn.name_norm) as name_norm
    from mail_decided as m
    join sender_names as sn
      on sn.source_system = m.source_system and sn.source_id = m.source_id
     and sn.company_key = m.company_key
    group by m.source_system, m.source_id
),

keyed_3 as (
    select
        m.source_system, m.source_id, m.name, m.name_norm, m.state_code, m.gstins, m.pan,
        m.cin, m.email, m.email_domain, m.creates_company, m.manual_company_key, m.phones,
        m.stated_names,
        m.company_key,
        case
            when m.by_email is not null then 'email'
            when m.by_phone is not null then 'phone'
            when m.by_domain is not null then 'domain'
            when m.by_document is not null then 'document'
            else 'signature'
        end                                                     as rule,
        case
            when m.by_email is not null then m.email
            when m.by_phone is not null then m.matched_phone
            when m.by_domain is not null then m.email_domain
            when m.by_document is not null then m.matched_customer
            else dn.name_norm
        end                                                     as matched_on
    from mail_decided as m
    left join decided_names as dn
      on dn.source_system = m.source_system and dn.source_id = m.source_id
    where m.company_key is not null
      and not exists (
        select 1 from cins_12 as c
        where c.company_key = m.company_key and c.cin <> m.cin
      )
      and (
        select count(distinct k)
        from unnest(array[
            m.by_email, m.by_phone, m.by_domain, m.by_document, m.by_domain_name, m.by_name
        ]) as k
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
        when 'document' then 0.8
        when 'signature' then 0.75
        else 0.7
    end::numeric(3, 2) as score,
    matched_on
from resolved
