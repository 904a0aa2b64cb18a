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

{#
    TRUE when the GSTIN has the 15-character shape and its check character (the last) is
    right: GSTN's mod-36 Luhn over the first 14 characters (digits 0-9, letters 10-35,
    every second character doubled, a product's base-36 digits summed). A one-character
    typo - a swapped pair, a wrong digit - fails it, so a mistyped GSTIN never identifies
    a company; the CRM master counts such GSTINs among a company's risk inputs.
#}
{% macro gstin_is_valid(gstin) -%}
    (coalesce({{ gstin_pan(gstin) }} is not null and (
        select (36 - sum(p / 36 + p % 36) % 36) % 36
        from (
            select (strpos('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ',
                           substr(upper(trim({{ gstin }})), i, 1)) - 1) * (2 - i % 2) as p
            from generate_series(1, 14) as i
        ) as d
    ) = strpos('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', substr(upper(trim({{ gstin }})), 15, 1)) - 1,
    false))
{%- endmacro %}
