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


#: The models the cards need, built in a step of their own: mail, ML predictions, people's
#: events, lead lists and the rejects, up to ``email_cards``. An ERP outage skips only the
#: other step (Dagster skips a whole step when one of its upstream steps failed), so mail is
#: still carded while Tally or Focus RT is down.
CARDS_SELECT = (
    "resource_type:seed +email_cards path:models/staging/mail path:models/staging/ml "
    "path:models/staging/ops path:models/staging/prelead path:models/staging/ingest"
)


def _dbt_step(name: str, description: str, select: str, exclude: str | None = None):
    @dbt_assets(
        manifest=dbt_project.manifest_path,
        project=dbt_project,
        name=name,
        select=select,
        exclude=exclude,
        dagster_dbt_translator=PebbleDbtTranslator(
            settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
        ),
    )
    def _models(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        os.environ.update(db.dbt_env())  # the profile follows Pebble's database resolution
        yield from dbt.cli(["build"], context=context).stream()

    _models.__doc__ = description
    return _models


pebble_dbt_cards = _dbt_step(
    "pebble_dbt_cards",
    "Builds (runs and tests) the models the Kanban cards need: mail, ML, events, leads.",
    CARDS_SELECT,
)
pebble_dbt_warehouse = _dbt_step(
    "pebble_dbt_warehouse",
    "Builds (runs and tests) the rest: ERP staging and marts, the CRM master, the activity stream.",
    "fqn:*",
    exclude=CARDS_SELECT,
)
