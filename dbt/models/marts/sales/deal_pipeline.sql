{#
    The sales pipeline: one row per deal (int_sales__enquiries: an enquiry thread times a
    product it names), inferred from thread intents, replies, people's card events and
    Focus RT orders. Stages, furthest first:

    - won: the order it became (int_sales__deal_orders) is dispatched or invoiced;
    - ordered: it became an order;
    - lost: no order, and either the card was moved to done at least
      `deal_lost_after_days` (30) days ago, or the order window (`deal_order_window_days`,
      60 days from the enquiry's day) has passed;
    - sample: the customer asked for a sample;
    - quoted: we replied (an outbound message, a drafted or sent reply, or the card moved
      to quoted);
    - enquiry: none of these yet.

    Value: the ordered value of the product once ordered, else the quantity asked (kg) at
    the customer's last price per kg (else the stock item's rate). Days are business days
    in PEBBLE_TIMEZONE, counted to the ERP as-of day (today, or the var erp_as_of_date).
#}
{%- set zone = env_var("PEBBLE_TIMEZONE", "Asia/Kolkata") -%}
{%- if not modules.re.fullmatch("[A-Za-z0-9_+/-]+", zone) -%}
    {{ exceptions.raise_compiler_error("PEBBLE_TIMEZONE is not a time zone name: " ~ zone) }}
{%- endif %}
{%- set window_days = var('deal_order_window_days', 60) | int %}
{%- set lost_after_days = var('deal_lost_after_days', 30) | int %}

with deals as (
    select * from {{ ref('int_sales__enquiries') }}
),

orders as (
    select * from {{ ref('int_sales__deal_orders') }}
),

joined as (
    select
        d.*,
        o.sales_order_no,
        o.match_rule                                            as order_match_rule,
        o.ordered_at,
        o.order_status,
        o.order_gstin,
        o.won_at,
        o.ordered_qty_kg,
        o.order_value_inr,
        {{ erp_as_of_date() }}                                  as as_of_day,
        (d.status_changed_at at time zone '{{ zone }}')::date   as status_changed_on
    from deals as d
    left join orders as o on o.deal_key = d.deal_key
),

staged as (
    select
        *,
        case
            when won_at is not null then 'won'
            when sales_order_no is not null then 'ordered'
            when card_status = 'done'
                 and as_of_day >= status_changed_on + {{ lost_after_days }} then 'lost'
            when as_of_day > enquiry_on + {{ window_days }} then 'lost'
            when sample_at is not null then 'sample'
            when quoted_at is not null then 'quoted'
            else 'enquiry'
        end                                                     as stage
    from joined
),

closed as (
    select
        *,
        case
            when stage = 'won' then won_at
            when stage = 'lost' and card_status = 'done'
                 and as_of_day >= status_changed_on + {{ lost_after_days }}
                then status_changed_at
            when stage = 'lost'
                then {{ business_date_start('(enquiry_on + ' ~ (window_days + 1) ~ ')') }}
        end                                                     as closed_at,
        case
            when stage <> 'lost' then null
            when card_status = 'done'
                 and as_of_day >= status_changed_on + {{ lost_after_days }}
                then 'closed_without_order'
            else 'no_order_in_window'
        end                                                     as lost_reason
    from staged
)

select
    deal_key::text                                              as deal_key,
    thread_key::text                                            as thread_key,
    company_key::text                                           as company_key,
    company_name::text                                          as company_name,
    coalesce({{ crm_state_name('substr(order_gstin, 1, 2)') }}, company_state)::text
                                                                as region,
    product::text                                               as product,
    qty_kg::numeric(18, 3)                                      as qty_kg,
    ordered_qty_kg::numeric(18, 3)                              as ordered_qty_kg,
    round(coalesce(order_value_inr, qty_kg * rate_inr_per_kg), 2)::numeric(18, 2)
                                                                as value_inr,
    (case
        when order_value_inr is not null then 'order'
        when qty_kg is not null and rate_inr_per_kg is not null then rate_source
    end)::text                                                  as value_source,
    stage::text                                                 as stage,
    (stage not in ('won', 'lost'))                              as is_open,
    lost_reason::text                                           as lost_reason,
    enquiry_at::timestamptz                                     as enquiry_at,
    enquiry_on::date                                            as enquiry_on,
    quoted_at::timestamptz                                      as quoted_at,
    sample_at::timestamptz                                      as sample_at,
    ordered_at::timestamptz                                     as ordered_at,
    closed_at::timestamptz                                      as closed_at,
    sales_order_no::text                                        as sales_order_no,
    order_match_rule::text                                      as order_match_rule,
    owner::text                                                 as owner,
    (as_of_day - (case stage
        when 'enquiry' then enquiry_at
        when 'quoted' then quoted_at
        when 'sample' then sample_at
        when 'ordered' then ordered_at
        else closed_at
    end at time zone '{{ zone }}')::date)::integer              as days_in_stage
from closed
