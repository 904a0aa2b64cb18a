"""Schedules, sensors and declarative automation: present, pointed at the named jobs, the
dbt models requested after their landings, the freshness checks failing a stale landing,
and no automation racing a materialisation."""

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from orchestration.definitions import defs
from orchestration.defs.mail.automation import mail_drop_sensor
from orchestration.drops import scan
from orchestration.resources import WarehouseResource
from pebble.settings import get_settings


def test_schedules_and_sensors_exist() -> None:
    schedules = {s.name: s for s in defs.schedules}
    assert schedules["erp_every_15_minutes"].cron_schedule == "*/15 * * * *"
    assert schedules["imap_poll_schedule"].cron_schedule == "* * * * *"
    assert schedules["nightly_full_build"].cron_schedule == "0 2 * * *"
    assert {name: s.job_name for name, s in schedules.items()} == {
        "erp_every_15_minutes": "erp_refresh",
        "imap_poll_schedule": "mail_to_cards",
        "nightly_full_build": "nightly_full",
        "nightly_backup": "nightly_backup",
    }
    assert schedules["nightly_backup"].cron_schedule == "30 1 * * *"  # before the build
    sensors = {s.name: s for s in defs.sensors}
    assert set(sensors) == {
        "mail_drop_sensor",
        "prelead_drop_sensor",
        "dbt_automation_sensor",
        "freshness_checks_sensor",
    }
    assert sensors["mail_drop_sensor"].job_name == "mail_to_cards"
    assert sensors["prelead_drop_sensor"].job_name == "prelead_ingest"
    for name in ("erp_every_15_minutes", "nightly_full_build", "nightly_backup"):
        assert schedules[name].default_status == dg.DefaultScheduleStatus.RUNNING, name
    for sensor in sensors.values():
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING, sensor.name
    erp = defs.resolve_job_def("erp_refresh")
    assert erp.tags["pebble/tally"]  # one Tally run at a time (dagster.yaml)


