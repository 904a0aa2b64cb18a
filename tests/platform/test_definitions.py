"""The code location loads and holds the expected assets and checks."""

import dagster as dg

from orchestration.definitions import defs


def _keys() -> set[str]:
    return {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}


def test_asset_keys_follow_the_warehouse() -> None:
    keys = _keys()
    assert {"raw/emails", "staging/stg_mail__emails", "marts/email_cards"} <= keys
    assert all(
        key.split("/")[0] in {"raw", "staging", "intermediate", "marts", "ml", "ops"}
        for key in keys
    )


def test_dbt_models_are_downstream_of_raw_assets() -> None:
    graph = defs.resolve_asset_graph()
    staging = graph.get(dg.AssetKey(["staging", "stg_mail__emails"]))
    assert dg.AssetKey(["raw", "emails"]) in staging.parent_keys
    cards = graph.get_ancestor_asset_keys(dg.AssetKey(["marts", "email_cards"]))
    assert dg.AssetKey(["staging", "stg_mail__emails"]) in cards


def test_mail_to_cards_does_not_wait_for_an_erp() -> None:
    """An ERP outage must not leave the trader without scored mail and cards: nothing on
    the way from raw.emails to the cards is downstream of a Tally or Focus landing."""
    graph = defs.resolve_asset_graph()
    for key in (["ml", "email_predictions"], ["marts", "email_cards"]):
        upstream = {k.to_user_string() for k in graph.get_ancestor_asset_keys(dg.AssetKey(key))}
        assert "raw/emails" in upstream
        erp = {k for k in upstream if k.startswith(("raw/tally_", "raw/focus_"))}
        assert not erp, (key, erp)


def test_each_source_has_its_own_group() -> None:
    groups = {spec.key.to_user_string(): spec.group_name for spec in defs.resolve_all_asset_specs()}
    assert groups["raw/emails"] == "ingest_mail"
    assert groups["raw/tally_vouchers"] == "ingest_tally"
    assert groups["raw/focus_invoices"] == "ingest_focus"
    assert groups["raw/prelead_rows"] == "ingest_prelead"
    assert "raw/quarantine" not in groups  # rejects of every source are rows of raw.rejects


def _job_keys(name: str) -> set[str]:
    job = defs.resolve_job_def(name)
    return {key.to_user_string() for key in job.asset_layer.selected_asset_keys}


def _step_keys(step: dg.AssetsDefinition) -> set[str]:
    return {key.to_user_string() for key in step.keys}


def test_named_jobs_hold_their_lineage() -> None:
    """mail_to_cards: mail, scoring and the cards step, and nothing of an ERP; erp_refresh:
    both ERPs and the warehouse step; nightly_full: every asset; prelead_ingest stays."""
    from orchestration.defs.dbt.assets import pebble_dbt_cards, pebble_dbt_warehouse

    jobs = {job.name for job in defs.jobs}
    assert {"mail_to_cards", "erp_refresh", "nightly_full", "prelead_ingest"} <= jobs

    mail = _job_keys("mail_to_cards")
    assert {"raw/emails", "ml/email_predictions", "marts/email_cards"} <= mail
    assert _step_keys(pebble_dbt_cards) <= mail
    assert not {k for k in mail if k.startswith(("raw/tally_", "raw/focus_"))}
    assert not mail & _step_keys(pebble_dbt_warehouse)

    erp = _job_keys("erp_refresh")
    assert {"raw/tally_stock_items", "raw/focus_sales_orders"} <= erp
    assert _step_keys(pebble_dbt_warehouse) <= erp
    assert {"marts/crm_companies", "marts/stock_levels", "marts/sales_orders"} <= erp
    assert not {k for k in erp if k.startswith(("raw/emails", "ml/"))}

    executable = {
        key.to_user_string()
        for key in defs.resolve_asset_graph().get_all_asset_keys()
        if defs.resolve_asset_graph().get(key).is_executable
    }
    assert _job_keys("nightly_full") == executable


def test_runs_that_share_a_system_carry_its_concurrency_tag() -> None:
    """The run coordinator keeps one run at a time per tag key (dagster.yaml): every job
    that pulls Tally, lands or scores mail, or builds the warehouse step says so, and the
    declarative automation's runs too."""
    import yaml

    from orchestration.concurrency import MAIL, TALLY, WAREHOUSE
    from orchestration.defs.dbt.assets import pebble_dbt_warehouse
    from pebble.settings import PROJECT_ROOT

    config = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
    limits = config["run_coordinator"]["config"]["tag_concurrency_limits"]
    # by key alone: a run counts whatever the tag's value
    assert {(limit["key"], limit.get("value"), limit["limit"]) for limit in limits} >= {
        (TALLY, None, 1),
        (MAIL, None, 1),
        (WAREHOUSE, None, 1),
    }
    warehouse = _step_keys(pebble_dbt_warehouse)
    for job in defs.jobs:
        keys = _job_keys(job.name)
        tags = defs.resolve_job_def(job.name).tags
        if any(k.startswith("raw/tally_") for k in keys):
            assert TALLY in tags, job.name
        if keys & {"raw/emails", "ml/email_predictions"}:
            assert MAIL in tags, job.name
        if keys & warehouse:
            assert WAREHOUSE in tags, job.name
    automation = next(s for s in defs.sensors if s.name == "dbt_automation_sensor")
    assert WAREHOUSE in automation.run_tags


