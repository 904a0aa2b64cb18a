"""Landing into the warehouse: accounting, idempotence, variants, attachments, sources."""

from __future__ import annotations

import base64
import hashlib
import json
import mailbox
from pathlib import Path

from typer.testing import CliRunner

from ingest.mail.client import LINK_REFUSED, iter_path, unquote_mboxrd
from ingest.mail.land import land_bytes, land_paths
from pebble.settings import get_settings


def _count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_flanker_corpus_every_file_accounted_for(warehouse, flanker_corpus):
    files = [p for p in flanker_corpus.rglob("*") if p.is_file() and p.name != "LICENSE"]
    assert len(files) == 157
    summary = land_paths(warehouse, files)
    assert summary.seen == 157
    assert summary.accounted
    assert summary.landed > 100
    assert _count(warehouse, "raw.emails") == summary.landed
    assert {q["locator"] for q in summary.rejects} == {
        row[0] for row in warehouse.execute("SELECT locator FROM raw.rejects WHERE source = 'mail'")
    }
    # Rejected inputs keep their bytes.
    assert warehouse.execute(
        "SELECT count(*) FROM raw.rejects WHERE payload IS NULL AND NOT payload_in_store"
    ).fetchone() == (0,)

    again = land_paths(warehouse, files)
    assert again.seen == 157 and again.landed == 0 and again.accounted
    assert again.duplicates == summary.landed + summary.duplicates
    assert _count(warehouse, "raw.emails") == summary.landed
    assert _count(warehouse, "raw.rejects") == summary.rejected == len(summary.rejects)


def test_loaded_row_content(warehouse, make_mail, tmp_path):
    path = tmp_path / "one.eml"
    raw = make_mail(extra_headers="References: <root@x>")
    path.write_bytes(raw)
    summary = land_paths(warehouse, [path])
    assert (summary.seen, summary.landed, summary.duplicates, summary.rejects) == (1, 1, 0, [])
    row = warehouse.execute(
        "SELECT email_key, message_id, mailbox, source_kind, source, from_addr, to_addrs, "
        '"references", thread_key, size_bytes, variant_of FROM raw.emails'
    ).fetchone()
    assert row == (
        hashlib.sha256(raw).hexdigest(),
        "m1@example.in",
        "sales",  # from the To address, a configured mailbox
        "eml",
        str(path),
        "ravi@apexrubber.in",
        ["sales@pebbledemo.in"],
        ["root@x"],
        "root@x",
        len(raw),
        None,
    )


def test_same_message_id_different_bytes_are_linked(warehouse, make_mail):
    first = make_mail(body="Rate please")
    resent = make_mail(body="Rate please (resent)")
    third = make_mail(body="Rate please, third time")
    summary = land_bytes(warehouse, [("a.eml", first), ("b.eml", resent)])
    assert (summary.landed, summary.duplicates) == (2, 0)
    summary = land_bytes(warehouse, [("c.eml", third), ("a-again.eml", first)])
    assert (summary.landed, summary.duplicates) == (1, 1)
    rows = dict(warehouse.execute("SELECT email_key, variant_of FROM raw.emails").fetchall())
    root = hashlib.sha256(first).hexdigest()
    assert rows == {
        root: None,
        hashlib.sha256(resent).hexdigest(): root,
        hashlib.sha256(third).hexdigest(): root,
    }


