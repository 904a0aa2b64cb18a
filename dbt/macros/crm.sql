{#
    Shared pieces of the CRM master's company resolution (dbt/models/intermediate/crm).
    Kept as macros so the resolution model, its unit tests and the contacts mart normalise
    names, states and email domains the same way.
#}

{#- Free-mail domains never identify a company: two strangers on gmail.com are not one firm. -#}
{% macro crm_free_mail_domains() -%}
    array['gmail.com', 'googlemail.com', 'yahoo.com', 'yahoo.co.in', 'yahoo.in', 'ymail.com',
          'rediffmail.com', 'rediff.com', 'hotmail.com', 'outlook.com', 'live.com', 'live.in',
          'msn.com', 'icloud.com', 'me.com', 'aol.com', 'protonmail.com', 'proton.me',
          'zoho.com', 'zohomail.in', 'mail.com', 'gmx.com', 'yandex.com', 'sify.com',
          'vsnl.net', 'vsnl.com', 'indiatimes.com', 'in.com']::text[]
{%- endmacro %}

{#- The domain of an email address, or NULL when it is a free-mail domain. -#}
{% macro crm_company_domain(email) -%}
    (case
        when split_part(lower(trim({{ email }})), '@', 2) = any({{ crm_free_mail_domains() }})
            then null
        else nullif(split_part(lower(trim({{ email }})), '@', 2), '')
    end)
{%- endmacro %}

{#-
    A company name reduced to what identifies it: lower case, a leading "M/s." and the
    trailing "(State)" that Tally adds to a multi-GSTIN ledger dropped, "&" as "and", legal
    forms in one spelling (Private Limited / Pvt. Ltd. -> pvt ltd), punctuation removed and
    no spaces at all ("SriVenkateswara" is "Sri Venkateswara").
-#}
{% macro crm_normalise_name(name) -%}
    nullif(trim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        regexp_replace(regexp_replace(
            regexp_replace(lower(regexp_replace(coalesce({{ name }}, ''), '\s*\([^)]*\)\s*$', '')),
                '^\s*m\s*/\s*s\.?\s+', ''),
            '&', ' and ', 'g'),
            '[^a-z0-9 ]', ' ', 'g'),
            '\m(private|pvt)\M', 'pvt', 'g'),
            '\m(limited|ltd)\M', 'ltd', 'g'),
            '\m(company|co)\M', 'co', 'g'),
            '\m(corporation|corp)\M', 'corp', 'g'),
            '\s+', '', 'g')), '')
{%- endmacro %}

{#- GST state codes by state name (the names GST registers; a few common variants). -#}
{% macro crm_state_codes() -%}
    {{ return({
        'jammu and kashmir': '01', 'himachal pradesh': '02', 'punjab': '03', 'chandigarh': '04',
        'uttarakhand': '05', 'haryana': '06', 'delhi': '07', 'rajasthan': '08',
        'uttar pradesh': '09', 'bihar': '10', 'sikkim': '11', 'arunachal pradesh': '12',
        'nagaland': '13', 'manipur': '14', 'mizoram': '15', 'tripura': '16', 'meghalaya': '17',
        'assam': '18', 'west bengal': '19', 'jharkhand': '20', 'odisha': '21', 'orissa': '21',
        'chhattisgarh': '22', 'madhya pradesh': '23', 'gujarat': '24',
        'dadra and nagar haveli and daman and diu': '26', 'maharashtra': '27',
        'karnataka': '29', 'goa': '30', 'lakshadweep': '31', 'kerala': '32',
        'tamil nadu': '33', 'puducherry': '34', 'andaman and nicobar islands': '35',
        'telangana': '36', 'andhra pradesh': '37', 'ladakh': '38', 'other territory': '97'
    }) }}
{%- endmacro %}

{#- The GST state code of a state name, NULL when unknown. -#}
{% macro crm_state_code(state_name) -%}
    (case trim(regexp_replace(replace(lower(coalesce({{ state_name }}, '')), '&', ' and '), '\s+', ' ', 'g'))
    {%- for name, code in crm_state_codes().items() %}
        when '{{ name }}' then '{{ code }}'
    {%- endfor %}
    end)
{%- endmacro %}

{#- The state name of a GST state code (legacy codes 25 and 28 folded in), NULL when unknown. -#}
{% macro crm_state_name(state_code) -%}
    (case {{ state_code }}
        when '25' then 'Dadra and Nagar Haveli and Daman and Diu'
        when '28' then 'Andhra Pradesh'
    {%- for name, code in crm_state_codes().items() if name != 'orissa' %}
        when '{{ code }}' then '{{ name.title().replace(" And ", " and ") }}'
    {%- endfor %}
    end)
{%- endmacro %}

{#-
    TRUE for mail a machine wrote on a company's side: auto-replies the loader's headers
    missed (a subject prefix the mail client added), read and delivery receipts, ticket and
    accounts-payable acknowledgements, system mailboxes (noreply, postmaster, helpdesk).
    No person of the company wrote it, so it neither names a contact nor links to a
    company: the mail stays unlinked ("when in doubt, leave it unlinked").
-#}
{% macro crm_is_automated_mail(subject, from_address, body) -%}
    (coalesce(lower({{ subject }}), '') ~ '^\s*(automatic reply|auto(matic)?[- ]?(reply|response)|auto:|\[auto-reply\]|out of (the )?office|office closed|holiday notice|on leave|leave notice|mailbox not monitored|email id changed|change of email address|read( receipt)?:|delivered:|relayed:|\[ticket #|\[#[0-9]|case \S+ created|your request #|request received:|auto-acknowledg|acknowledgement:|invoice received|your invoice has been received|vendor portal:)'
     or split_part(lower(coalesce({{ from_address }}, '')), '@', 1)
        ~ '^(no-?reply|do-?not-?reply|noreply-.*|postmaster|mailer-daemon|helpdesk|servicedesk|support|ap\.invoices)$'
     or coalesce(lower({{ body }}), '') ~ '(this is an? (automated|system generated)|please do not reply to this|mailbox is not monitored)')
{%- endmacro %}