def test_dbt_models_refresh_after_their_landings_by_declarative_automation() -> None:
    from orchestration.defs.dbt.assets import pebble_dbt_cards, pebble_dbt_warehouse

    graph = defs.resolve_asset_graph()
    models = {*pebble_dbt_cards.keys, *pebble_dbt_warehouse.keys}
    for key in models:
        condition = graph.get(key).automation_condition
        assert condition is not None and condition.get_label().startswith("eager"), key
    sensor = next(s for s in defs.sensors if s.name == "dbt_automation_sensor")
    assert isinstance(sensor, dg.AutomationConditionSensorDefinition)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.asset_selection.resolve(graph) == models
    # no other automation sensor (Dagster's default one is stopped unless started)
    assert not any(s.name == "default_automation_condition_sensor" for s in defs.sensors)


def test_dbt_tests_and_python_checks_are_asset_checks() -> None:
    checks = {
        (c.asset_key.to_user_string(), c.name) for c in defs.resolve_asset_graph().asset_check_keys
    }
    assert ("marts/email_cards", "unique_email_cards_card_id") in checks
    assert ("staging/stg_mail__emails", "not_null_stg_mail__emails_email_key") in checks
    assert ("raw/emails", "gx_emails") in checks


def test_every_dbt_unit_test_is_an_asset_check_on_its_model() -> None:
    import json

    from orchestration.defs.dbt.assets import PebbleDbtTranslator
    from orchestration.defs.dbt.project import dbt_project

    manifest = json.loads(dbt_project.manifest_path.read_text())
    checks = {
        (c.asset_key.to_user_string(), c.name) for c in defs.resolve_asset_graph().asset_check_keys
    }
    translator = PebbleDbtTranslator()
    unit_tests = manifest["unit_tests"].values()
    assert unit_tests
    for unit_test in unit_tests:
        model = manifest["nodes"][unit_test["depends_on"]["nodes"][0]]
        key = translator.get_asset_key(model).to_user_string()
        assert (key, unit_test["name"]) in checks, unit_test["unique_id"]


def test_the_dbt_steps_take_no_config_that_could_full_refresh() -> None:
    """Every run builds with a plain `dbt build`: a step has no config (no way to ask for
    --full-refresh from a schedule or the launchpad), and the nightly run asks for none."""
    from orchestration.defs.dbt.assets import pebble_dbt_cards, pebble_dbt_warehouse

    for step in (pebble_dbt_cards, pebble_dbt_warehouse):
        field = step.op.config_field
        assert field is None or not field.config_type.fields, step.op.name
    nightly = next(s for s in defs.schedules if s.name == "nightly_full_build")
    assert nightly.cron_schedule == "0 2 * * *"
    assert nightly.execution_timezone == "Asia/Kolkata"
    assert nightly.job_name == "nightly_full"


def test_assets_declare_group_owners_and_description() -> None:
    for spec in defs.resolve_all_asset_specs():
        assert spec.group_name, spec.key
        assert spec.owners, spec.key
        if spec.key.path[0] == "raw":
            assert spec.description, spec.key
            assert spec.kinds, spec.key


def test_instance_config_uses_postgres_queue_and_retries() -> None:
    import yaml

    from pebble.settings import PROJECT_ROOT

    config = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
    assert config["storage"]["custom"]["class"] == "PebbleStorage"
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["run_coordinator"]["config"]["max_concurrent_runs"] >= 1
    # a crashed run worker is retried; a failed step is not (steps have retry policies,
    # and typed connection errors are not retried at all), as the README says
    assert config["run_retries"]["enabled"] is True
    assert config["run_retries"]["retry_on_asset_or_op_failure"] is False
    assert config["telemetry"]["enabled"] is False


def test_dagster_cli_validates_the_workspace(pebble_env: str) -> None:
    """`dagster definitions validate -w workspace.yaml` passes with nothing but Pebble's settings."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from pebble.settings import PROJECT_ROOT

    dagster = Path(sys.executable).parent / "dagster"
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    # as under `dagster dev` (which prepares the dbt manifest) from a shell whose PATH does
    # not include the virtual environment
    env["DAGSTER_IS_DEV_CLI"] = "1"
    env["PATH"] = "/usr/bin:/bin"
    out = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "passed validation" in out.stderr + out.stdout


def test_dbt_unit_tests_run_in_full_builds_and_not_in_every_refresh() -> None:
    """Unit tests check SQL logic on fixed inputs: the nightly build and `pebble materialize`
    run them (their run tag), the refreshes after new mail or a landing do not."""
    from orchestration.defs.dbt.assets import UNIT_TESTS_TAG, dbt_build_args

    assert dbt_build_args({UNIT_TESTS_TAG: "true"}) == ["build"]
    refresh = dbt_build_args({})
    assert refresh[0] == "build" and "unit_test" in refresh
    assert refresh[refresh.index("unit_test") - 1] == "--exclude-resource-type"
    assert "--full-refresh" not in refresh
    jobs = {
        name: defs.resolve_job_def(name)
        for name in ("nightly_full", "mail_to_cards", "erp_refresh")
    }
    assert jobs["nightly_full"].tags.get(UNIT_TESTS_TAG) == "true"
    assert UNIT_TESTS_TAG not in jobs["mail_to_cards"].tags
    assert UNIT_TESTS_TAG not in jobs["erp_refresh"].tags
