{#
    What each inbound email's sender states about themselves, one row per (email, fact):
    kind gstin, pan, cin, phone, name (a short line or subject part, normalised as a company
    name) or token (a word that may be one of our document numbers); one row with kind NULL
    for an email that states nothing. Mail a machine wrote, our own and bulk mail have none.
    int_crm__source_records aggregates it per sender.

    Incremental: an email's text never changes once landed, so each is mined once (the regexes
    over every body were the costliest part of the CRM master's rebuild after new mail).
    A --full-refresh gives the same rows.
#}

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        indexes=[{'columns': ['email_key']}, {'columns': ['loaded_at']}],
    )
}}

-- what the sender wrote, without quoted or forwarded text (another firm's GSTIN or ours)
with mail_messages as (
    select
        email_key,
        loaded_at,
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
    from {{ ref('stg_mail__emails') }} as emails
    -- our own staff, auto-replies, bounces and bulk mail (ticket acknowledgements,
    -- newsletters) are not a company's people writing
    where not is_outbound and not is_auto_reply and not is_bounce and not is_bulk
      and from_address like '%_@_%'
      and not {{ crm_is_automated_mail('subject', 'from_address', 'body_text') }}
    {% if is_incremental() %}
      -- what landed since the last run, re-reading a window before the newest row stored
      -- (loaders' transactions commit out of order); an email stored already is skipped
      and loaded_at >= (
            select coalesce(max(done.loaded_at), '-infinity'::timestamptz)
                - make_interval(hours => {{ var('activity_stream_lookback_hours', 24) | int }})
            from {{ this }} as done
        )
      and not exists (select 1 from {{ this }} as done where done.email_key = emails.email_key)
    {% endif %}
),

-- the identifiers a sender states in their own text (a signature's GSTIN, PAN, CIN). A
-- GSTIN counts only with a right check character: people mistype their GSTIN, and a typo
-- names another PAN.
mail_stated as (
    select m.email_key, 'gstin' as kind, g[1] as value
    from mail_messages as m
    cross join lateral regexp_matches(
        m.own_text, '\m([0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][0-9A-Z]Z[0-9A-Z])\M', 'g') as g
    where {{ gstin_is_valid('g[1]') }}
    union all
    select m.email_key, 'pan', p[1]
    from mail_messages as m
    cross join lateral regexp_matches(
        m.own_text, '\mPAN(?:\s*No)?[\s.:-]*([A-Z]{5}[0-9]{4}[A-Z])\M', 'g') as p
    union all
    select m.email_key, 'cin', c[1]
    from mail_messages as m
    cross join lateral regexp_matches(
        m.own_text, '\m([LU][0-9]{5}[A-Z]{2}[0-9]{4}[A-Z]{3}[0-9]{6})\M', 'g') as c
    union all
    -- an Indian mobile number however it is written (+91 98201 23456, (+91) 98201-23456,
    -- 098201 23456), as its 10 digits
    select m.email_key, 'phone', right(d.digits, 10)
    from mail_messages as m
    cross join lateral regexp_matches(
        m.own_text, '(?:^|[^A-Za-z0-9/.,#-])([(+0-9][0-9 ()+-]{8,18}[0-9])(?![0-9])', 'g') as p
    cross join lateral (select regexp_replace(p[1], '[^0-9]', '', 'g') as digits) as d
    where d.digits ~ '^(91|0)?[6-9][0-9]{9}$'
    union all
    -- every short line of the sender's own text, as a company name would be normalised: a
    -- signature's company line ("Indra Foods Industries") then equals a company's name
    select distinct m.email_key, 'name', {{ crm_normalise_name('l.line') }}
    from mail_messages as m
    cross join lateral regexp_split_to_table(m.own_text, '\s*\n\s*') as l(line)
    where length(trim(l.line)) between 4 and 80
      and {{ crm_normalise_name('l.line') }} is not null
    union all
    -- ...and every part of the subject ("P.O. No. 698 - Kalpataru Plastics Industries"),
    -- where people name their firm as often as in a signature
    select distinct m.email_key, 'name', {{ crm_normalise_name('s.part') }}
    from mail_messages as m
    cross join lateral regexp_split_to_table(
        m.subject, '\s*(\s[-|]\s|:)\s*') as s(part)
    where length(trim(s.part)) between 4 and 80
      and {{ crm_normalise_name('s.part') }} is not null
    union all
    -- every word of the subject or the sender's own text that could be one of our document
    -- numbers (an order, an invoice, a QC batch: int_crm__source_records looks them up, case
    -- aside). Numbers of digits alone are left out (an amount or a phone number could equal
    -- one), as are words shorter than any document number.
    select distinct m.email_key, 'token', upper(t[1])
    from mail_messages as m
    cross join lateral regexp_matches(
        m.subject || E'\n' || m.own_text, '[A-Za-z0-9][A-Za-z0-9/-]*[0-9][A-Za-z0-9/-]*', 'g'
    ) as t
    where length(t[1]) >= 5 and t[1] !~ '^[0-9]+$'
)

select
    m.email_key::text                                   as email_key,
    m.loaded_at::timestamptz                            as loaded_at,
    m.from_address::text                                as from_address,
    m.from_name::text                                   as from_name,
    m.sent_at::timestamptz                              as sent_at,
    f.kind::text                                        as kind,
    f.value::text                                       as value
from mail_messages as m
left join mail_stated as f using (email_key)
