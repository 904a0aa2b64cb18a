"""Schedules and sensors: present, and the drop sensor never requests the same files twice."""

import os
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
    assert schedules["tally_every_15_minutes"].cron_schedule == "*/15 * * * *"
    assert schedules["focus_every_15_minutes"].cron_schedule == "*/15 * * * *"
    assert schedules["imap_poll_schedule"].cron_schedule == "* * * * *"
    assert {s.name for s in defs.sensors} == {"mail_drop_sensor", "prelead_drop_sensor"}
    tally_job = defs.resolve_job_def("tally_ingest")
    assert tally_job.tags["pebble/source"] == "tally"  # one Tally run at a time (dagster.yaml)


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
        tally = next(s for s in defs.schedules if s.name == "tally_every_15_minutes")
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
