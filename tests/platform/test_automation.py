"""Schedules and sensors: present, and the drop sensor never requests the same files twice."""

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from orchestration.definitions import defs
from orchestration.defs.mail.automation import mail_drop_sensor
from orchestration.drops import new_drop_files
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


def test_drop_sensor_requests_new_files_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drop = tmp_path / "drop"
    monkeypatch.setenv("PEBBLE_MAIL_DROP_DIR", str(drop))
    monkeypatch.setenv("PEBBLE_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    try:
        base = 1_700_000_000_000_000_000
        _write(drop / "sales" / "new" / "1.eml", "Subject: a\n\nx", base)
        _write(drop / "sales" / "tmp" / "partial.eml", "Subject: b\n\ny", base + 5)
        _write(drop / "2.eml", "Subject: c\n\nz", base + 10)

        first = mail_drop_sensor(dg.build_sensor_context(cursor=None))
        assert len(first.run_requests) == 1
        request = first.run_requests[0]
        paths = request.run_config["ops"]["raw_emails"]["config"]["paths"]
        assert paths == [str(drop / "sales" / "new" / "1.eml"), str(drop / "2.eml")]
        assert request.run_key == f"mail-drop:{base + 10}:2"

        # the same cursor again: nothing new, no run
        again = mail_drop_sensor(dg.build_sensor_context(cursor=first.cursor))
        assert isinstance(again, dg.SkipReason)

        _write(drop / "3.eml", "Subject: d\n\nw", base + 20)
        third = mail_drop_sensor(dg.build_sensor_context(cursor=first.cursor))
        assert [
            r.run_config["ops"]["raw_emails"]["config"]["paths"] for r in third.run_requests
        ] == [[str(drop / "3.eml")]]
        assert json.loads(third.cursor)["mtime_ns"] == base + 20
    finally:
        get_settings.cache_clear()


def test_new_drop_files_of_a_missing_folder_is_empty(tmp_path: Path) -> None:
    assert new_drop_files(tmp_path / "absent", 0) == []


def test_imap_poll_skips_without_imap(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("MAIL_IMAP_HOST", "MAIL_IMAP_USER", "MAIL_IMAP_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    schedule = next(s for s in defs.schedules if s.name == "imap_poll_schedule")
    result = schedule.evaluate_tick(dg.build_schedule_context())
    assert result.skip_message and "IMAP is not configured" in result.skip_message


def test_automation_waits_while_a_materialisation_lands_the_same_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pebble up` serves first and materialises in the background: meanwhile the sensors
    and schedules start no second landing of the same folders and servers."""
    from pebble.status import FAILED, RUNNING, RunStatus, write_status

    drop = tmp_path / "drop"
    _write(drop / "1.eml", "Subject: a\n\nx", 1_700_000_000_000_000_000)
    monkeypatch.setenv("PEBBLE_MAIL_DROP_DIR", str(drop))
    monkeypatch.setenv("PEBBLE_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    try:
        write_status(RunStatus(state=RUNNING, pid=os.getpid(), run_id="first-run"))
        waiting = mail_drop_sensor(dg.build_sensor_context(cursor=None))
        assert isinstance(waiting, dg.SkipReason) and "first-run" in waiting.skip_message
        tally = next(s for s in defs.schedules if s.name == "tally_every_15_minutes")
        at = datetime.now(UTC)
        tick = tally.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=at))
        assert not tick.run_requests and "first-run" in tick.skip_message

        write_status(RunStatus(state=FAILED, run_id="first-run"))  # over: back to work
        after = mail_drop_sensor(dg.build_sensor_context(cursor=None))
        assert len(after.run_requests) == 1
        context = dg.build_schedule_context(scheduled_execution_time=at)
        assert len(tally.evaluate_tick(context).run_requests) == 1
    finally:
        get_settings.cache_clear()
