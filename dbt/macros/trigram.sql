{#
    Fuzzy company-name matching in plain SQL. The embedded PostgreSQL has no pg_trgm, so
    trigram similarity is built here from string functions and generate_series.

    The name is first reduced to its distinctive core (prelead_name_core), then taken as ONE
    word with its spaces removed, padded like pg_trgm pads a word ('  ' in front, ' ' behind)
    and cut into overlapping 3-grams. Dropping the spaces makes "SriVenkateswara Tyres" and
    "Sri Venkateswara Tyres" the same set (lead lists glue words together as often as they
    respell the legal form); word-wise trigrams scored those pairs as low as 0.58 in the demo
    world. Similarity is the Jaccard index of the two sets, shared / union; a model computes
    it by joining the pairs' trigrams (int_prelead__candidates), so only pairs that share a
    rare trigram are ever compared.
#}

{#-
    A company name without what does not tell firms apart: lower case, a leading "M/s." and a
    trailing "(State)" dropped, "&" and "and" dropped, punctuation to spaces, legal forms
    (private limited, pvt ltd, p ltd, limited, llp, llc, inc, co, company, corporation) dropped,
    single spaces. NULL when nothing is left.
-#}
{% macro prelead_name_core(name) -%}
    nullif(trim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        regexp_replace(lower(regexp_replace(coalesce({{ name }}, ''), '\s*\([^)]*\)\s*$', '')),
            '^\s*m\s*/\s*s\.?\s+', ''),
        '[^a-z0-9 ]', ' ', 'g'),
        '\mp\s+ltd\M', ' ', 'g'),
        '\m(private|pvt|limited|ltd|llp|llc|inc|incorporated|co|company|corporation|corp|and)\M',
        ' ', 'g'),
        '\s+', ' ', 'g'),
        '^\s+|\s+$', '', 'g')), '')
{%- endmacro %}

{#-
    The distinct padded 3-grams of a name core (see above), as a sorted text[]; an empty array
    for a NULL core. "lotus rubber" -> {"  l", " lo", "bbe", "ber", "er ", "lot", ...}.
-#}
{% macro trigrams(core) -%}
    array(
        select distinct substr(t.padded, i, 3)
        from (select '  ' || replace(coalesce({{ core }}, ''), ' ', '') || ' ' as padded) as t
        cross join lateral generate_series(1, length(t.padded) - 2) as i
        where coalesce({{ core }}, '') <> ''
        order by 1
    )
{%- endmacro %}

{#-
    How many of a set's rarest trigrams a pair must share in for its Jaccard index to reach
    the threshold (prefix filtering: with one global order, two sets with J >= t always share
    a token within the first n - ceil(t * n) + 1 tokens of each). Blocking on that prefix
    keeps the comparison roughly linear: common trigrams ("ind", "che") sit at the end of the
    order and are never join keys.
-#}
{% macro trigram_prefix_length(n, threshold) -%}
    ({{ n }} - ceil({{ threshold }} * {{ n }})::integer + 1)
{%- endmacro %}
