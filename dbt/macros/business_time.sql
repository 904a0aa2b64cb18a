{#
    ERP documents carry a business date, not a moment. occurred_at places it at midnight in
    the trader's time zone (PEBBLE_TIMEZONE, Asia/Kolkata by default), so an invoice dated
    1 April sorts beside mail received that morning in India, not the evening before in UTC.
#}
{% macro business_date_start(day) -%}
    {%- set zone = env_var("PEBBLE_TIMEZONE", "Asia/Kolkata") -%}
    {%- if not modules.re.fullmatch("[A-Za-z0-9_+/-]+", zone) -%}
        {{ exceptions.raise_compiler_error("PEBBLE_TIMEZONE is not a time zone name: " ~ zone) }}
    {%- endif -%}
    ({{ day }}::timestamp at time zone '{{ zone }}')
{%- endmacro %}
