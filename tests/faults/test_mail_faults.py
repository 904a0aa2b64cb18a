"""Faults while mail lands: the IMAP connection cut mid-fetch, the landing process killed
with SIGKILL, the attachment store's disk full.

The reference is a clean landing of the same input into the same (then emptied) warehouse;
after the fault and a re-run, the emails, their attachment rows and the blobs on disk must
equal it, each email once.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ingest.common.cursors import get_cursor
from tests.faults.support import (
    PYTHON,
    REPO,
    assert_each_email_once,
    child_env,
    count,
    mail_snapshot,
    paced_pebble,
    wipe_mail,
)


def assert_blobs_on_disk(conn: psycopg.Connection, root: Path) -> int:
    """Every attachment row's blob is in the store, whole (its SHA-256 matches)."""
    rows = conn.execute("SELECT DISTINCT sha256 FROM raw.email_attachments").fetchall()
    for (sha,) in rows:
        blob = root / sha[:2] / sha
        assert blob.is_file(), f"attachment {sha} landed without its blob"
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == sha
    assert not list(root.rglob(".incoming-*")), "a half-written blob was left behind"
    return len(rows)


def world_messages(world: Path, limit: int | None = None) -> list[Path]:
    files = sorted(p for p in (world / "mail" / "maildir").rglob("*") if p.is_file())
    return files[:limit] if limit else files


# --- IMAP connection cut mid-fetch --------------------------------------------------------

IMAP_MESSAGES = 30


def _uids(conn: psycopg.Connection) -> list[int]:
    sources = conn.execute("SELECT source FROM raw.emails WHERE source_kind = 'imap'").fetchall()
    return sorted(int(re.search(r";UID=(\d+)$", s).group(1)) for (s,) in sources)


@pytest.mark.parametrize("reset", [False, True], ids=["eof", "reset"])
def test_imap_connection_cut_mid_fetch_then_pull_resumes_exactly_once(
    warehouse: psycopg.Connection,
    dovecot: Any,
    imap_user: str,
    fault_world: Path,
    cutting_proxy: Any,
    reset: bool,
) -> None:
    from ingest.mail.client import ImapError
    from ingest.mail.sync import CURSOR_SOURCE, cursor_key, pull

    raws = [p.read_bytes() for p in world_messages(fault_world, IMAP_MESSAGES)]
    for raw in raws:
        dovecot.append(imap_user, raw)
    clean = pull(warehouse, dovecot.settings(imap_user, imap_batch_size=5))
    assert clean.seen == IMAP_MESSAGES and clean.accounted
    reference = mail_snapshot(warehouse)
    wipe_mail(warehouse)

    cut_after = sum(len(r) for r in raws) // 2  # well into the bodies
    proxy = cutting_proxy((dovecot.host, dovecot.port), cut_after, reset=reset)
    settings = dovecot.settings(
        imap_user, imap_port=proxy.port, imap_batch_size=5, imap_timeout_s=5
    )
    with pytest.raises(ImapError) as failure:
        pull(warehouse, settings)
    assert proxy.cuts == 1
    assert failure.value.code == "IMAP_CONNECTION_LOST"
    assert "imap-pull" in str(failure.value) and "Next:" in str(failure.value)
    # the reset arrives as a bare ConnectionResetError from the socket, the EOF as
    # imaplib's abort: both must end up as the same typed error
    assert ("reset by peer" if reset else "EOF") in str(failure.value), str(failure.value)

    # the cursor names exactly what landed: UIDs 1..last, each once, none beyond
    cursor = json.loads(get_cursor(warehouse, CURSOR_SOURCE, cursor_key(settings, "INBOX")))
    landed = _uids(warehouse)
    assert 0 < cursor["last_uid"] < IMAP_MESSAGES
    assert landed == list(range(1, cursor["last_uid"] + 1))

    proxy.cut_after = None  # the network is back
    rerun = pull(warehouse, settings)
    assert (rerun.seen, rerun.duplicates) == (IMAP_MESSAGES - len(landed), 0)
    assert _uids(warehouse) == list(range(1, IMAP_MESSAGES + 1))
    assert mail_snapshot(warehouse) == reference
    assert_each_email_once(warehouse)


# --- the landing process killed ----------------------------------------------------------


