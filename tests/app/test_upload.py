"""Uploading mail in the app (app/upload.py): the files are queued into the mail drop folder,
the drop sensor offers them and the landing run loads them with the loader's accounting
(landed, duplicate, quarantined with the reason), and the widget follows them in the drop
ledger."""

from __future__ import annotations

import os
from email.message import EmailMessage
from pathlib import Path

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from app.upload import queue_uploads, status_frame, upload_status, user_folder
from pebble.auth import NotAllowed, User
from pebble.settings import get_settings
from tests.app.conftest import staging_views

ROOT = Path(__file__).resolve().parents[2]
MSG = ROOT / "tests" / "data" / "msg" / "example_received_regular.msg"
SALES = User("priya", "sales")
MODELS = ROOT / "dbt" / "models"


def _eml(subject: str = "Rate enquiry") -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "bala@acme.in", "sales@pebbledemo.in", subject
    msg["Date"] = "Mon, 02 Nov 2026 09:00:00 +0530"
    msg.set_content("Please quote 5 MT.")
    return msg.as_bytes()


def _sensor_and_landing(conn: psycopg.Connection) -> None:
    """What the mail drop sensor and its run do: offer the settled files, land them."""
    from orchestration.defs.mail.assets import MailLoadConfig, sync_mail
    from orchestration.drops import DropSettings, plan_offer, scan

    settings = DropSettings(settle_s=0)
    entries = scan(get_settings().mail_drops)
    first = plan_offer(conn, "mail", entries, {}, now=0.0, settings=settings)
    offer = plan_offer(conn, "mail", entries, first.seen, now=1.0, settings=settings)
    paths = [f.path for f, _ in offer.files]
    sync_mail(conn, MailLoadConfig(paths=paths, imap=False), run_id=f"run-{len(paths)}")


def test_uploads_are_queued_whole_into_the_user_s_drop_folder(pebble_env) -> None:
    queued = queue_uploads(
        SALES,
        [
            ("../../etc/rate enquiry.eml", _eml()),
            ("Outlook mail.MSG", MSG.read_bytes()),
            ("photo.png", b"\x89PNG"),
            ("empty.eml", b""),
        ],  # fmt: skip
    )
    folder = user_folder(SALES)
    assert folder == get_settings().mail_drops / "uploads" / "priya"
    eml, msg, png, empty = queued
    assert Path(eml.path).parent == folder and Path(eml.path).name.endswith("-rate-enquiry.eml")
    assert Path(eml.path).read_bytes() == _eml()
    assert Path(msg.path).name.endswith("-Outlook-mail.msg")
    assert (png.path, png.refused) == (None, "not a mail file: only .eml and .msg are taken")
    assert (empty.path, empty.refused) == (None, "empty file")
    assert sorted(os.listdir(folder)) == sorted([Path(eml.path).name, Path(msg.path).name])
    with pytest.raises(NotAllowed):
        queue_uploads(User("meena", "manager"), [("a.eml", _eml())])


def test_queued_files_land_through_the_loader_with_its_accounting(warehouse) -> None:
    staging_views(warehouse, "stg_mail__emails", "stg_ingest__rejects")
    broken = MSG.read_bytes()[:4096]
    queued = queue_uploads(
        SALES,
        [
            ("enquiry.eml", _eml()),
            ("mail.msg", MSG.read_bytes()),
            ("broken.msg", broken),
            ("notes.eml", b"just some words, no headers"),
        ],  # fmt: skip
    )
    assert [s.state for s in upload_status(warehouse, queued)] == ["queued"] * 4
    _sensor_and_landing(warehouse)
    states = {s.name: (s.state, s.detail) for s in upload_status(warehouse, queued)}
    assert states["enquiry.eml"][0] == "landed"
    assert states["mail.msg"][0] == "landed"
    assert states["broken.msg"][0] == "quarantined"
    assert states["broken.msg"][1].startswith("Outlook .msg file could not be read")
    assert states["notes.eml"] == ("quarantined", "no email headers found")
    subjects = {r[0] for r in warehouse.execute("SELECT subject FROM raw.emails")}
    assert subjects == {"Rate enquiry", "This is a test message please ignore"}

    again = queue_uploads(SALES, [("enquiry again.eml", _eml())])  # the same mail again
    _sensor_and_landing(warehouse)
    [status] = upload_status(warehouse, again)
    assert status.state == "duplicate"
    assert warehouse.execute("SELECT count(*) FROM raw.emails").fetchone() == (2,)


def test_without_a_readable_ledger_files_are_queued(warehouse) -> None:
    queued = queue_uploads(SALES, [("a.eml", _eml())])
    warehouse.execute("DROP TABLE ops.drop_files")
    [status] = upload_status(warehouse, queued)
    assert status.state == "queued"
    assert status_frame([status]).columns == ["file", "state", "detail"]


def _widget() -> None:
    from app.upload import render_upload
    from pebble.auth import User

    render_upload(User("priya", "sales"))


def test_the_widget_queues_files_and_follows_them(warehouse) -> None:
    staging_views(warehouse, "stg_mail__emails", "stg_ingest__rejects")
    at = AppTest.from_function(_widget, default_timeout=30).run()
    assert not at.exception
    uploader = at.file_uploader[0]
    assert sorted(uploader.allowed_type) == [".eml", ".msg"] or sorted(uploader.allowed_type) == [
        "eml",
        "msg",
    ]
    uploader.set_value(
        [("enquiry.eml", _eml(), "message/rfc822"), ("mail.msg", MSG.read_bytes(), "x/y")]
    )
    at.button(key="mail_upload_queue").click().run()
    assert not at.exception
    [frame] = at.dataframe
    assert frame.value["state"].tolist() == ["queued", "queued"]
    assert any("Its card appears after that landing" in c.value for c in at.caption)
    _sensor_and_landing(warehouse)
    at.button(key="mail_upload_poll").click().run()
    [frame] = at.dataframe
    assert frame.value["file"].tolist() == ["enquiry.eml", "mail.msg"]
    assert frame.value["state"].tolist() == ["landed", "landed"]


def _manager_widget() -> None:
    from app.upload import render_upload
    from pebble.auth import User

    render_upload(User("meena", "manager"))


def test_a_manager_gets_no_upload_widget(pebble_env) -> None:
    at = AppTest.from_function(_manager_widget, default_timeout=30).run()
    assert not at.exception
    assert not at.file_uploader and not at.button
