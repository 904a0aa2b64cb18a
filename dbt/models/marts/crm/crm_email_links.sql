{#
    One row per inbound email (not our staff's): the company it is linked to through its
    sender (marts.crm_company_sources, rule and score included), or none. Mail a machine
    wrote - auto-replies, read receipts, ticket and payables acknowledgements, bounces,
    bulk mail - is not linked even when its sender is a customer's address: no person of
    the company wrote it (is_automated says so). A sender the CRM master could not place
    with confidence leaves its mail unlinked rather than guessed: a wrong link would show
    one customer another customer's orders.
#}

with emails as (
    select
        email_key,
        message_id,
        from_address,
        sent_at,
        is_auto_reply or is_bounce or is_bulk
            or {{ crm_is_automated_mail('subject', 'from_address', 'body_text') }} as is_automated
    from {{ ref('stg_mail__emails') }}
    where not is_outbound
),

senders as (
    select source_id as from_address, company_key, rule, score
    from {{ ref('crm_company_sources') }}
    where source_system = 'mail'
)

select
    e.email_key::text                                                   as email_key,
    e.message_id::text                                                  as message_id,
    e.from_address::text                                                as from_address,
    e.sent_at::timestamptz                                              as sent_at,
    e.is_automated::boolean                                             as is_automated,
    (case when not e.is_automated then s.company_key end)::text         as company_key,
    (case when not e.is_automated then s.rule end)::text                as rule,
    (case when not e.is_automated then s.score end)::numeric(3, 2)      as score
from emails as e
left join senders as s on s.from_address = e.from_address
