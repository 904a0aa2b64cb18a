{#
    One row per source record that can name a company: a Tally party ledger, a Focus RT
    customer code, an inbound email sender address, an approved (or merged) prelead row.
    Identifiers are normalised here once (PAN from the GSTIN first, CIN upper case, email
    lower case, free-mail domains dropped, name normalised, state as its GST code) so the
    resolution model only compares columns.
    creates_company: Tally, Focus and prelead records found a company when nothing matches;
    a mail sender only joins one (newsletters and tender portals are not customers).
#}

-- a table: seven models read it, and its mail part scans every message body with regexes
{{ config(materialized='table') }}

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
        {{ crm_state_code('l.state') }}                         as stated_state_code,
        null::text[]                                            as stated_phones,
        null::text[]                                            as stated_names,
        null::text[]                                            as document_customers,
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
        null::text                                              as stated_state_code,
        null::text[]                                            as stated_phones,
        null::text[]                                            as stated_names,
        null::text[]                                            as document_customers,
        true                                                    as creates_company,
        null::text                                              as manual_company_key,
        min(occurred_at)                                        as first_activity_at,
        max(occurred_at)                                        as last_activity_at
    from focus_documents
    where customer_code is not null and customer_code <> ''
    group by customer_code
),

-- our documents (Focus RT orders, invoices and the QC batches made against an order) and
-- the customer each was made for
focus_document_customers as (
    select distinct document_no, customer_code
    from (
        select upper(sales_order_no) as document_no, customer_code
        from {{ ref('stg_focus__sales_orders') }}
        union all
        select upper(invoice_no), customer_code
        from {{ ref('stg_focus__invoices') }}
        union all
        select upper(q.batch_no), o.customer_code
        from {{ ref('stg_focus__qc_inspections') }} as q
        join {{ ref('stg_focus__sales_orders') }} as o on o.sales_order_no = q.sales_order_no
    ) as d
    where nullif(customer_code, '') is not null
      and length(document_no) >= 5 and document_no !~ '^[0-9]+$'
),

