{#
    One row per source record that can name a company: a Tally party ledger, a Focus RT
    customer code, an inbound email sender address, an approved (or merged) prelead row.
    Identifiers are normalised here once (PAN from the GSTIN first, CIN upper case, email
    lower case, free-mail domains dropped, name normalised, state as its GST code) so the
    resolution model only compares columns.
    creates_company: Tally, Focus and prelead records found a company when nothing matches;
    a mail sender only joins one (newsletters and tender portals are not customers).
#}

-- a table: seven models read it
{{ config(materialized='table') }}

with erp_records as (
    select * from {{ ref('int_crm__erp_records') }}
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

mail_facts as (
    select * from {{ ref('int_crm__mail_facts') }}
),

-- the identifiers a sender states in their own text (int_crm__mail_facts). The sender's PAN
-- is used only when every valid GSTIN and every stated PAN agree on one, the CIN only when
-- one is stated: a sender quoting two firms' numbers identifies neither. The ML extraction
-- (ml.email_entities) finds the same in more shapes; it is not read here so the CRM master
-- does not wait for the classifier.
mail_stated as (
    select from_address, kind, value
    from mail_facts
    where kind in ('gstin', 'pan', 'cin', 'phone', 'name')
    union all
    -- one of our documents the sender quotes (an order, an invoice, a QC batch, matched
    -- exactly, case aside), as the Focus RT customer it was made for
    select distinct f.from_address, 'document', d.customer_code
    from mail_facts as f
    join focus_document_customers as d on d.document_no = f.value
    where f.kind = 'token'
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
    from mail_facts as m
    left join mail_ids as mi on mi.from_address = m.from_address
    group by m.from_address
),

unioned as (
    select * from erp_records
    union all select * from mail
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
