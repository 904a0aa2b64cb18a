"""IMAP pull against a real dovecot: incremental by UID, UIDVALIDITY changes, limits."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from ingest.common.cursors import get_cursor
from ingest.mail.client import ImapError, encode_modified_utf7
from ingest.mail.sync import CURSOR_SOURCE, cursor_key, pull


def _keys(conn) -> list[str]:
    return [row[0] for row in conn.execute("SELECT message_id FROM raw.emails ORDER BY load_seq")]


def test_incremental_pull_fetches_only_new_uids(warehouse, dovecot, imap_user, make_mail):
    settings = dovecot.settings(imap_user, imap_batch_size=2)
    for i in range(3):
        dovecot.append(imap_user, make_mail(message_id=f"<i{i}@x>", body=f"enquiry {i}"))

    first = pull(warehouse, settings)
    assert (first.seen, first.landed, first.duplicates) == (3, 3, 0)
    cursor = json.loads(get_cursor(warehouse, CURSOR_SOURCE, cursor_key(settings, "INBOX")))
    assert cursor["last_uid"] == 3

    nothing = pull(warehouse, settings)
    assert nothing.seen == 0

    uid = dovecot.append(imap_user, make_mail(message_id="<i3@x>", body="new one"))
    assert uid == 4
    second = pull(warehouse, settings)
    assert (second.seen, second.landed) == (1, 1)  # only the new UID was fetched
    assert _keys(warehouse) == ["i0@x", "i1@x", "i2@x", "i3@x"]
    source = warehouse.execute("SELECT source FROM raw.emails WHERE message_id = 'i3@x'").fetchone()
    assert source[0].startswith(f"imap://{dovecot.host}/INBOX;UIDVALIDITY=")
    assert source[0].endswith(";UID=4")


def test_pull_leaves_messages_unread(warehouse, dovecot, imap_user, make_mail):
    dovecot.append(imap_user, make_mail())
    pull(warehouse, dovecot.settings(imap_user))
    client = dovecot.client(imap_user)
    try:
        client.select("INBOX", readonly=True)
        typ, data = client.uid("SEARCH", None, "UNSEEN")
        assert data[0].split() == [b"1"]
    finally:
        client.logout()


def test_uidvalidity_change_rescans_folder_without_duplicates(
    warehouse, dovecot, imap_user, make_mail
):
    settings = dovecot.settings(imap_user)
    for i in range(2):
        dovecot.append(imap_user, make_mail(message_id=f"<v{i}@x>"))
    assert pull(warehouse, settings).landed == 2

    dovecot.set_uidvalidity(imap_user, "INBOX", 4242)
    dovecot.append(imap_user, make_mail(message_id="<v2@x>"))
    rescan = pull(warehouse, settings)
    assert (rescan.seen, rescan.landed, rescan.duplicates) == (3, 1, 2)
    cursor = json.loads(get_cursor(warehouse, CURSOR_SOURCE, cursor_key(settings, "INBOX")))
    assert cursor == {"uidvalidity": 4242, "last_uid": 3}
    assert len(_keys(warehouse)) == 3


def test_several_folders_have_their_own_cursor(warehouse, dovecot, imap_user, make_mail):
    client = dovecot.client(imap_user)
    client.create("Tenders")
    client.logout()
    dovecot.append(imap_user, make_mail(message_id="<inbox@x>"))
    dovecot.append(imap_user, make_mail(message_id="<t@x>", to="tenders@pebbledemo.in"), "Tenders")
    settings = dovecot.settings(imap_user, imap_folders=["INBOX", "Tenders"])
    summary = pull(warehouse, settings)
    assert summary.landed == 2
    rows = dict(warehouse.execute("SELECT message_id, mailbox FROM raw.emails").fetchall())
    assert rows == {"inbox@x": "sales", "t@x": "tenders"}


def test_too_large_message_left_on_server_and_quarantined(warehouse, dovecot, imap_user, make_mail):
    dovecot.append(imap_user, make_mail(message_id="<small@x>"))
    dovecot.append(imap_user, make_mail(message_id="<big@x>", body="y" * 8000))
    summary = pull(warehouse, dovecot.settings(imap_user, max_message_bytes=4096))
    assert summary.landed == 1 and summary.accounted
    [rejected] = summary.rejects
    assert rejected["locator"].endswith(";UID=2")
    assert rejected["reason"].startswith("too large")


def test_wrong_password_is_a_clear_error_without_the_secret(dovecot, imap_user, warehouse):
    settings = dovecot.settings(imap_user, imap_password=SecretStr("wrong-horse-battery"))
    with pytest.raises(ImapError) as info:
        pull(warehouse, settings)
    assert "login" in str(info.value).lower()
    assert "wrong-horse-battery" not in str(info.value)
    assert "wrong-horse-battery" not in repr(settings)


def test_unreachable_server_is_a_clear_error(warehouse, imap_user):
    from ingest.mail.settings import MailSettings

    settings = MailSettings(
        imap_host="127.0.0.1",
        imap_port=1,
        imap_user=imap_user,
        imap_password=SecretStr("x"),
        imap_ssl=False,
        imap_timeout_s=2,
    )
    with pytest.raises(ImapError, match="cannot connect"):
        pull(warehouse, settings)


def test_cli_imap_pull(warehouse, dovecot, imap_user, make_mail, monkeypatch):
    from pebble.cli import app

    dovecot.append(imap_user, make_mail())
    monkeypatch.setenv("MAIL_IMAP_HOST", dovecot.host)
    monkeypatch.setenv("MAIL_IMAP_PORT", str(dovecot.port))
    monkeypatch.setenv("MAIL_IMAP_USER", imap_user)
    monkeypatch.setenv("MAIL_IMAP_PASSWORD", "imap-test-secret")
    monkeypatch.setenv("MAIL_IMAP_SSL", "false")
    result = CliRunner().invoke(app, ["mail", "imap-pull"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["loaded"] == 1
    assert "imap-test-secret" not in result.output


def test_modified_utf7_folder_names():
    assert encode_modified_utf7("Entwürfe") == "Entw&APw-rfe"
    assert encode_modified_utf7("A&B") == "A&-B"


def test_uid_missing_from_fetch_gets_a_reject_record(warehouse, dovecot, imap_user, make_mail):
    """A message expunged between UID SEARCH and FETCH is recorded, not silently passed."""
    import imaplib

    from ingest.mail.sync import MISSING_FROM_FETCH, pull_folder

    for i in range(3):
        dovecot.append(imap_user, make_mail(message_id=f"<e{i}@x>", body=f"enquiry {i}"))

    class ExpungedMeanwhile(imaplib.IMAP4):
        """A real session; another client expunges UID 2 just before the body FETCH."""

        def uid(self, command, *args):  # noqa: ANN001, ANN202
            if command == "FETCH" and "BODY.PEEK" in args[-1]:
                other = dovecot.client(imap_user)
                other.select("INBOX")
                other.uid("STORE", "2", "+FLAGS", r"(\Deleted)")
                other.expunge()
                other.logout()
            return super().uid(command, *args)

    settings = dovecot.settings(imap_user)
    client = ExpungedMeanwhile(dovecot.host, dovecot.port, timeout=10)
    client.login(imap_user, "imap-test-secret")
    try:
        report = pull_folder(warehouse, client, settings, "INBOX")
    finally:
        client.logout()
    assert (report.seen, report.landed, report.rejected) == (3, 2, 1) and report.accounted
    [(locator, reason)] = warehouse.execute(
        "SELECT locator, reason FROM raw.rejects WHERE source = 'mail'"
    ).fetchall()
    assert locator.endswith(";UID=2") and reason == MISSING_FROM_FETCH
    assert json.loads(report.cursor_after)["last_uid"] == 3
    assert _keys(warehouse) == ["e0@x", "e2@x"]


def test_login_without_tls_is_warned_about_without_the_secret(
    warehouse, dovecot, imap_user, make_mail, caplog
):
    """MAIL_IMAP_SSL and MAIL_IMAP_STARTTLS both off: the login crosses the network in clear
    text. It still works (a local test server), but the log says so loudly, naming server
    and account, never the password."""
    dovecot.append(imap_user, make_mail())
    settings = dovecot.settings(imap_user, imap_ssl=False, imap_starttls=False)
    with caplog.at_level("WARNING", logger="ingest.mail.client"):
        summary = pull(warehouse, settings)
    assert summary.landed == 1
    [warning] = [r for r in caplog.records if "WITHOUT TLS" in r.getMessage()]
    assert warning.levelname == "WARNING"
    assert f"{dovecot.host}:{dovecot.port}" in warning.getMessage()
    assert imap_user in warning.getMessage()
    secret = settings.imap_password.get_secret_value()
    assert all(secret not in r.getMessage() for r in caplog.records)
    assert secret not in caplog.text