def test_attachments_stored_by_hash_never_by_name(warehouse, tmp_path):
    payload = b"%PDF-1.4 purchase order 4500012345"
    digest = hashlib.sha256(payload).hexdigest()
    raw = (
        b"From: buyer@apexrubber.in\r\nTo: sales@pebbledemo.in\r\nSubject: PO\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="m"\r\n\r\n'
        b"--m\r\nContent-Type: text/plain\r\n\r\nPO attached\r\n"
        b"--m\r\nContent-Type: application/pdf\r\n"
        b'Content-Disposition: attachment; filename="../../../../tmp/pwned.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(payload)
        + b"\r\n--m\r\nContent-Type: application/pdf\r\n"
        b'Content-Disposition: attachment; filename="/etc/cron.d/evil"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(payload) + b"\r\n--m--\r\n"
    )
    summary = land_bytes(warehouse, [("../../upload.eml", raw)])
    assert summary.landed == 1
    home = get_settings().home
    stored = home / "attachments" / digest[:2] / digest
    assert stored.read_bytes() == payload
    assert not (home / "tmp" / "pwned.pdf").exists()
    assert not Path("/tmp/pwned.pdf").exists()
    files = [p for p in (home / "attachments").rglob("*") if p.is_file()]
    assert files == [stored]
    rows = warehouse.execute(
        "SELECT sha256, filename, content_type, size_bytes FROM raw.email_attachments"
    ).fetchall()
    assert rows == [(digest, "pwned.pdf", "application/pdf", len(payload))]
    assert warehouse.execute("SELECT attachment_count FROM raw.emails").fetchone() == (2,)


def test_too_large_quarantined_with_bytes_kept(warehouse, make_mail, tmp_path):
    big = make_mail(body="x" * 20_000)
    path = tmp_path / "big.eml"
    path.write_bytes(big)
    summary = land_paths(warehouse, [path], max_bytes=4096)
    assert summary.landed == 0
    assert summary.rejects[0]["reason"].startswith("too large")
    digest = hashlib.sha256(big).hexdigest()
    row = warehouse.execute(
        "SELECT source, source_kind, sha256, payload, payload_in_store, size_bytes FROM raw.rejects"
    ).fetchone()
    assert row == ("mail", "eml", digest, None, True, len(big))
    assert (get_settings().home / "quarantine" / digest[:2] / digest).read_bytes() == big


def test_oversize_mbox_message_is_streamed_to_quarantine_not_read(
    warehouse, make_mail, tmp_path, monkeypatch
):
    small, big = make_mail(subject="small"), make_mail(subject="big", body="y" * 50_000)
    path = tmp_path / "sales.mbox"
    box = mailbox.mbox(str(path))
    box.add(small)
    box.add(big)
    box.close()
    read = []
    get_bytes = mailbox.mbox.get_bytes
    monkeypatch.setattr(
        mailbox.mbox,
        "get_bytes",
        lambda self, key, *a: read.append(key) or get_bytes(self, key, *a),
    )
    summary = land_paths(warehouse, [path], max_bytes=8192)
    assert summary.landed == 1 and len(summary.rejects) == 1
    assert read == [0], "the oversize message was read into memory"
    index = mailbox.mbox(str(path))
    assert len(index.keys()) == 2  # builds the table of contents
    start, stop = index._toc[1]
    with path.open("rb") as f:
        f.seek(start)
        exact = f.read(stop - start)
    digest = hashlib.sha256(exact).hexdigest()
    row = warehouse.execute(
        "SELECT locator, sha256, payload, payload_in_store, size_bytes, reason FROM raw.rejects"
    ).fetchone()
    assert row[:5] == (f"{path}#1", digest, None, True, len(exact))
    assert row[5].startswith("too large")
    assert (get_settings().home / "quarantine" / digest[:2] / digest).read_bytes() == exact
    again = land_paths(warehouse, [path], max_bytes=8192)
    assert again.landed == 0
    assert warehouse.execute("SELECT count(*) FROM raw.rejects").fetchone() == (1,)


def test_unparseable_and_missing_inputs_quarantined(warehouse, tmp_path):
    junk = tmp_path / "photo.png"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    summary = land_paths(warehouse, [junk, tmp_path / "does-not-exist.eml"])
    assert summary.seen == 2 and summary.accounted
    reasons = {Path(q["locator"]).name: q["reason"] for q in summary.rejects}
    assert reasons["photo.png"].startswith("binary data")
    assert reasons["does-not-exist.eml"] == "not found"
    raw = warehouse.execute(
        "SELECT payload FROM raw.rejects WHERE locator = %s", (str(junk),)
    ).fetchone()[0]
    assert bytes(raw) == junk.read_bytes()