def test_sigkill_mid_landing_then_rerun_lands_every_email_once(
    warehouse: psycopg.Connection, pebble_env: str, fault_world: Path, tmp_path: Path
) -> None:
    from ingest.common import store
    from ingest.mail.land import land_paths

    drop = shutil.copytree(fault_world / "mail" / "maildir", tmp_path / "drop")
    clean = land_paths(warehouse, [drop])
    reference = mail_snapshot(warehouse)
    assert clean.landed > 100 and reference["attachments"]  # attachments too
    wipe_mail(warehouse)
    shutil.rmtree(store.attachments_root())

    home = store.attachments_root().parent
    env = child_env(pebble_env, home)
    child = paced_pebble(["mail", "load", str(drop)], env, batch=10, pause_s=0.4)
    deadline = time.monotonic() + 60
    while count(pebble_env, "SELECT count(*) FROM raw.emails") < 30:
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the landing did not start"
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL

    before = count(warehouse, "SELECT count(*) FROM raw.emails")
    assert 30 <= before < clean.landed  # killed mid-landing
    landed_keys = {row[0] for row in mail_snapshot(warehouse)["emails"]}
    # no partial rows: each email landed with exactly its attachment rows, blobs on disk
    assert mail_snapshot(warehouse)["attachments"] == [
        a for a in reference["attachments"] if a[0] in landed_keys
    ]
    assert_blobs_on_disk(warehouse, store.attachments_root())

    rerun = subprocess.run(
        [PYTHON, "-m", "pebble.cli", "mail", "load", str(drop)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["loaded"] == clean.landed - before
    assert mail_snapshot(warehouse) == reference
    assert_each_email_once(warehouse)
    assert assert_blobs_on_disk(warehouse, store.attachments_root()) > 0


# --- the attachment store's disk full -----------------------------------------------------

ATTACHMENT_BYTES = 150_000
BIG_MAILS = 12


def _mail_with_attachment(n: int) -> bytes:
    message = EmailMessage()
    message["From"] = f"Buyer {n} <buyer{n}@apexrubber.in>"
    message["To"] = "sales@pebbledemo.in"
    message["Subject"] = f"Drawing and specification {n}"
    message["Message-ID"] = f"<big{n}@apexrubber.in>"
    message["Date"] = "Mon, 03 Nov 2025 10:15:00 +0530"
    message.set_content(f"Please find attached our specification sheet {n}.")
    payload = random.Random(n).randbytes(ATTACHMENT_BYTES)  # incompressible, distinct
    message.add_attachment(payload, maintype="application", subtype="pdf", filename=f"spec-{n}.pdf")
    return message.as_bytes()


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A PEBBLE_HOME whose attachments folder is a 1 MiB tmpfs (unmounted afterwards)."""
    home = Path(tempfile.mkdtemp(prefix="pebble-faults-home-"))
    attachments = home / "attachments"
    attachments.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(attachments)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        shutil.rmtree(home, ignore_errors=True)
        pytest.fail(
            "the disk-full case mounts a 1 MiB tmpfs and needs root (CAP_SYS_ADMIN): "
            + mounted.stderr.strip(),
            pytrace=False,
        )
    try:
        yield home
    finally:
        subprocess.run(["umount", str(attachments)], check=False)
        shutil.rmtree(home, ignore_errors=True)


def test_attachment_store_full_fails_typed_then_rerun_lands_the_rest_once(
    warehouse: psycopg.Connection, pebble_env: str, tmp_path: Path, small_disk: Path
) -> None:
    from ingest.common import store
    from ingest.mail.land import land_paths

    drop = tmp_path / "drop"
    drop.mkdir()
    for n in range(BIG_MAILS):
        (drop / f"{n:02d}.eml").write_bytes(_mail_with_attachment(n))
    clean = land_paths(warehouse, [drop])  # the reference, on a roomy disk
    reference = mail_snapshot(warehouse)
    assert clean.landed == BIG_MAILS and len(reference["attachments"]) == BIG_MAILS
    wipe_mail(warehouse)

    attachments = small_disk / "attachments"
    env = child_env(pebble_env, small_disk)
    child = paced_pebble(["mail", "load", str(drop)], env, batch=2, pause_s=0)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 1, (out, err)
    assert "error [ATTACHMENT_STORE_FULL]" in err and "Next: free space" in err, err
    assert "Traceback" not in err

    # what landed is whole (every attachment row has its blob), the rest is not in the
    # warehouse at all (not rejected either: it is still to come), nothing half-written
    before = count(warehouse, "SELECT count(*) FROM raw.emails")
    assert 0 < before < BIG_MAILS
    assert assert_blobs_on_disk(warehouse, attachments) == before
    assert mail_snapshot(warehouse)["rejects"] == []

    subprocess.run(["mount", "-o", "remount,size=16m", str(attachments)], check=True)
    rerun = subprocess.run(
        [PYTHON, "-m", "pebble.cli", "mail", "load", str(drop)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert (summary["loaded"], summary["duplicates"]) == (BIG_MAILS - before, before)
    assert mail_snapshot(warehouse) == reference
    assert_each_email_once(warehouse)
    assert assert_blobs_on_disk(warehouse, attachments) == BIG_MAILS
    assert store.attachments_root() != attachments  # the reference used its own store
    assert os.path.ismount(attachments)
