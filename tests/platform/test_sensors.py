"""The drop sensors, evaluated with Dagster's real sensor context on real folders, and the
runs they request materialised with the real warehouse resource.

The sensors go by the ledger ``ops.drop_files``: a file is offered until a run handled its
bytes (``success``) or refused it; a file still changing is left until it has settled.
Files with old mtimes, files with equal mtimes beyond the per-run cap and the files of a
failed run were each skipped for good by the former mtime cursor.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import pytest

from orchestration.defs.mail.assets import raw_emails
from orchestration.defs.mail.automation import mail_drop_sensor
from orchestration.defs.prelead.assets import raw_prelead
from orchestration.defs.prelead.automation import prelead_drop_sensor
from orchestration.drops import LINK_REFUSED, scan
from orchestration.resources import WarehouseResource
from pebble.settings import get_settings
from tests.mail.conftest import make_message

BASE_NS = 1_700_000_000_000_000_000


@pytest.fixture
def drops(warehouse, pebble_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Empty drop folders, a settle period of zero (two ticks still needed), a Dagster
    instance and the real warehouse resource."""
    mail, prelead = tmp_path / "drops" / "mail", tmp_path / "drops" / "prelead"
    mail.mkdir(parents=True)
    prelead.mkdir(parents=True)
    monkeypatch.setenv("PEBBLE_MAIL_DROP_DIR", str(mail))
    monkeypatch.setenv("PEBBLE_PRELEAD_DROP_DIR", str(prelead))
    monkeypatch.setenv("PEBBLE_DROP_SETTLE_S", "0")
    get_settings.cache_clear()
    with dg.instance_for_test() as instance:
        yield Drops(mail, prelead, instance, WarehouseResource(database_url=pebble_env), warehouse)
    get_settings.cache_clear()


class Drops:
    def __init__(self, mail, prelead, instance, resource, conn) -> None:
        self.mail, self.prelead, self.instance = mail, prelead, instance
        self.resource, self.conn = resource, conn
        self.cursors: dict[str, str | None] = {}

    def tick(self, sensor: dg.SensorDefinition):
        """One evaluation, carrying the sensor's cursor over like the daemon does."""
        context = dg.build_sensor_context(
            cursor=self.cursors.get(sensor.name),
            instance=self.instance,
            resources={"warehouse": self.resource},
        )
        result = sensor(context)
        if isinstance(result, dg.SensorResult) and result.cursor is not None:
            self.cursors[sensor.name] = result.cursor
        return result

    def offered(self, sensor: dg.SensorDefinition, op: str) -> list[list[str]]:
        result = self.tick(sensor)
        if not isinstance(result, dg.SensorResult):
            return []
        return [r.run_config["ops"][op]["config"]["paths"] for r in result.run_requests]

    def run(self, sensor: dg.SensorDefinition, asset, op: str) -> list[str]:
        """Tick; run the one request it makes as the daemon would; return its paths."""
        result = self.tick(sensor)
        [request] = result.run_requests
        outcome = dg.materialize(
            [asset],
            run_config=request.run_config,
            resources={"warehouse": self.resource},
            instance=self.instance,
            tags=request.tags,
            raise_on_error=False,
        )
        self.last_run = outcome
        return request.run_config["ops"][op]["config"]["paths"]

    def ledger(self, source: str = "mail") -> dict[str, str]:
        return dict(
            self.conn.execute(
                "SELECT path, outcome FROM ops.drop_files WHERE source = %s", (source,)
            ).fetchall()
        )


