{#
    One row per deal the mail shows a customer opening: an enquiry thread (a customer
    message classified price_enquiry, sample_request or new_business, the crm stream's
    intents in ml/taxonomy.py) times each product the customer's messages name. A thread
    naming no product is one deal without a product; a card a person marked spam is none.

    deal_key: md5 of the thread key and the product's join key, so a rebuild gives the same
    key (the thread key a card gets from its first message never changes).

    Products and quantities come from the ML entities of the customer's messages: the
    product linked to its Tally stock item (else the extractor's canonical name), and the
    QUANTITY (in kg) nearest to it in the same message; the latest message that states a
    quantity for the product wins (customers revise).

    Signals of the stages before an order (deal_pipeline decides the stage):
    - quoted_at: our first reply on the thread after the enquiry - an outbound message, a
      ReplyDrafted or ReplySent event, or the card moved to "quoted";
    - sample_at: the first customer message asking for a sample.

    The company is the CRM master's key: the card's linked company when it is a CRM key,
    else the CRM company of the Tally ledger the model named, else the CRM company the
    enquirer's address resolved to. The value estimate's rate: the customer's last price
    per kg for the product (customer_last_price, by GSTIN, else by name), else the stock
    item's rate per kg.
#}
-- a table, not a view: several marts and the data tests read it, and each would
-- otherwise recompute it (the mail refresh after new mail ran it six times over)
{{ config(materialized='table') }}

{%- set zone = env_var("PEBBLE_TIMEZONE", "Asia/Kolkata") -%}
{%- if not modules.re.fullmatch("[A-Za-z0-9_+/-]+", zone) -%}
    {{ exceptions.raise_compiler_error("PEBBLE_TIMEZONE is not a time zone name: " ~ zone) }}
{%- endif %}
{%- set enquiry_intents = "('price_enquiry', 'sample_request', 'new_business')" %}

with messages as (
    select * from {{ ref('int_sales__messages') }}
),

cards as (
    select * from {{ ref('email_cards') }}
),

card_events as (
    select * from {{ ref('stg_ops__events') }}
    where entity_type = 'card'
),

entities as (
    select * from {{ ref('stg_ml__email_entities') }}
    where label in ('PRODUCT', 'QUANTITY')
),

companies as (
    select * from {{ ref('crm_companies') }}
),

company_sources as (
    select * from {{ ref('crm_company_sources') }}
),

enquiry_threads as (
    select
        thread_key,
        min(occurred_at) filter (
            where not is_outbound and intent in {{ enquiry_intents }}
        )                                                           as enquiry_at,
        min(occurred_at) filter (
            where not is_outbound and intent = 'sample_request'
        )                                                           as sample_at
    from messages
    group by thread_key
    having count(*) filter (where not is_outbound and intent in {{ enquiry_intents }}) > 0
),

enquirers as (
    select distinct on (m.thread_key)
        m.thread_key,
        m.from_address
    from messages as m
    join enquiry_threads as t
      on t.thread_key = m.thread_key and m.occurred_at = t.enquiry_at
    where not m.is_outbound
    order by m.thread_key, m.email_key
),

replied as (
    select m.thread_key, min(m.occurred_at) as replied_at
    from messages as m
    join enquiry_threads as t on t.thread_key = m.thread_key
    where m.is_outbound and m.occurred_at > t.enquiry_at
    group by m.thread_key
),

answered as (
    select e.entity_id as thread_key, min(e.occurred_at) as answered_at
    from card_events as e
    join enquiry_threads as t on t.thread_key = e.entity_id
    where e.occurred_at >= t.enquiry_at
      and (
        e.event_type in ('ReplyDrafted', 'ReplySent')
        or (e.event_type = 'CardMoved' and e.payload ->> 'to' = 'quoted')
      )
    group by e.entity_id
),

customer_entities as (
    select
        m.thread_key,
        m.email_key,
        m.occurred_at,
        e.label,
        e.position,
        e.start_char,
        e.value,
        e.linked_to
    from messages as m
    join enquiry_threads as t on t.thread_key = m.thread_key
    join entities as e on e.email_key = m.email_key
    where not m.is_outbound
),

-- each product mention with the quantity nearest to it in the same message
mentions as (
    select distinct on (p.email_key, p.position)
        p.thread_key,
        p.email_key,
        p.occurred_at,
        p.position,
        coalesce(p.linked_to, p.value #>> '{}')                     as product,
        (q.value #>> '{}')::numeric                                 as qty_kg
    from customer_entities as p
    left join customer_entities as q
      on q.email_key = p.email_key
     and q.label = 'QUANTITY'
     and jsonb_typeof(q.value) = 'number'
    where p.label = 'PRODUCT'
    order by p.email_key, p.position, abs(q.start_char - p.start_char) nulls last, q.position
),

thread_products as (
    select distinct on (thread_key, product_key)
        thread_key,
        product,
        product_key,
        qty_kg
    from (
        select *, {{ erp_product_key('product') }} as product_key
        from mentions
        where nullif(trim(product), '') is not null
    ) as named
    order by thread_key, product_key, qty_kg is null, occurred_at desc, email_key desc, position
),

ledger_names as (
    select distinct on (lower(trim(r.name)))
        lower(trim(r.name))                                         as name_key,
        s.company_key
    from company_sources as s
    join {{ ref('int_crm__source_records') }} as r
      on r.source_system = s.source_system and r.source_id = s.source_id
    where s.source_system = 'tally' and r.name is not null
    order by lower(trim(r.name)), s.company_key
),

resolved as (
    select
        t.thread_key,
        t.enquiry_at,
        t.sample_at,
        least(replied.replied_at, answered.answered_at)            as quoted_at,
        cards.assignee                                              as owner,
        cards.status                                                as card_status,
        cards.status_changed_at,
        cards.company_name                                          as card_company_name,
        coalesce(
            direct.company_key, by_ledger_key.company_key, by_ledger_name.company_key,
            by_sender.company_key
        )                                                           as company_key
    from enquiry_threads as t
    left join cards on cards.card_id = t.thread_key
    left join replied on replied.thread_key = t.thread_key
    left join answered on answered.thread_key = t.thread_key
    left join enquirers on enquirers.thread_key = t.thread_key
    left join companies as direct on direct.company_key = cards.company_key
    left join ledger_names as by_ledger_key
        on by_ledger_key.name_key = lower(trim(cards.company_key))
    left join ledger_names as by_ledger_name
        on by_ledger_name.name_key = lower(trim(cards.company_name))
    left join company_sources as by_sender
        on by_sender.source_system = 'mail' and by_sender.source_id = enquirers.from_address
    where coalesce(cards.status, 'new') <> 'spam'
),

deals as (
    select
        'deal:' || md5(r.thread_key || '|' || coalesce(p.product_key, ''))  as deal_key,
        r.*,
        c.name                                                      as crm_company_name,
        c.gstins,
        c.gstin_states,
        p.product,
        p.product_key,
        p.qty_kg
    from resolved as r
    left join companies as c on c.company_key = r.company_key
    left join thread_products as p on p.thread_key = r.thread_key
),

last_prices as (
    select distinct on (d.deal_key)
        d.deal_key,
        lp.last_rate_inr_per_kg                                     as rate
    from deals as d
    join (
        select *, {{ erp_product_key('product_name') }} as product_key
        from {{ ref('customer_last_price') }}
        where last_rate_inr_per_kg is not null
    ) as lp
      on lp.product_key = d.product_key
     and (
        lp.gstin = any(d.gstins)
        or (lp.gstin is null and lower(trim(lp.company_name)) = lower(trim(d.crm_company_name)))
     )
    order by d.deal_key, lp.last_priced_on desc, lp.customer_product_key
),

stock_rates as (
    select distinct on ({{ erp_product_key('product_name') }})
        {{ erp_product_key('product_name') }}                       as product_key,
        rate_inr_per_kg                                             as rate
    from {{ ref('stock_levels') }}
    where rate_inr_per_kg is not null
    order by {{ erp_product_key('product_name') }}, as_of desc, stock_item_guid
)

select
    d.deal_key,
    d.thread_key,
    d.company_key,
    coalesce(d.crm_company_name, d.card_company_name)               as company_name,
    d.gstin_states[1]                                               as company_state,
    d.product,
    d.product_key,
    d.qty_kg,
    d.enquiry_at,
    (d.enquiry_at at time zone '{{ zone }}')::date                  as enquiry_on,
    d.quoted_at,
    d.sample_at,
    d.owner,
    d.card_status,
    d.status_changed_at,
    coalesce(last_price.rate, stock_rate.rate)                      as rate_inr_per_kg,
    case
        when last_price.rate is not null then 'customer_last_price'
        when stock_rate.rate is not null then 'stock_rate'
    end                                                             as rate_source
from deals as d
left join last_prices as last_price on last_price.deal_key = d.deal_key
left join stock_rates as stock_rate on stock_rate.product_key = d.product_key
