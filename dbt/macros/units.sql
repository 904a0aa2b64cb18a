{#
    Quantities in one unit: kilograms. Sources state a unit per row (Tally's base unit or the
    unit after the number, Focus RT's line unit); marts and ML compare qty_kg across systems,
    so every staging model converts through these macros and nowhere else.

    Only mass units convert. A volume (litre, kl) needs the product's density, which no
    source lands, and a pack (bag, drum) needs the item's pack size: both give NULL here and
    the model keeps the original qty and unit beside qty_kg.
#}

{# kilograms in one `unit`, NULL when the unit is not a known mass unit #}
{% macro kg_per_unit(unit) -%}
    (case regexp_replace(lower(trim({{ unit }})), '[.[:space:]]', '', 'g')
        when 'kg' then 1.0
        when 'kgs' then 1.0
        when 'kilo' then 1.0
        when 'kilos' then 1.0
        when 'kilogram' then 1.0
        when 'kilograms' then 1.0
        when 'mt' then 1000.0
        when 'mts' then 1000.0
        when 't' then 1000.0
        when 'ton' then 1000.0
        when 'tons' then 1000.0
        when 'tonne' then 1000.0
        when 'tonnes' then 1000.0
        when 'metricton' then 1000.0
        when 'metrictons' then 1000.0
        when 'qtl' then 100.0
        when 'quintal' then 100.0
        when 'quintals' then 100.0
        when 'g' then 0.001
        when 'gm' then 0.001
        when 'gms' then 0.001
        when 'gram' then 0.001
        when 'grams' then 0.001
    end)::numeric
{%- endmacro %}

{#
    `qty` stated in `unit`, in kilograms (NULL when the unit is no mass unit). trim_scale
    drops the zeros the factor's scale adds (2 MT is 2000 kg, not 2000.000).
#}
{% macro to_kg(qty, unit) -%}
    trim_scale(({{ qty }})::numeric * {{ kg_per_unit(unit) }})
{%- endmacro %}

{# a price per `unit`, per kilogram (a rate per MT is a thousandth of it per kg) #}
{% macro rate_per_kg(rate, unit) -%}
    trim_scale(({{ rate }})::numeric / nullif({{ kg_per_unit(unit) }}, 0))
{%- endmacro %}
