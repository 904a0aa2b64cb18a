-- EmailClassified and EntitiesExtracted: one of each per email and model version (a new
-- model's scoring is a new event; the entities are written with their prediction).
with predictions as (
    select * from {{ ref('stg_ml__email_predictions') }}
),

entities as (
    select
        email_key,
        jsonb_agg(
            jsonb_strip_nulls(jsonb_build_object(
                'label', label, 'value', value, 'valid', is_valid, 'linked_to', linked_to
            ))
            order by position
        )           as entities,
        count(*)    as entity_count
    from {{ ref('stg_ml__email_entities') }}
    group by email_key
),

classified as (
    select
        {{ activity_event_id('ml', "email_key || '@' || model_version", 'EmailClassified') }}
                                                as event_id,
        'EmailClassified'::text                 as event_type,
        'email'::text                           as entity_type,
        email_key                               as entity_id,
        null::text                              as company_key,
        ('model:' || model_version)::text       as actor,
        jsonb_strip_nulls(jsonb_build_object(
            'model_version', model_version,
            'stream', stream,
            'intent', intent,
            'confidence', confidence,
            'stream_confidence', stream_confidence,
            'requires_review', requires_review,
            'company_name', company_name,
            'ml_company_key', company_key,
            'company_evidence', company_evidence
        ))                                      as payload,
        scored_at                               as occurred_at,
        scored_at                               as loaded_at
    from predictions
),

extracted as (
    select
        {{ activity_event_id('ml', "p.email_key || '@' || p.model_version", 'EntitiesExtracted') }}
                                                as event_id,
        'EntitiesExtracted'::text               as event_type,
        'email'::text                           as entity_type,
        p.email_key                             as entity_id,
        null::text                              as company_key,
        ('model:' || p.model_version)::text     as actor,
        jsonb_build_object(
            'model_version', p.model_version,
            'entity_count', e.entity_count,
            'entities', e.entities
        )                                       as payload,
        p.scored_at                             as occurred_at,
        p.scored_at                             as loaded_at
    from predictions as p
    inner join entities as e on e.email_key = p.email_key
)

select * from classified
union all
select * from extracted
