{#
    Enquiry-to-order conversion by the business day of the enquiry, product and region
    (deal_pipeline): each day's enquiries and how many of them were quoted, ordered (won
    included), won and lost so far. A cohort view: summing any date range gives the
    conversion of the enquiries made in it. Region is the ordering GSTIN's state, else the
    company's first GSTIN state; "unknown" and "unspecified" stand in for no region and no
    product so every row has a key.
#}
with deals as (
    select
        enquiry_on,
        coalesce(product, 'unspecified')                            as product,
        coalesce(region, 'unknown')                                 as region,
        stage,
        quoted_at,
        sales_order_no,
        value_inr
    from {{ ref('deal_pipeline') }}
)

select
    concat_ws('|', enquiry_on, product, region)::text               as kpi_key,
    enquiry_on::date                                                as day,
    product::text                                                   as product,
    region::text                                                    as region,
    count(*)::integer                                               as enquiries,
    count(*) filter (
        where quoted_at is not null or sales_order_no is not null
    )::integer                                                      as quoted,
    count(*) filter (where sales_order_no is not null)::integer     as ordered,
    count(*) filter (where stage = 'won')::integer                  as won,
    count(*) filter (where stage = 'lost')::integer                 as lost,
    coalesce(sum(value_inr), 0)::numeric(18, 2)                     as pipeline_value_inr,
    coalesce(sum(value_inr) filter (where sales_order_no is not null), 0)::numeric(18, 2)
                                                                    as ordered_value_inr,
    round(count(*) filter (where sales_order_no is not null)::numeric / count(*), 4)
        ::numeric(5, 4)                                             as conversion_rate
from deals
group by enquiry_on, product, region