def _write(path: Path, text: str, mtime_ns: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.utime(path, ns=(mtime_ns, mtime_ns))


# What the drop sensors offer, and when, is tested in test_sensors.py (the drop ledger).


def test_scan_of_a_missing_folder_is_empty(tmp_path: Path) -> None:
    assert scan(tmp_path / "absent") == []


def test_imap_poll_skips_without_imap(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("MAIL_IMAP_HOST", "MAIL_IMAP_USER", "MAIL_IMAP_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    schedule = next(s for s in defs.schedules if s.name == "imap_poll_schedule")
    result = schedule.evaluate_tick(dg.build_schedule_context())
    assert result.skip_message and "IMAP is not configured" in result.skip_message


def test_automation_waits_while_a_materialisation_lands_the_same_sources(
    warehouse, pebble_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pebble up` serves first and materialises in the background: meanwhile the sensors
    and schedules start no second landing of the same folders and servers."""
    from pebble.status import FAILED, RUNNING, RunStatus, write_status

    drop = tmp_path / "drop"
    _write(drop / "1.eml", "Subject: a\n\nx", 1_700_000_000_000_000_000)
    monkeypatch.setenv("PEBBLE_MAIL_DROP_DIR", str(drop))
    monkeypatch.setenv("PEBBLE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PEBBLE_DROP_SETTLE_S", "0")
    get_settings.cache_clear()
    instance = dg.DagsterInstance.ephemeral()

    def sense(cursor: str | None = None):  # noqa: ANN202
        return mail_drop_sensor(
            dg.build_sensor_context(
                cursor=cursor,
                instance=instance,
                resources={"warehouse": WarehouseResource(database_url=pebble_env)},
            )
        )

    try:
        write_status(RunStatus(state=RUNNING, pid=os.getpid(), run_id="first-run"))
        waiting = sense()
        assert isinstance(waiting, dg.SkipReason) and "first-run" in waiting.skip_message
        tally = next(s for s in defs.schedules if s.name == "erp_every_15_minutes")
        at = datetime.now(UTC)
        tick = tally.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=at))
        assert not tick.run_requests and "first-run" in tick.skip_message

        write_status(RunStatus(state=FAILED, run_id="first-run"))  # over: back to work
        settling = sense()  # first sight of the file: it must settle over one more tick
        assert not settling.run_requests
        after = sense(settling.cursor)
        assert len(after.run_requests) == 1
        context = dg.build_schedule_context(scheduled_execution_time=at)
        assert len(tally.evaluate_tick(context).run_requests) == 1
    finally:
        get_settings.cache_clear()


def _executable_keys() -> list[dg.AssetKey]:
    graph = defs.resolve_asset_graph()
    return [key for key in graph.get_all_asset_keys() if graph.get(key).is_executable]


def test_a_landing_requests_the_models_that_read_it_and_no_others() -> None:
    """Declarative automation: once Tally's ledgers land, their staging model and every
    model downstream of it are requested in one go; the cards, which read no ERP, are not;
    nothing is requested while nothing changed."""
    from orchestration.defs.dbt.assets import pebble_dbt_cards, pebble_dbt_warehouse

    graph = defs.resolve_asset_graph()
    models = dg.AssetSelection.assets(pebble_dbt_cards, pebble_dbt_warehouse)
    with dg.instance_for_test() as instance:
        for key in _executable_keys():  # everything built once
            instance.report_runless_asset_event(dg.AssetMaterialization(key))
        first = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, asset_selection=models
        )
        assert first.total_requested == 0
        ledgers = dg.AssetKey(["raw", "tally_ledgers"])
        instance.report_runless_asset_event(dg.AssetMaterialization(ledgers))
        after = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, asset_selection=models, cursor=first.cursor
        )
    requested = {r.key for r in after.results if r.true_subset.size}
    staging = dg.AssetKey(["staging", "stg_tally__ledgers"])
    assert requested == dg.AssetSelection.assets(staging).downstream().resolve(graph)
    assert dg.AssetKey(["marts", "crm_companies"]) in requested
    assert not requested & set(pebble_dbt_cards.keys)


def test_freshness_checks_watch_the_landings_with_thresholds_from_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from orchestration.defs.pipelines.freshness import FreshnessSettings, freshness_checks

    checked = {
        check.asset_key.to_user_string()
        for check in defs.resolve_asset_graph().asset_check_keys
        if check.name == "freshness_check"
    }
    assert {
        "raw/emails",
        "raw/tally_stock_items",
        "raw/tally_ledgers",
        "raw/focus_sales_orders",
        "raw/focus_qc_inspections",
    } <= checked
    assert not {k for k in checked if k.startswith("raw/prelead")}  # lists come when they come

    monkeypatch.setenv("PEBBLE_FRESHNESS_TALLY_HOURS", "3")
    settings = FreshnessSettings()
    assert (settings.mail_hours, settings.tally_hours, settings.focus_hours) == (24.0, 3.0, 1.0)
    tally = next(
        c
        for c in freshness_checks(settings)
        if any("tally" in k.asset_key.path[1] for k in c.check_keys)
    )
    spec = next(iter(tally.check_specs))
    assert spec.metadata["dagster/freshness_params"].data["lower_bound_delta_seconds"] == 3 * 3600


def _run_mail_freshness(instance: dg.DagsterInstance, hours: float) -> bool:
    from orchestration.defs.pipelines.freshness import FreshnessSettings, freshness_checks

    checks = freshness_checks(FreshnessSettings(mail_hours=hours))
    mail = next(
        c for c in checks if dg.AssetKey(["raw", "emails"]) in {k.asset_key for k in c.check_keys}
    )
    job = dg.define_asset_job("freshness", selection=dg.AssetSelection.checks(mail))
    checks_only = dg.Definitions(
        assets=[dg.AssetSpec(["raw", "emails"])], asset_checks=[mail], jobs=[job]
    )
    result = checks_only.resolve_job_def("freshness").execute_in_process(instance=instance)
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation.passed


def test_a_stale_landing_fails_its_freshness_check() -> None:
    with dg.instance_for_test() as instance:
        assert not _run_mail_freshness(instance, hours=24)  # never landed
        instance.report_runless_asset_event(dg.AssetMaterialization(["raw", "emails"]))
        assert _run_mail_freshness(instance, hours=24)
        # landed, but longer ago than a threshold of a thousandth of a second
        time.sleep(0.05)
        assert not _run_mail_freshness(instance, hours=1e-6)
