{#
    Planner hygiene for the warehouse build (bench/bench_dbt.py measures it).

    - Statistics. A model's plan is only as good as the row counts PostgreSQL believes.
      The landings write raw.* from Python and the models write tables; until autovacuum
      (when it runs at all: a test server may turn it off) analyses them, the planner
      guesses one row per table, picks nested loops over whole tables and, with costs
      that wrong, compiles every query with JIT. So the build analyses the sources whose
      statistics are missing or stale when it starts (analyze_stale_sources, on-run-start,
      autovacuum's own threshold: 50 rows + 10% changed since the last analyse), and every
      table model right after it is written (analyze_this_table, a post-hook).
    - JIT. LLVM compilation pays off for long scans of few expressions; the models are
      the opposite (hundreds of expressions, seconds of rows), where compiling cost more
      than the query (9 of crm_companies' 19 s at demo scale 1). Each model's transaction
      turns it off for itself (set local), nothing else's.
#}

{% macro analyze_stale_sources() %}
    {%- if execute and flags.WHICH in ('build', 'run', 'test') -%}
        {%- set relations = [] -%}
        {%- for source in graph.sources.values() -%}
            {%- do relations.append(source.schema ~ '.' ~ source.identifier) -%}
        {%- endfor -%}
        {%- if relations -%}
            {%- set stale = run_query(
                "select quote_ident(schemaname) || '.' || quote_ident(relname)"
                ~ " from pg_stat_user_tables"
                ~ " where schemaname || '.' || relname in ('" ~ (relations | join("', '")) ~ "')"
                ~ " and (coalesce(last_analyze, last_autoanalyze) is null"
                ~ " or n_mod_since_analyze > 50 + 0.1 * n_live_tup)"
                ~ " order by 1"
            ) -%}
            {%- for row in stale.rows -%}
                {%- do run_query("analyze " ~ row[0]) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}

{% macro analyze_this_table() -%}
    {%- if model.config.materialized == 'table' -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
