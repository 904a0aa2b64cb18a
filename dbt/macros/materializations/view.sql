{#
    Views are replaced in place (CREATE OR REPLACE VIEW), never swapped and dropped.

    dbt's default view materialisation builds `x__dbt_tmp`, renames `x` to `x__dbt_backup`,
    and ends with `drop view x__dbt_backup cascade`. PostgreSQL binds a view to the objects
    it reads, so that cascade silently drops every view built on `x`. Here that meant:
    - a subset build (the cards step rebuilding `stg_mail__emails`) dropped the warehouse
      step's views that read it (`int_crm__source_records` and what is built on it) until
      the next warehouse build;
    - two threads swapping two views with a dependent in common deadlocked ("deadlock
      detected" on `stg_mail__emails` and `stg_focus__invoices`, seen in bench_dbt).
    In-place replacement keeps dependents and takes a lock on the view alone. PostgreSQL
    refuses it when a column is renamed, removed or retyped (SQLSTATE 42P16 or 42804); only
    then is the view dropped (with its dependents, which their own models rebuild) and made
    anew, inside the same statement.
#}
{% materialization view, adapter='postgres' %}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='view') -%}
  {%- set grant_config = config.get('grants') -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}

  {#- a table of that name (a model that was a table before) cannot be replaced by a view -#}
  {% if existing_relation is not none and not existing_relation.is_view %}
    {{ drop_relation_if_exists(existing_relation) }}
    {%- set existing_relation = none -%}
  {% endif %}

  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% call statement('main') -%}
    do $pebble_view$
    begin
      execute $pebble_sql$ create or replace view {{ target_relation }} as (
        {{ sql }}
      ) $pebble_sql$;
    exception when invalid_table_definition or datatype_mismatch then
      execute $pebble_sql$ drop view if exists {{ target_relation }} cascade $pebble_sql$;
      execute $pebble_sql$ create view {{ target_relation }} as (
        {{ sql }}
      ) $pebble_sql$;
    end
    $pebble_view$
  {%- endcall %}

  {% set should_revoke = should_revoke(existing_relation, full_refresh_mode=True) %}
  {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke) %}

  {% do persist_docs(target_relation, model) %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}

  {{ adapter.commit() }}

  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}
{%- endmaterialization -%}
