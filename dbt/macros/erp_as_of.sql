{#
    The day ERP marts measure ages against (days overdue, days a COA has been pending).
    Today in the trader's time zone (PEBBLE_TIMEZONE), unless the var `erp_as_of_date`
    (YYYY-MM-DD) pins it, so a rebuild of old data and the tests give the same answer, or
    else the setting PEBBLE_AS_OF_DATE does (the demo pins it to the day after its world
    ends, so its receivables, deals and enquiries are aged as of then, not a year later).
#}
{% macro erp_as_of_date() -%}
    {%- set pinned = var("erp_as_of_date", none) or env_var("PEBBLE_AS_OF_DATE", "") -%}
    {%- if pinned -%}
        {%- if not modules.re.fullmatch("[0-9]{4}-[0-9]{2}-[0-9]{2}", pinned | string) -%}
            {{ exceptions.raise_compiler_error("erp_as_of_date is not YYYY-MM-DD: " ~ pinned) }}
        {%- endif -%}
        date '{{ pinned }}'
    {%- else -%}
        {%- set zone = env_var("PEBBLE_TIMEZONE", "Asia/Kolkata") -%}
        {%- if not modules.re.fullmatch("[A-Za-z0-9_+/-]+", zone) -%}
            {{ exceptions.raise_compiler_error("PEBBLE_TIMEZONE is not a time zone name: " ~ zone) }}
        {%- endif -%}
        (now() at time zone '{{ zone }}')::date
    {%- endif -%}
{%- endmacro %}

{# a product name as a join key across Focus RT and Tally (case and spacing differ) #}
{% macro erp_product_key(name) -%}
    lower(regexp_replace(trim({{ name }}), '\s+', ' ', 'g'))
{%- endmacro %}
