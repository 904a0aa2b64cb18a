with source as (
    select * from {{ source('ml', 'email_predictions') }}
),

renamed as (
    select
        email_key,
        model_version,
        stream,
        intent,
        confidence,
        stream_confidence,
        requires_review,
        company_key,
        company_name,
        company_evidence,
        scored_at
    from source
)

select * from renamed
