"""dbt models as Dagster assets keyed by their warehouse path ([schema, model]).

Every model refreshes itself after the tables it reads (declarative automation, see
:func:`refresh_after_upstream`), its data tests are asset checks (dagster-dbt), and so are
its unit tests (added here: dagster-dbt 0.29 runs them inside ``dbt build`` but reports
nothing about them, so a failing unit test only showed as a skipped model).
"""

import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliInvocation,
    DbtCliResource,
    dbt_assets,
)

from orchestration.defs.dbt.project import dbt_project
from pebble import db

#: How dagster-dbt records the dbt node behind an asset or check (its own metadata key, read
#: back when it subsets a run: a unit test is selected by its fully qualified name).
UNIQUE_ID_KEY = "dagster_dbt/unique_id"

#: Run tag that makes the dbt steps run the unit tests too. dbt's unit tests check the SQL's
#: logic on fixed inputs, so they cannot change with the data: the nightly full build and
#: ``pebble materialize`` (the first run, a deploy) set it; the refreshes that follow new
#: mail or a landing (declarative automation, sensors) skip them, as dbt advises for
#: production builds (a third of the work of a mail refresh). ``make test`` runs them all.
UNIT_TESTS_TAG = "pebble/dbt_unit_tests"


def dbt_build_args(tags: Mapping[str, str]) -> list[str]:
    """The ``dbt build`` arguments of a run with these tags."""
    if tags.get(UNIT_TESTS_TAG) == "true":
        return ["build"]
    return ["build", "--exclude-resource-type", "unit_test"]


def written_outside_dagster(manifest: Mapping[str, Any]) -> list[dg.AssetKey]:
    """Tables dbt reads that no Dagster run writes: people's events and the views over them
    (``ops``), the entities ml/email_predictions writes beside its predictions, and the
    bookkeeping every landing shares (raw.rejects, raw.ingest_cursors)."""
    from orchestration.landing import SHARED_TABLES

    ops = sorted(node["name"] for node in manifest["sources"].values() if node["schema"] == "ops")
    return [
        *(dg.AssetKey(["ops", name]) for name in ops),
        dg.AssetKey(["ml", "email_entities"]),
        *(dg.AssetKey(["raw", table]) for table in SHARED_TABLES),
    ]


def refresh_after_upstream(outside: list[dg.AssetKey]) -> dg.AutomationCondition:
    """``eager``: a model is requested once any table it reads has been updated (by a run
    that did not already rebuild the model itself), or when it goes missing; never while a
    table it reads or the model itself is being built. So a landing's marts refresh after
    it without waiting for the nightly build, and a model the job that landed its data
    already rebuilt is not rebuilt again.

    Tables written outside Dagster (``outside``) are never materialised in Dagster's eyes:
    they would count as missing forever and hold back the models reading them, so they are
    left out of the missing-dependency rule."""
    return (
        dg.AutomationCondition.eager()
        .replace(
            "any_deps_missing",
            dg.AutomationCondition.any_deps_missing().ignore(dg.AssetSelection.assets(*outside)),
        )
        .with_label("eager (tables written outside Dagster ignored)")
    )


class PebbleDbtTranslator(DagsterDbtTranslator):
    """Keys follow the warehouse: sources -> [raw, table]; models -> [schema, name]."""

    def __init__(
        self,
        settings: DagsterDbtTranslatorSettings | None = None,
        automation_condition: dg.AutomationCondition | None = None,
    ) -> None:
        super().__init__(settings=settings)
        self._automation_condition = automation_condition

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

    def get_automation_condition(
        self, dbt_resource_props: Mapping[str, Any]
    ) -> dg.AutomationCondition | None:
        return self._automation_condition


#: The models the cards need, built in a step of their own: mail, ML predictions, people's
#: events, lead lists and the rejects, up to ``email_cards``. An ERP outage skips only the
#: other step (Dagster skips a whole step when one of its upstream steps failed), so mail is
#: still carded while Tally or Focus RT is down.
CARDS_SELECT = (
    "resource_type:seed +email_cards path:models/staging/mail path:models/staging/ml "
    "path:models/staging/ops path:models/staging/prelead path:models/staging/ingest"
)