def _write(path: Path, data: bytes, mtime_ns: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def _mail(n: int, to: str = "sales@pebbledemo.in") -> bytes:
    return make_message(message_id=f"<s{n}@x>", body=f"Rate for {n} MT", to=to)


def test_a_file_moved_in_with_an_old_mtime_is_offered(drops: Drops) -> None:
    new = _write(drops.mail / "new.eml", _mail(1), BASE_NS + 100)
    assert drops.offered(mail_drop_sensor, "raw_emails") == []  # first sight: settling
    assert drops.run(mail_drop_sensor, raw_emails, "raw_emails") == [str(new)]
    assert drops.last_run.success

    old = _write(drops.mail / "old.eml", _mail(2), BASE_NS)  # older than everything handled
    drops.tick(mail_drop_sensor)
    assert drops.run(mail_drop_sensor, raw_emails, "raw_emails") == [str(old)]
    assert drops.ledger() == {str(new): "success", str(old): "success"}
    row = drops.conn.execute(
        "SELECT size_bytes, sha256, mtime_ns, run_id, handled_at IS NOT NULL"
        " FROM ops.drop_files WHERE path = %s",
        (str(old),),
    ).fetchone()
    import hashlib

    assert row == (
        len(_mail(2)),
        hashlib.sha256(_mail(2)).hexdigest(),
        BASE_NS,
        drops.last_run.run_id,
        True,
    )
    assert drops.conn.execute("SELECT count(*) FROM raw.emails").fetchone()[0] == 2
    assert drops.offered(mail_drop_sensor, "raw_emails") == []  # all handled


def test_equal_mtimes_beyond_the_cap_are_all_offered(
    drops: Drops, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PEBBLE_DROP_MAX_FILES", "2")
    files = [_write(drops.mail / f"{n}.eml", _mail(n), BASE_NS) for n in range(5)]
    drops.tick(mail_drop_sensor)
    batches = [drops.run(mail_drop_sensor, raw_emails, "raw_emails") for _ in range(3)]
    assert [len(b) for b in batches] == [2, 2, 1]
    assert sorted(p for b in batches for p in b) == sorted(map(str, files))
    assert drops.offered(mail_drop_sensor, "raw_emails") == []
    assert set(drops.ledger().values()) == {"success"} and len(drops.ledger()) == 5


def test_a_file_still_growing_is_not_read_until_it_settles(
    drops: Drops, monkeypatch: pytest.MonkeyPatch
) -> None:
    growing = drops.mail / "big.eml"
    whole = _mail(7)
    growing.write_bytes(whole[:40])
    assert drops.offered(mail_drop_sensor, "raw_emails") == []
    with growing.open("ab") as handle:  # the writer is not done yet
        handle.write(whole[40:80])
    assert drops.offered(mail_drop_sensor, "raw_emails") == []  # changed since last tick
    with growing.open("ab") as handle:
        handle.write(whole[80:])

    monkeypatch.setenv("PEBBLE_DROP_SETTLE_S", "3600")  # unchanged, but not for long enough
    assert drops.offered(mail_drop_sensor, "raw_emails") == []
    assert drops.offered(mail_drop_sensor, "raw_emails") == []
    monkeypatch.setenv("PEBBLE_DROP_SETTLE_S", "0")
    assert drops.run(mail_drop_sensor, raw_emails, "raw_emails") == [str(growing)]
    body = drops.conn.execute("SELECT body_text FROM raw.emails").fetchone()[0]
    assert body.strip() == "Rate for 7 MT"  # the whole message, not a prefix


def test_a_failed_run_offers_its_files_again(drops: Drops) -> None:
    path = _write(drops.mail / "a.eml", _mail(1), BASE_NS)
    drops.tick(mail_drop_sensor)
    drops.conn.execute("ALTER TABLE raw.emails RENAME TO emails_away")  # the landing breaks
    first = drops.tick(mail_drop_sensor).run_requests[0]
    failed = dg.materialize(
        [raw_emails],
        run_config=first.run_config,
        resources={"warehouse": drops.resource},
        instance=drops.instance,
        tags=first.tags,
        raise_on_error=False,
    )
    assert not failed.success
    assert drops.ledger() == {str(path): "failed"}
    # not retried: a missing table is no transient fault
    attempts = [e for e in failed.all_events if e.event_type == dg.DagsterEventType.STEP_START]
    assert len(attempts) == 1

    drops.conn.execute("ALTER TABLE raw.emails_away RENAME TO emails")
    again = drops.tick(mail_drop_sensor).run_requests[0]
    assert again.run_config == first.run_config and again.run_key != first.run_key
    assert dg.materialize(
        [raw_emails],
        run_config=again.run_config,
        resources={"warehouse": drops.resource},
        instance=drops.instance,
        tags=again.tags,
    ).success
    assert drops.ledger() == {str(path): "success"}
    assert drops.offered(mail_drop_sensor, "raw_emails") == []


def test_nothing_more_is_offered_while_the_sensors_run_is_unfinished(drops: Drops) -> None:
    _write(drops.mail / "a.eml", _mail(1), BASE_NS)
    drops.tick(mail_drop_sensor)
    request = drops.tick(mail_drop_sensor).run_requests[0]
    running = drops.instance.add_run(
        dg.DagsterRun(
            job_name="mail_to_cards",
            run_id="running-run",
            run_config=request.run_config,
            tags=request.tags,
            status=dg.DagsterRunStatus.STARTED,
        )
    )
    waiting = drops.tick(mail_drop_sensor)
    assert isinstance(waiting, dg.SkipReason)
    assert waiting.skip_message == f"waiting for run {running.run_id} to finish"


def test_links_are_refused_and_recorded_not_followed(drops: Drops, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    secret = _write(outside / "secret.eml", make_message(message_id="<secret@x>"), BASE_NS)
    (drops.mail / "linked.eml").symlink_to(secret)
    (drops.mail / "linked-dir").symlink_to(outside)
    real = _write(drops.mail / "real.eml", _mail(1), BASE_NS)

    assert {f.path for f in scan(drops.mail)} == {
        str(drops.mail / "linked.eml"),
        str(drops.mail / "linked-dir"),
        str(real),
    }
    drops.tick(mail_drop_sensor)
    drops.run(mail_drop_sensor, raw_emails, "raw_emails")
    assert drops.last_run.success
    rejects = drops.conn.execute(
        "SELECT locator, reason, payload FROM raw.rejects WHERE source = 'mail' ORDER BY 1"
    ).fetchall()
    assert rejects == [
        (str(drops.mail / "linked-dir"), LINK_REFUSED, None),
        (str(drops.mail / "linked.eml"), LINK_REFUSED, None),
    ]
    assert [r[0] for r in drops.conn.execute("SELECT message_id FROM raw.emails")] == ["s1@x"]
    assert drops.ledger() == {
        str(drops.mail / "linked.eml"): "refused",
        str(drops.mail / "linked-dir"): "refused",
        str(real): "success",
    }
    assert drops.offered(mail_drop_sensor, "raw_emails") == []  # refused once, for good


def test_a_maildir_message_from_the_sensor_keeps_its_mailbox(drops: Drops) -> None:
    """The sensor hands over single Maildir files; they land as Maildir mail of their
    folder's mailbox (Maildir++ sub-folders included), not by their To: address."""
    for sub in ("cur", "new", "tmp"):
        (drops.mail / "qc" / sub).mkdir(parents=True)
        (drops.mail / "qc" / ".Complaints" / sub).mkdir(parents=True)
    top = _write(drops.mail / "qc" / "new" / "1.host", _mail(1, to="sales@pebbledemo.in"), BASE_NS)
    sub = _write(
        drops.mail / "qc" / ".Complaints" / "cur" / "2.host:2,S", _mail(2, to="x@y.in"), BASE_NS
    )
    _write(drops.mail / "qc" / "tmp" / "3.host", b"From: half", BASE_NS)  # being delivered

    drops.tick(mail_drop_sensor)
    assert sorted(drops.run(mail_drop_sensor, raw_emails, "raw_emails")) == sorted(
        [str(top), str(sub)]
    )
    rows = drops.conn.execute(
        "SELECT message_id, mailbox, source_kind FROM raw.emails ORDER BY 1"
    ).fetchall()
    assert rows == [("s1@x", "qc", "maildir"), ("s2@x", "complaints", "maildir")]


def test_prelead_sensor_offers_settled_lead_lists_once(drops: Drops) -> None:
    csv = _write(
        drops.prelead / "batch_9.csv",
        b"Firm Name,City\nApex Rubber,Pune\n",
        BASE_NS,
    )
    _write(drops.prelead / "notes.txt", b"not a lead list", BASE_NS)
    assert drops.offered(prelead_drop_sensor, "raw_prelead") == []
    assert drops.run(prelead_drop_sensor, raw_prelead, "raw_prelead") == [str(csv)]
    assert drops.last_run.success
    assert drops.ledger("prelead") == {str(csv): "success"}
    batches = drops.conn.execute("SELECT batch, rows FROM raw.prelead_batches").fetchall()
    assert batches == [("batch_9", 1)]
    assert drops.offered(prelead_drop_sensor, "raw_prelead") == []

    csv.write_bytes(b"Firm Name,City\nApex Rubber,Pune\nBharat Polymers,Surat\n")
    drops.tick(prelead_drop_sensor)  # changed content: offered again once it has settled
    assert drops.offered(prelead_drop_sensor, "raw_prelead") == [[str(csv)]]


def test_a_whole_folder_landing_fills_the_ledger(drops: Drops) -> None:
    """`pebble materialize` loads the whole drop folder (no paths); the sensor then knows
    those files and offers none of them again."""
    files = [_write(drops.mail / f"{n}.eml", _mail(n), BASE_NS) for n in range(3)]
    (drops.mail / "link.eml").symlink_to(files[0])  # refused by the loader as it walks
    result = dg.materialize(
        [raw_emails],
        run_config=dg.RunConfig(ops={"raw_emails": {"config": {"imap": False}}}),
        resources={"warehouse": drops.resource},
        instance=drops.instance,
    )
    assert result.success
    assert drops.ledger() == {
        **{str(f): "success" for f in files},
        str(drops.mail / "link.eml"): "refused",
    }
    assert drops.offered(mail_drop_sensor, "raw_emails") == []
    assert drops.offered(mail_drop_sensor, "raw_emails") == []
    rejects = drops.conn.execute("SELECT locator, reason FROM raw.rejects").fetchall()
    assert rejects == [(str(drops.mail / "link.eml"), LINK_REFUSED)]  # recorded once


def test_prelead_retries_transient_faults_only(drops: Drops) -> None:
    """raw_prelead has the landings' retry policy, but a fault that would only repeat (here
    a missing table) fails at once, and its file is marked failed for the next offer."""
    from orchestration.landing import LANDING_RETRY

    assert raw_prelead.op.retry_policy == LANDING_RETRY
    csv = _write(drops.prelead / "batch_1.csv", b"Firm Name,City\nApex Rubber,Pune\n", BASE_NS)
    drops.conn.execute("ALTER TABLE raw.prelead_batches RENAME TO prelead_batches_away")
    drops.tick(prelead_drop_sensor)
    assert drops.run(prelead_drop_sensor, raw_prelead, "raw_prelead") == [str(csv)]
    assert not drops.last_run.success
    starts = [
        e for e in drops.last_run.all_events if e.event_type == dg.DagsterEventType.STEP_START
    ]
    assert len(starts) == 1
    assert drops.ledger("prelead") == {str(csv): "failed"}
