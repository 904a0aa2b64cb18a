{#
    A GSTIN is the state code, the holder's PAN and three more characters
    (27AACCA1234F1Z5 -> PAN AACCA1234F). Resolving companies across systems matches on
    that PAN when GSTINs differ by state, so every staging model derives it the same way.
    NULL unless the GSTIN has the 15-character shape.
#}
{% macro gstin_pan(gstin) -%}
    (case when upper(trim({{ gstin }})) ~ '^[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][0-9A-Z]Z[0-9A-Z]$'
        then substr(upper(trim({{ gstin }})), 3, 10) end)
{%- endmacro %}