def test_parser_crash_is_quarantined_not_lost(warehouse, make_mail, monkeypatch):
    import ingest.mail.land as land_module

    def boom(raw, **kwargs):
        raise RuntimeError("simulated parser bug")

    monkeypatch.setattr(land_module, "parse_email", boom)
    summary = land_bytes(warehouse, [("x.eml", make_mail())])
    assert summary.rejects == [
        {"locator": "x.eml", "reason": "parser error: RuntimeError: simulated parser bug"}
    ]


def _write_maildir(root: Path, messages: list[bytes]) -> None:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    for index, raw in enumerate(messages):
        folder = "cur" if index % 2 else "new"
        suffix = ":2,S" if folder == "cur" else ""
        (root / folder / f"17000000{index}.M1P1.host{suffix}").write_bytes(raw)
    (root / "tmp" / "partial").write_bytes(b"From: half")


def test_maildir_and_mbox_sources(warehouse, make_mail, tmp_path):
    messages = [make_mail(message_id=f"<q{i}@x>", body=f"QC query {i}") for i in range(3)]
    _write_maildir(tmp_path / "mail" / "qc", messages)
    box = mailbox.mbox(str(tmp_path / "mail" / "accounts.mbox"))
    for i in range(2):
        box.add(make_mail(message_id=f"<a{i}@x>", body=f"Invoice {i}\nFrom here on"))
    box.flush()
    box.close()

    summary = land_paths(warehouse, [tmp_path / "mail"])
    assert (summary.seen, summary.landed, summary.duplicates, summary.rejects) == (5, 5, 0, [])
    rows = warehouse.execute(
        "SELECT mailbox, source_kind, count(*) FROM raw.emails GROUP BY 1, 2 ORDER BY 1"
    ).fetchall()
    assert rows == [("accounts", "mbox", 2), ("qc", "maildir", 3)]
    body = warehouse.execute(
        "SELECT body_text FROM raw.emails WHERE message_id = 'a0@x'"
    ).fetchone()[0]
    assert body == "Invoice 0\nFrom here on"  # the writer's ">From " quoting is undone

    override = land_paths(warehouse, [tmp_path / "mail" / "qc"], mailbox="Tenders")
    assert override.duplicates == 3  # same bytes: the first landing wins


def test_mboxrd_unquoting():
    assert unquote_mboxrd(b"a\n>From x\n>>From y\n>Fromage\n") == b"a\nFrom x\n>From y\n>Fromage\n"


def test_symlinks_in_drop_folders_are_not_followed(tmp_path, make_mail):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.eml").write_bytes(make_mail())
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "link").symlink_to(outside)
    (drop / "real.eml").write_bytes(make_mail(message_id="<real@x>"))
    items = {Path(m.source).name: m for m in iter_path(drop)}
    assert sorted(items) == ["link", "real.eml"]
    assert items["link"].raw is None and items["link"].error == LINK_REFUSED


