"""Outlook .msg files land like .eml (real .msg files from Apache POI's test data, see
tests/data/msg/README.md): headers, bodies, attachments in the content store, the same
accounting and deduplication, and a corrupt .msg quarantined with the reason."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from ingest.common import store
from ingest.mail.land import land_bytes, land_paths
from ingest.mail.msg import is_outlook_msg, msg_to_rfc822
from ingest.mail.parse import Unparseable, parse_email

DATA = Path(__file__).resolve().parents[1] / "data" / "msg"
RECEIVED = DATA / "example_received_regular.msg"
QUICK = DATA / "quick.msg"


def test_a_received_msg_keeps_its_internet_headers_bodies_and_attachment() -> None:
    raw = RECEIVED.read_bytes()
    assert is_outlook_msg(raw)
    parsed = parse_email(raw)
    assert parsed.email_key == hashlib.sha256(raw).hexdigest()  # the file's own bytes
    assert parsed.size_bytes == len(raw)
    assert parsed.subject == "This is a test message please ignore"
    assert (parsed.from_name, parsed.from_addr) == ("Mike Farman", "mike.farman@alfresco.com")
    assert parsed.to_addrs == [
        "ashutosh.dandavate@alfresco.com",
        "paul.hh@alfresco.com",
        "mikef@alfresco.com",
    ]
    assert "nick.burch@alfresco.com" in parsed.cc_addrs
    assert parsed.message_id == "27350255.35521263227107828.JavaMail.root@zimbra.alfresco.com"
    assert parsed.sent_at is not None and parsed.sent_at.isoformat() == "2010-01-11T16:25:07+00:00"
    assert "The quick brown fox jumps over the lazy dog" in parsed.body_text
    assert parsed.has_html
    [gif] = parsed.attachments
    assert (gif.filename, gif.content_type, gif.size_bytes) == ("alfresco.gif", "image/gif", 16174)
    assert gif.payload[:2] == b"BM"  # the sender named a bitmap .gif: the bytes are kept as sent


def test_a_msg_without_internet_headers_is_built_from_its_properties() -> None:
    rfc822 = msg_to_rfc822(QUICK.read_bytes())
    assert b"Subject: Test the content transformer" in rfc822
    parsed = parse_email(QUICK.read_bytes())
    assert parsed.subject == "Test the content transformer"
    assert parsed.from_name == "Kevin Roast"
    assert parsed.from_addr is None  # an Exchange X.500 name is not an address
    assert parsed.to_addrs == ["kevin.roast@alfresco.org"]
    assert parsed.message_id is not None and parsed.message_id.endswith("hostedservice2.net")
    assert parsed.body_text == "The quick brown fox jumps over the lazy dog"


def test_msg_files_land_once_with_attachments_in_the_store(warehouse, tmp_path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(RECEIVED, drop / "mail.msg")
    shutil.copy(RECEIVED, drop / "same mail again.msg")
    broken = drop / "broken.msg"
    broken.write_bytes(RECEIVED.read_bytes()[:4096])  # cut short: the OLE tables are gone
    report = land_paths(warehouse, [drop], mailbox="sales")
    assert (report.seen, report.landed, report.duplicates, report.rejected) == (3, 1, 1, 1)
    assert report.accounted
    [reject] = report.rejects
    assert reject["locator"] == str(broken)
    assert reject["reason"].startswith("Outlook .msg file could not be read")
    stored = warehouse.execute(
        "SELECT payload FROM raw.rejects WHERE locator = %s", (str(broken),)
    ).fetchone()[0]
    assert bytes(stored) == broken.read_bytes()
    row = warehouse.execute(
        "SELECT subject, from_addr, mailbox, attachment_count FROM raw.emails"
    ).fetchone()
    assert row == ("This is a test message please ignore", "mike.farman@alfresco.com", "sales", 1)
    sha, name = warehouse.execute("SELECT sha256, filename FROM raw.email_attachments").fetchone()
    assert name == "alfresco.gif"
    blob = store.blob_path(store.attachments_root(), sha).read_bytes()
    assert hashlib.sha256(blob).hexdigest() == sha and len(blob) == 16174
    # an upload of the same file is the same mail
    again = land_bytes(warehouse, [("upload.msg", RECEIVED.read_bytes())])
    assert (again.landed, again.duplicates) == (0, 1)


def test_an_outlook_item_that_is_not_mail_is_refused() -> None:
    # an OLE2 file that is no Outlook item at all (the header of one, then nothing)
    try:
        parse_email(RECEIVED.read_bytes()[:512] + b"\x00" * 512)
    except Unparseable as exc:
        assert str(exc).startswith("Outlook .msg file could not be read")
    else:
        raise AssertionError("a corrupt .msg was parsed")


def test_pebble_mail_load_takes_msg_files(warehouse, tmp_path) -> None:
    from pebble.cli import app

    shutil.copy(RECEIVED, tmp_path / "a.msg")
    (tmp_path / "b.msg").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"junk" * 10)
    result = CliRunner().invoke(app, ["mail", "load", str(tmp_path), "--mailbox", "sales"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["seen"], summary["loaded"], summary["duplicates"]) == (2, 1, 0)
    [quarantined] = summary["quarantined"]
    assert quarantined["source"] == str(tmp_path / "b.msg")
    assert quarantined["reason"].startswith("Outlook .msg file could not be read")
    assert "binary data" not in quarantined["reason"]
