{#
    Tally's sign convention. Tally writes debits negative and credits positive (the export's
    "(-)" and "Dr" markers are already negative numbers in raw.*, see ingest/tally/parse.py).
    Accountants read balances the other way round: a debit (the party owes us, we hold the
    stock) is positive. Staging states every Tally ledger amount debit-positive, with its side.
#}

{# a Tally amount, debit-positive: a customer's receivable is positive #}
{% macro tally_debit_positive(amount) -%}
    (-({{ amount }}))
{%- endmacro %}

{# 'Dr' or 'Cr' for a Tally amount; NULL for zero or unknown #}
{% macro tally_dr_cr(amount) -%}
    (case when {{ amount }} < 0 then 'Dr' when {{ amount }} > 0 then 'Cr' end)
{%- endmacro %}

{#
    Whether an inventory line moves stock in or out. Tally debits the stock item when goods
    come in (purchase, receipt note, sales return) and credits it when they go out (sales,
    delivery note): an inventory amount below zero is stock in.
#}
{% macro tally_stock_direction(amount) -%}
    (case when {{ amount }} < 0 then 'in' when {{ amount }} > 0 then 'out' end)
{%- endmacro %}