def test_links_in_drop_folders_get_reject_records(warehouse, make_mail, tmp_path):
    outside = tmp_path / "outside"
    _write_maildir(outside / "elsewhere", [make_mail(message_id="<outside@x>")])
    secret = outside / "secret.txt"
    secret.write_bytes(b"From: root\r\nSubject: not yours\r\n\r\nsecret\r\n")
    drop = tmp_path / "drop"
    _write_maildir(drop / "qc", [make_mail(message_id="<q0@x>")])
    (drop / "qc" / "cur" / "1700000099.M9P9.host:2,S").symlink_to(secret)  # a message
    (drop / "qc" / ".Sub").symlink_to(outside / "elsewhere")  # a Maildir++ folder
    (drop / "linked.eml").symlink_to(secret)  # a loose file
    _write_maildir(drop / "sales", [])
    (drop / "sales" / "cur").rmdir()
    (drop / "sales" / "cur").symlink_to(outside / "elsewhere" / "cur")  # a Maildir folder

    summary = land_paths(warehouse, [drop])
    assert summary.accounted and summary.landed == 1 and summary.rejected == 4
    rows = warehouse.execute(
        "SELECT locator, reason, payload FROM raw.rejects WHERE source = 'mail'"
    ).fetchall()
    assert {
        (str(Path(loc).relative_to(drop)), reason, payload) for loc, reason, payload in rows
    } == {
        ("qc/cur/1700000099.M9P9.host:2,S", LINK_REFUSED, None),
        ("qc/.Sub", LINK_REFUSED, None),
        ("linked.eml", LINK_REFUSED, None),
        ("sales/cur", LINK_REFUSED, None),
    }
    # Nothing from outside the drop folder was stored, as an email or as a payload.
    assert [r[0] for r in warehouse.execute("SELECT message_id FROM raw.emails")] == ["q0@x"]
    again = land_paths(warehouse, [drop])
    assert again.rejected == 4 and _count(warehouse, "raw.rejects") == 4  # recorded once


def test_mailbox_routes_seeded_once(warehouse, make_mail):
    routes = dict(warehouse.execute("SELECT mailbox, default_stream FROM raw.mailbox_routes"))
    assert routes == {"sales": "crm", "accounts": "erp", "qc": "erp", "tenders": "tender"}
    warehouse.execute("DELETE FROM raw.mailbox_routes WHERE mailbox <> 'sales'")
    warehouse.execute("UPDATE raw.mailbox_routes SET default_stream = 'erp'")
    land_bytes(warehouse, [("x.eml", make_mail())])  # landing never re-seeds the app's edits
    assert dict(warehouse.execute("SELECT mailbox, default_stream FROM raw.mailbox_routes")) == {
        "sales": "erp"
    }


def test_parallel_parsing_gives_same_result(warehouse, make_mail):
    items = [(f"{i}.eml", make_mail(message_id=f"<p{i}@x>", body=f"b{i}")) for i in range(40)]
    items.append(("dup.eml", items[0][1]))
    from ingest.mail.client import RawMessage
    from ingest.mail.land import land_messages

    summary = land_messages(
        warehouse,
        (RawMessage("upload", name, None, raw) for name, raw in items),
        workers=2,
        batch_messages=16,
    )
    assert (summary.seen, summary.landed, summary.duplicates) == (41, 40, 1)


