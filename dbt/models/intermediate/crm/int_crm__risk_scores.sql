{#
    A company's risk score, 0 (no sign of risk) to 100, from int_crm__risk_inputs. Each
    input earns points up to a cap, linearly, and the points add up:

      overdue amount     30 x min(1, overdue_receivables_inr / var crm_risk_overdue_inr)
                         (default 5,00,000: that much overdue earns all 30)
      overdue invoices   10 x min(1, overdue_invoice_count / 5)
      payment days       25 x min(1, max(0, payment_days - erp_credit_days) / 60)
                         (paying 60 days past the credit period earns all 25; a company
                         with no invoice paid in full earns none)
      QC complaints      20 x min(1, qc_complaint_count / 3)
      GSTIN issues       15 x min(1, gstin_issue_count / 2)

    rounded to a whole number. The caps say what matters most to a trader extending
    credit: money overdue and slow payment (65 together), then quality disputes, then
    registration hygiene. The points of each input are columns too, so a screen can say
    why a score is high.
#}

{%- set overdue_full = var('crm_risk_overdue_inr', 500000) | float %}
{%- set credit_days = var('erp_credit_days', 30) | int %}

with inputs as (
    select * from {{ ref('int_crm__risk_inputs') }}
),

points as (
    select
        *,
        30 * least(1.0, overdue_receivables_inr / {{ overdue_full }})           as overdue_amount_points,
        10 * least(1.0, overdue_invoice_count / 5.0)                           as overdue_count_points,
        25 * least(1.0, greatest(coalesce(payment_days, 0) - {{ credit_days }}, 0) / 60.0)
                                                                                as payment_days_points,
        20 * least(1.0, qc_complaint_count / 3.0)                              as qc_points,
        15 * least(1.0, gstin_issue_count / 2.0)                               as gstin_points
    from inputs
)

select
    company_key,
    overdue_receivables_inr,
    overdue_invoice_count,
    max_days_overdue,
    outstanding_receivables_inr,
    payment_days,
    paid_invoice_count,
    qc_complaint_email_count,
    qc_failed_batch_count,
    qc_complaint_count,
    invalid_gstin_count,
    mismatched_gstin_count,
    gstin_issue_count,
    issue_gstins,
    jsonb_build_object(
        'overdue_amount', round(overdue_amount_points::numeric, 1),
        'overdue_invoices', round(overdue_count_points::numeric, 1),
        'payment_days', round(payment_days_points::numeric, 1),
        'qc_complaints', round(qc_points::numeric, 1),
        'gstin_issues', round(gstin_points::numeric, 1)
    )                                                                           as risk_points,
    round(
        overdue_amount_points + overdue_count_points + payment_days_points + qc_points
        + gstin_points
    )::integer                                                                  as risk_score
from points
