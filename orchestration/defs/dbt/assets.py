"""dbt models as Dagster assets keyed by their warehouse path ([schema, model])."""

import os
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from orchestration.defs.dbt.project import dbt_project
from pebble import db


class PebbleDbtTranslator(DagsterDbtTranslator):
    """Keys follow the warehouse: sources -> [raw, table]; models -> [schema, name]."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        schema = dbt_resource_props.get("config", {}).get("schema") or "staging"
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        schema = dbt_resource_props.get("config", {}).get("schema") or "staging"
        return f"dbt_{schema}"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return ["team:analytics"]


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=PebbleDbtTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
    ),
)
def pebble_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """Builds (runs and tests) the dbt models: staging views and the marts the app reads."""
    os.environ.update(db.dbt_env())  # the profile follows Pebble's database resolution
    yield from dbt.cli(["build"], context=context).stream()
