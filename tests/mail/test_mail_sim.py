"""`pebble sim mail`: paced delivery into a drop folder and into IMAP, resumable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from demo.sim.mail import DropFolderTarget, ImapTarget, deliver, world_messages
from ingest.mail.land import land_paths


@pytest.fixture
def world(tmp_path: Path, make_mail) -> Path:
    """A tiny demo world: two mailboxes, five messages with interleaved dates."""
    root = tmp_path / "world"
    plan = [
        ("sales", "1.M1.gen:2,S", "Mon, 03 Nov 2025 09:00:00 +0530"),
        ("accounts", "2.M2.gen:2,S", "Mon, 03 Nov 2025 09:30:00 +0530"),
        ("sales", "3.M3.gen:2,", "Mon, 03 Nov 2025 10:00:00 +0530"),
        ("accounts", "4.M4.gen:2,S", "Tue, 04 Nov 2025 11:00:00 +0530"),
        ("sales", "5.M5.gen:2,S", "Wed, 05 Nov 2025 12:00:00 +0530"),
    ]
    for index, (box, name, date) in enumerate(plan):
        for sub in ("cur", "new", "tmp"):
            (root / "mail" / "maildir" / box / sub).mkdir(parents=True, exist_ok=True)
        raw = make_mail(message_id=f"<w{index}@x>", date=date, to=f"{box}@pebbledemo.in")
        (root / "mail" / "maildir" / box / "cur" / name).write_bytes(raw)
    return root


def test_world_messages_in_date_order(world):
    messages = world_messages(world)
    assert [m.delivery_id for m in messages] == [
        "sales/1.M1.gen",
        "accounts/2.M2.gen",
        "sales/3.M3.gen",
        "accounts/4.M4.gen",
        "sales/5.M5.gen",
    ]


def test_missing_world_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="generate the demo world"):
        world_messages(tmp_path / "nowhere")


def test_drop_folder_delivery_paced_and_resumable(world, tmp_path, warehouse):
    drop = tmp_path / "drop"
    state = tmp_path / "state"
    sleeps: list[float] = []
    first = deliver(
        world,
        [DropFolderTarget(drop)],
        state_dir=state,
        rate=2.0,
        limit=3,
        start_fraction=0.4,
        sleep=sleeps.append,
    )
    target = DropFolderTarget(drop).name
    assert first.delivered == {target: 3}
    # Two of five at once, then paced at 2/s: one pause of about 0.5 s before the 4th... the
    # 3rd message is the first paced one and is due immediately.
    assert all(0 < s <= 0.5 for s in sleeps) and len(sleeps) <= 1
    delivered = sorted(p.relative_to(drop).as_posix() for p in drop.rglob("*") if p.is_file())
    assert delivered == ["accounts/new/2.M2.gen", "sales/new/1.M1.gen", "sales/new/3.M3.gen"]
    assert not any(list((drop / box / "tmp").iterdir()) for box in ("sales", "accounts"))

    summary = land_paths(warehouse, [drop])
    assert summary.landed == 3
    rows = dict(warehouse.execute("SELECT message_id, mailbox FROM raw.emails").fetchall())
    assert rows == {"w0@x": "sales", "w1@x": "accounts", "w2@x": "sales"}

    # A restart continues: nothing is delivered twice.
    second = deliver(world, [DropFolderTarget(drop)], state_dir=state, rate=0)
    assert second.delivered == {target: 2}
    assert second.skipped == {target: 3}
    third = deliver(world, [DropFolderTarget(drop)], state_dir=state, rate=0)
    assert third.delivered == {}
    assert land_paths(warehouse, [drop]).landed == 2


def test_imap_append_delivery(world, tmp_path, dovecot, imap_user):
    settings = dovecot.settings(imap_user)
    target = ImapTarget(settings, "{mailbox}")
    try:
        report = deliver(world, [target], state_dir=tmp_path / "state", rate=0)
    finally:
        target.close()
    assert report.delivered == {target.name: 5}
    client = dovecot.client(imap_user)
    try:
        counts = {}
        for folder in ("sales", "accounts"):
            typ, data = client.select(folder, readonly=True)
            counts[folder] = int(data[0])
            typ, unseen = client.uid("SEARCH", None, "UNSEEN")
            assert len(unseen[0].split()) == counts[folder]  # delivered unread
    finally:
        client.logout()
    assert counts == {"sales": 3, "accounts": 2}


def test_cli_sim_mail_drop_and_imap(world, tmp_path, dovecot, imap_user, monkeypatch):
    from pebble.cli import app

    monkeypatch.setenv("PEBBLE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MAIL_IMAP_HOST", dovecot.host)
    monkeypatch.setenv("MAIL_IMAP_PORT", str(dovecot.port))
    monkeypatch.setenv("MAIL_IMAP_USER", imap_user)
    monkeypatch.setenv("MAIL_IMAP_PASSWORD", "imap-test-secret")
    monkeypatch.setenv("MAIL_IMAP_SSL", "false")
    from pebble.settings import get_settings

    get_settings.cache_clear()
    drop = tmp_path / "drop"
    args = ["sim", "mail", "--drop", str(drop), "--world", str(world), "--rate", "0"]
    result = CliRunner().invoke(app, [*args, "--limit", "4"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["total"] == 5
    assert sorted(report["delivered"].values()) == [4, 4]
    assert len([p for p in drop.rglob("new/*")]) == 4
    client = dovecot.client(imap_user)
    typ, data = client.select("INBOX", readonly=True)
    client.logout()
    assert int(data[0]) == 4

    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert sorted(json.loads(result.stdout.strip().splitlines()[-1])["delivered"].values()) == [
        1,
        1,
    ]
    get_settings.cache_clear()
