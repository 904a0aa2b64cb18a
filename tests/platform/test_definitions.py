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
    cards = graph.get(dg.AssetKey(["marts", "email_cards"]))
    assert dg.AssetKey(["staging", "stg_mail__emails"]) in cards.parent_keys


def test_mail_to_cards_does_not_wait_for_an_erp() -> None:
    """An ERP outage must not leave the trader without scored mail and cards: nothing on
    the way from raw.emails to the cards is downstream of a Tally or Focus landing."""
    graph = defs.resolve_asset_graph()
    for key in (["ml", "email_predictions"], ["marts", "email_cards"]):
        upstream = {k.to_user_string() for k in graph.get_ancestor_asset_keys(dg.AssetKey(key))}
        assert "raw/emails" in upstream
        erp = {k for k in upstream if k.startswith(("raw/tally_", "raw/focus_"))}
        assert not erp, (key, erp)


def test_each_source_has_its_own_group_job_and_automation() -> None:
    groups = {spec.key.to_user_string(): spec.group_name for spec in defs.resolve_all_asset_specs()}
    assert groups["raw/emails"] == "ingest_mail"
    assert groups["raw/tally_vouchers"] == "ingest_tally"
    assert groups["raw/focus_invoices"] == "ingest_focus"
    assert groups["raw/prelead_rows"] == "ingest_prelead"
    assert "raw/quarantine" not in groups  # rejects of every source are rows of raw.rejects
    jobs = {job.name for job in defs.jobs}
    assert {"mail_ingest", "tally_ingest", "focus_ingest", "prelead_ingest"} <= jobs


def test_dbt_tests_and_python_checks_are_asset_checks() -> None:
    checks = {
        (c.asset_key.to_user_string(), c.name) for c in defs.resolve_asset_graph().asset_check_keys
    }
    assert ("marts/email_cards", "unique_email_cards_card_id") in checks
    assert ("staging/stg_mail__emails", "not_null_stg_mail__emails_email_key") in checks
    assert ("raw/emails", "gx_emails") in checks


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
