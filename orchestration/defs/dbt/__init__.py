"""dbt: every model is an asset downstream of the raw tables it reads; dbt tests are checks."""

import json

import dagster as dg

from orchestration.defs.dbt.assets import pebble_dbt_cards, pebble_dbt_warehouse
from orchestration.defs.dbt.project import dbt_project


def _written_outside_dagster() -> list[dg.AssetSpec]:
    """Tables dbt reads that no Dagster run materialises, declared so the graph shows who
    writes them: people's events and the views over them (``ops``, written by the app
    through pebble/events.py), and the entities ml/email_predictions writes beside its
    predictions."""
    manifest = json.loads(dbt_project.manifest_path.read_text())
    ops = sorted(node["name"] for node in manifest["sources"].values() if node["schema"] == "ops")
    return [
        *(
            dg.AssetSpec(
                ["ops", name],
                description=f"ops.{name}: people's actions, recorded by the app "
                "(pebble/events.py), or a view folding them",
                group_name="ops",
                owners=["team:app"],
                kinds={"postgres"},
            )
            for name in ops
        ),
        dg.AssetSpec(
            ["ml", "email_entities"],
            # no dep on it: jobs select downstream of their landings, and only executable
            # assets can be selected
            description="Entities extracted per email, written by ml/email_predictions",
            group_name="ml",
            owners=["team:ml"],
            kinds={"postgres"},
        ),
    ]


defs = dg.Definitions(assets=[pebble_dbt_cards, pebble_dbt_warehouse, *_written_outside_dagster()])