def unit_test_check_specs(
    manifest: Mapping[str, Any], translator: DagsterDbtTranslator, keys: set[dg.AssetKey]
) -> list[dg.AssetCheckSpec]:
    """One check per dbt unit test, on the model it tests (models of ``keys`` only)."""
    specs = []
    for unique_id, unit_test in sorted(manifest.get("unit_tests", {}).items()):
        model_id = unit_test["depends_on"]["nodes"][0]
        key = translator.get_asset_key(manifest["nodes"][model_id])
        if key not in keys:
            continue
        description = (unit_test.get("description") or "").strip()
        specs.append(
            dg.AssetCheckSpec(
                unit_test["name"],
                asset=key,
                description=f"dbt unit test. {description}".strip(),
                metadata={UNIQUE_ID_KEY: unique_id},
            )
        )
    return specs


def unit_test_results(
    context: dg.AssetExecutionContext, invocation: DbtCliInvocation
) -> Iterator[dg.AssetCheckResult]:
    """The outcome of each selected unit test, read from the run's ``run_results.json``
    (a unit test dbt skipped, because something upstream failed, reports nothing)."""
    checks = {
        spec.metadata[UNIQUE_ID_KEY]: spec.key
        for spec in context.assets_def.check_specs
        if str(spec.metadata.get(UNIQUE_ID_KEY, "")).startswith("unit_test.")
    }
    selected = context.selected_asset_check_keys
    try:
        results = invocation.get_artifact("run_results.json").get("results", [])
    except FileNotFoundError:  # dbt failed before it ran anything
        return
    for result in results:
        key = checks.get(result.get("unique_id"))
        status = result.get("status")
        if key is None or key not in selected or status not in ("pass", "fail", "error"):
            continue
        yield dg.AssetCheckResult(
            asset_key=key.asset_key,
            check_name=key.name,
            passed=status == "pass",
            metadata={"status": status, "message": str(result.get("message") or "")[:1000]},
        )


def _dbt_step(name: str, description: str, select: str, exclude: str | None = None):
    """One ``dbt build`` step over the models ``select`` names, as a subsettable
    multi-asset: dagster-dbt's specs and data-test checks, plus a check per unit test."""
    manifest = dbt_project.manifest_path
    manifest_json = json.loads(manifest.read_text())
    translator = PebbleDbtTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True),
        automation_condition=refresh_after_upstream(written_outside_dagster(manifest_json)),
    )

    @dbt_assets(
        manifest=manifest,
        project=dbt_project,
        name=name,
        select=select,
        exclude=exclude,
        dagster_dbt_translator=translator,
    )
    def _specs(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        yield from ()  # never run: only its specs and op tags are used, by the step below

    @dg.multi_asset(
        name=name,
        specs=list(_specs.specs),
        check_specs=[
            *_specs.check_specs,
            *unit_test_check_specs(manifest_json, translator, set(_specs.keys)),
        ],
        can_subset=True,
        # dagster-dbt's selection (select/exclude) travels in the op tags
        op_tags=dict(_specs.op.tags),
        allow_arbitrary_check_specs=True,
        description=description,
    )
    def _models(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        os.environ.update(db.dbt_env())  # the profile follows Pebble's database resolution
        # A test reading models of both steps (a mart's relationship to a staging model of
        # the cards) runs in the step that builds the last of them: "buildable" selects a
        # test whose parents are all selected or upstream of what is, where dbt's default
        # ("eager": any parent selected) would run it in the cards step against a mart not
        # built yet. dagster-dbt still overrides it when a run selects only some checks.
        os.environ["DBT_INDIRECT_SELECTION"] = "buildable"
        # plain `dbt build`, never --full-refresh: the activity stream is incremental and
        # append-only, and a full refresh would rebuild it from what the sources still hold
        invocation = dbt.cli(
            dbt_build_args(context.run.tags), context=context, raise_on_error=False
        )
        yield from invocation.stream()
        yield from unit_test_results(context, invocation)
        if not invocation.is_successful():
            raise invocation.get_error() or RuntimeError(f"dbt build failed in {name}")

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