def test_cli_load_prints_summary(warehouse, make_mail, tmp_path):
    from pebble.cli import app

    (tmp_path / "a.eml").write_bytes(make_mail())
    (tmp_path / "b.txt").write_bytes(b"not mail at all")
    result = CliRunner().invoke(app, ["mail", "load", str(tmp_path), "--mailbox", "sales"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["seen"] == 2 and summary["loaded"] == 1 and summary["duplicates"] == 0
    assert summary["quarantined"] == [
        {"source": str(tmp_path / "b.txt"), "reason": "no email headers found"}
    ]
    again = json.loads(CliRunner().invoke(app, ["mail", "load", str(tmp_path)]).stdout)
    assert (again["loaded"], again["duplicates"]) == (0, 1)


def test_unreadable_maildir_folder_gets_a_reject_record(warehouse, make_mail) -> None:
    """A Maildir folder the loader may not list is recorded, not skipped in silence."""
    import os
    import shutil
    import tempfile

    from ingest.mail.client import RawMessage
    from ingest.mail.land import land_messages

    root = Path(tempfile.mkdtemp(prefix="pebble-unreadable-"))
    try:
        root.chmod(0o755)
        box = root / "qc"
        _write_maildir(box, [make_mail(message_id="<new0@x>"), make_mail(message_id="<cur1@x>")])
        for path in (box, box / "new", box / "tmp"):
            path.chmod(0o755)
        for message in (box / "new").iterdir():
            message.chmod(0o644)
        (box / "cur").chmod(0o000)  # nobody may list it
        items: list[RawMessage] = []
        nobody = 65534
        if os.geteuid() == 0:  # root reads everything: look as an unprivileged user
            os.seteuid(nobody)
        try:
            items = list(iter_path(box))
        finally:
            if os.getuid() == 0:
                os.seteuid(0)
        summary = land_messages(warehouse, iter(items))
    finally:
        (root / "qc" / "cur").chmod(0o755)
        shutil.rmtree(root, ignore_errors=True)
    assert summary.seen == 2 and summary.landed == 1 and summary.accounted
    [reject] = summary.rejects
    assert reject["locator"] == str(box / "cur")
    assert reject["reason"].startswith("unreadable Maildir folder")


def test_sync_of_an_empty_drop_folder_is_a_zero_report(warehouse, make_mail) -> None:
    from ingest.mail.sync import sync

    report = sync(warehouse)  # the configured drop folder, created when missing
    drop = get_settings().mail_drops
    assert drop.is_dir() and report.accounted
    assert (report.seen, report.landed, report.rejected) == (0, 0, 0)
    (drop / "a.eml").write_bytes(make_mail())
    report = sync(warehouse, run_id="run-1")
    assert report.parts["drop"].landed == 1 and report.landed == 1
    assert "emails" in report.tables and sync(warehouse, []).seen == 0  # no paths: nothing


def test_cli_load_with_the_warehouse_down_is_one_line(make_mail, tmp_path, monkeypatch) -> None:
    import socket

    from pebble.cli import app

    with socket.socket() as probe:  # a port nothing listens on: bound, then released
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://postgres:S3cretPw@127.0.0.1:{port}/nowhere"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("PEBBLE_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    (tmp_path / "a.eml").write_bytes(make_mail())
    try:
        result = CliRunner().invoke(app, ["mail", "load", str(tmp_path / "a.eml")])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot reach the warehouse")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output and "S3cretPw" not in result.output


def test_a_maildir_file_loaded_alone_keeps_its_mailbox(warehouse, make_mail, tmp_path):
    """The drop sensor hands over single files: one from a Maildir's cur/ or new/ lands as
    Maildir mail of that folder, exactly as when the whole Maildir is loaded, not routed
    by its To: address."""
    _write_maildir(tmp_path / "drop" / "qc", [make_mail(message_id="<q0@x>", to="sales@x.in")])
    _write_maildir(tmp_path / "drop" / "qc" / ".Complaints", [make_mail(message_id="<c0@x>")])
    files = [
        tmp_path / "drop" / "qc" / "new" / "170000000.M1P1.host",
        tmp_path / "drop" / "qc" / ".Complaints" / "new" / "170000000.M1P1.host",
    ]
    alone = [(m.source_kind, m.mailbox, m.source) for f in files for m in iter_path(f)]
    walked = [(m.source_kind, m.mailbox, m.source) for m in iter_path(tmp_path / "drop")]
    assert alone == [("maildir", "qc", str(files[0])), ("maildir", "complaints", str(files[1]))]
    assert sorted(alone) == sorted(walked)

    land_paths(warehouse, files)
    rows = warehouse.execute("SELECT message_id, mailbox FROM raw.emails ORDER BY 1").fetchall()
    assert rows == [("c0@x", "complaints"), ("q0@x", "qc")]


def test_a_link_given_as_the_path_itself_is_not_followed(warehouse, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"From: root\r\nSubject: not yours\r\n\r\nsecret\r\n")
    (tmp_path / "drop").mkdir()
    (tmp_path / "drop" / "x.eml").symlink_to(secret)
    (tmp_path / "drop" / "box").symlink_to(tmp_path)
    summary = land_paths(warehouse, [tmp_path / "drop" / "x.eml", tmp_path / "drop" / "box"])
    assert (summary.landed, summary.rejected) == (0, 2)
    assert {r["reason"] for r in summary.rejects} == {LINK_REFUSED}
    assert _count(warehouse, "raw.emails") == 0