-- what the sender wrote, without quoted or forwarded text (another firm's GSTIN or ours)
mail_messages as (
    select
        from_address,
        from_name,
        sent_at,
        coalesce(subject, '')                                   as subject,
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
      and not {{ crm_is_automated_mail('subject', 'from_address', 'body_text') }}
),

-- the identifiers a sender states in their own text (a signature's GSTIN, PAN, CIN). A
-- GSTIN counts only with a right check character: people mistype their GSTIN, and a typo
-- names another PAN. The sender's PAN is used only when every valid GSTIN and every stated
-- PAN agree on one, the CIN only when one is stated: a sender quoting two firms' numbers
-- identifies neither. The ML extraction (ml.email_entities) finds the same in more shapes;
-- it is not read here so the CRM master does not wait for the classifier.
mail_stated as (
    select m.from_address, 'gstin' as kind, g[1] as value
    from mail_messages as m
    cross join lateral regexp_matches(
        m.own_text, '\m([0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][0-9A-Z]Z[0-9A-Z])\M', 'g') as g
    where {{ gstin_is_valid('g[1]') }}
    union all
    select m.from_address, 'pan', p[1]
    from mail_messages as m
    cross join lateral regexp_matches(
        m.own_text, '\mPAN(?:\s*No)?[\s.:-]*([A-Z]{5}[0-9]{4}[A-Z])\M', 'g') as p
    union all
    select m.from_address, 'cin', c[1]
    from mail_messages as m
    cross join lateral regexp_matches(
        m.own_text, '\m([LU][0-9]{5}[A-Z]{2}[0-9]{4}[A-Z]{3}[0-9]{6})\M', 'g') as c
    union all
    -- an Indian mobile number however it is written (+91 98201 23456, (+91) 98201-23456,
    -- 098201 23456), as its 10 digits
    select m.from_address, 'phone', right(d.digits, 10)
    from mail_messages as m
    cross join lateral regexp_matches(
        m.own_text, '(?:^|[^A-Za-z0-9/.,#-])([(+0-9][0-9 ()+-]{8,18}[0-9])(?![0-9])', 'g') as p
    cross join lateral (select regexp_replace(p[1], '[^0-9]', '', 'g') as digits) as d
    where d.digits ~ '^(91|0)?[6-9][0-9]{9}$'
    union all
    -- every short line of the sender's own text, as a company name would be normalised: a
    -- signature's company line ("Indra Foods Industries") then equals a company's name
    select distinct m.from_address, 'name', {{ crm_normalise_name('l.line') }}
    from mail_messages as m
    cross join lateral regexp_split_to_table(m.own_text, '\s*\n\s*') as l(line)
    where length(trim(l.line)) between 4 and 80
      and {{ crm_normalise_name('l.line') }} is not null
    union all
    -- ...and every part of the subject ("P.O. No. 698 - Kalpataru Plastics Industries"),
    -- where people name their firm as often as in a signature
    select distinct m.from_address, 'name', {{ crm_normalise_name('s.part') }}
    from mail_messages as m
    cross join lateral regexp_split_to_table(
        m.subject, '\s*(\s[-|]\s|:)\s*') as s(part)
    where length(trim(s.part)) between 4 and 80
      and {{ crm_normalise_name('s.part') }} is not null
    union all
    -- one of our documents the sender quotes (an order, an invoice, a QC batch, matched
    -- exactly, case aside), as the Focus RT customer it was made for: a word of the subject
    -- or the sender's own text that is a document number. Numbers of digits alone are left
    -- out (an amount or a phone number could equal one).
    select distinct m.from_address, 'document', d.customer_code
    from mail_messages as m
    cross join lateral regexp_matches(
        m.subject || E'\n' || m.own_text, '[A-Za-z0-9][A-Za-z0-9/-]*[0-9][A-Za-z0-9/-]*', 'g'
    ) as t
    join focus_document_customers as d on d.document_no = upper(t[1])
),

mail_ids as (
    select
        from_address,
        case when count(distinct case kind when 'gstin' then substr(value, 3, 10)
                                           when 'pan' then value end) = 1
            then array_agg(distinct value order by value) filter (where kind = 'gstin')
        end                                                     as gstins,
        case when count(distinct case kind when 'gstin' then substr(value, 3, 10)
                                           when 'pan' then value end) = 1
            then min(value) filter (where kind = 'pan')
        end                                                     as pan,
        case when count(distinct value) filter (where kind = 'cin') = 1
            then min(value) filter (where kind = 'cin')
        end                                                     as cin,
        array_agg(distinct value order by value) filter (where kind = 'phone') as phones,
        array_agg(distinct value order by value) filter (where kind = 'name')  as names,
        array_agg(distinct value order by value) filter (where kind = 'document')
                                                                as document_customers
    from mail_stated
    group by from_address
),

mail as (
    select
        'mail'::text                                            as source_system,
        m.from_address                                          as source_id,
        max(m.from_name)                                        as name,
        coalesce(min(mi.gstins), '{}'::text[])                  as raw_gstins,
        min(mi.pan)                                             as stated_pan,
        min(mi.cin)                                             as cin,
        m.from_address                                          as email,
        null::text                                              as phone,
        max(m.from_name)                                        as contact_name,
        null::text                                              as designation,
        null::text                                              as state_code,
        null::text                                              as stated_state_code,
        min(mi.phones)                                          as stated_phones,
        min(mi.names)                                           as stated_names,
        min(mi.document_customers)                              as document_customers,
        false                                                   as creates_company,
        null::text                                              as manual_company_key,
        min(m.sent_at)                                          as first_activity_at,
        max(m.sent_at)                                          as last_activity_at
    from mail_messages as m
    left join mail_ids as mi on mi.from_address = m.from_address
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
        r.state_code                                            as stated_state_code,
        null::text[]                                            as stated_phones,
        null::text[]                                            as stated_names,
        null::text[]                                            as document_customers,
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
    last_activity_at,
    -- every GSTIN as the source wrote it (upper case, trimmed), malformed ones included,
    -- and the state the source states apart from any GSTIN: the risk inputs check them
    array(
        select distinct upper(trim(g)) from unnest(raw_gstins) as g
        where nullif(trim(g), '') is not null order by 1
    )                                                           as raw_gstins,
    stated_state_code,
    -- the mobile numbers (10 digits) that reach the record's people: the number a ledger or
    -- lead holds, or those a sender wrote in their own text
    coalesce(stated_phones, array(
        select right(d, 10)
        from (select regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g') as d) as p
        where d ~ '^(91|0)?[6-9][0-9]{9}$'
    ))                                                          as phones,
    -- a sender's own lines, normalised as names (empty for other systems)
    coalesce(stated_names, '{}'::text[])                        as stated_names,
    -- the Focus RT customers of the documents a sender quotes (empty for other systems)
    coalesce(document_customers, '{}'::text[])                  as document_customers
from unioned
