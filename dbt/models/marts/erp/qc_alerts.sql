-- What QC must look at, one row per alert:
--   out_of_spec   a result outside its limits;
--   drift         the third (or later) consecutive result of a product's parameter in the
--                 warning zone next to the same limit (qc_results.warning_limit);
--   coa_pending   a batch whose COA is still pending more than erp_coa_pending_days (2)
--                 days after its order was dispatched.
-- company_key is the CRM company of the batch's order (qc_batches), for the company page.
-- Acknowledgements are people's events (ops.qc_alert_acks), read beside this mart: an alert
-- stays here while its cause lasts, acknowledged or not.
with results as (
    select * from {{ ref('qc_results') }}
),

batches as (
    select * from {{ ref('qc_batches') }}
),

sequenced as (
    select
        *,
        lag(warning_limit, 1) over w                as previous_limit,
        lag(warning_limit, 2) over w                as before_previous_limit
    from results
    window w as (partition by product_code, param_name order by inspection_date, qc_doc_no)
),

out_of_spec as (
    select
        'out_of_spec:' || qc_result_key             as alert_id,
        'out_of_spec'                               as alert_type,
        qc_doc_no, batch_no, product_code, product_name, param_name, sales_order_no,
        company_name, gstin, result_value, min_value, max_value,
        inspection_date                             as alerted_on,
        param_name || ' ' || coalesce(result_value::text, result_text, '?')
            || ' is ' || coalesce(out_of_spec_side, 'failed')
            || ' (' || coalesce(min_value::text, '') || '..' || coalesce(max_value::text, '') || ')'
                                                    as detail
    from results
    where not in_spec
),

drift as (
    select
        'drift:' || qc_result_key                   as alert_id,
        'drift'                                     as alert_type,
        qc_doc_no, batch_no, product_code, product_name, param_name, sales_order_no,
        company_name, gstin, result_value, min_value, max_value,
        inspection_date                             as alerted_on,
        param_name || ': 3 consecutive results within 10% of the '
            || warning_limit || ' limit'            as detail
    from sequenced
    where warning_limit is not null
        and previous_limit = warning_limit
        and before_previous_limit = warning_limit
),

coa_pending as (
    select
        'coa_pending:' || batch_key                 as alert_id,
        'coa_pending'                               as alert_type,
        latest_qc_doc_no                            as qc_doc_no,
        batch_no, product_code, product_name,
        null::text                                  as param_name,
        sales_order_no, company_name, gstin,
        null::numeric                               as result_value,
        null::numeric                               as min_value,
        null::numeric                               as max_value,
        {{ erp_as_of_date() }}                      as alerted_on,
        'COA pending ' || ({{ erp_as_of_date() }} - dispatched_on)
            || ' days after dispatch on ' || dispatched_on::text as detail
    from batches
    where lower(coa_status) = 'pending'
        and dispatched_on is not null
        and {{ erp_as_of_date() }} - dispatched_on > {{ var('erp_coa_pending_days', 2) | int }}
),

alerts as (
    select * from out_of_spec
    union all
    select * from drift
    union all
    select * from coa_pending
)

select
    a.*,
    b.company_key
from alerts as a
left join batches as b on b.batch_key = coalesce(a.batch_no, a.qc_doc_no)
