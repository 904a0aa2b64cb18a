{#
    The id of an event derived from a source row: the same system, source key and event type
    always give the same uuid (md5 of the three), so a full rebuild gives the ids the
    incremental runs gave, and the same fact seen twice is one event.
#}
{% macro activity_event_id(system, source_key, event_type) -%}
    md5(concat_ws('|', '{{ system }}', {{ source_key }}, '{{ event_type }}'))::uuid
{%- endmacro %}
