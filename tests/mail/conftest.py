"""Fixtures for the mail tests: a real dovecot IMAP server and message builders."""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from ingest.mail.settings import MailSettings

DOVECOT_PASSWORD = "imap-test-secret"
INSTALL_HINT = "install it with tests/mail/install_dovecot.sh"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _dovecot_binary() -> str:
    found = shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None
    )
    if found is None:
        pytest.fail(f"dovecot is not installed: {INSTALL_HINT}", pytrace=False)
    return found


@dataclass
class Dovecot:
    """A running dovecot: plain IMAP on 127.0.0.1, any user name, one shared password."""

    host: str
    port: int
    config: Path
    log: Path

    def settings(self, user: str, **overrides: object) -> MailSettings:
        values: dict[str, object] = {
            "imap_host": self.host,
            "imap_port": self.port,
            "imap_user": user,
            "imap_password": SecretStr(DOVECOT_PASSWORD),
            "imap_ssl": False,
            "imap_folders": ["INBOX"],
        }
        values.update(overrides)
        return MailSettings(**values)  # type: ignore[arg-type]

    def client(self, user: str) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        client.login(user, DOVECOT_PASSWORD)
        return client

    def append(self, user: str, raw: bytes, folder: str = "INBOX") -> int:
        """APPEND a message; returns its UID."""
        client = self.client(user)
        try:
            typ, data = client.append(folder, None, None, raw)
            assert typ == "OK", data
            return int(data[0].split(b"APPENDUID ", 1)[1].split()[1].rstrip(b"]"))
        finally:
            client.logout()

    def set_uidvalidity(self, user: str, folder: str, value: int) -> None:
        subprocess.run(
            [
                "doveadm",
                "-c",
                str(self.config),
                "mailbox",
                "update",
                "-u",
                user,
                "--uid-validity",
                str(value),
                folder,
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """One dovecot for the test session (each test uses its own user, hence own mailbox).

    Runs under the ``dovecot`` system user's uid for mail access (dovecot refuses uid 0),
    so its working directory lives in a world-traversable temporary folder.
    """
    binary = _dovecot_binary()
    try:
        mail_user = pwd.getpwnam("dovecot")
    except KeyError:
        pytest.fail(f"the dovecot system user is missing: {INSTALL_HINT}", pytrace=False)
    work = Path(tempfile.mkdtemp(prefix="pebble-dovecot-"))
    work.chmod(0o755)
    for sub in ("run", "state", "mail"):
        (work / sub).mkdir()
    os.chown(work / "mail", mail_user.pw_uid, mail_user.pw_gid)
    port = _free_port()
    log = work / "dovecot.log"
    config = work / "dovecot.conf"
    config.write_text(
        f"""
protocols = imap
listen = 127.0.0.1
base_dir = {work}/run
state_dir = {work}/state
instance_name = pebble-test-{uuid.uuid4().hex[:8]}
log_path = {log}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = {mail_user.pw_uid}
first_valid_gid = {mail_user.pw_gid}
mail_location = maildir:{work}/mail/%u
passdb {{
  driver = static
  args = password={DOVECOT_PASSWORD}
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={work}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [binary, "-F", "-c", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode("utf-8", "replace") if process.stdout else ""
                pytest.fail(f"dovecot exited at start-up:\n{output}", pytrace=False)
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    if sock.recv(64).startswith(b"* OK"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("dovecot did not start listening within 15 s", pytrace=False)
            time.sleep(0.05)
        yield Dovecot("127.0.0.1", port, config, log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if process.stdout:
            process.stdout.close()
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def imap_user() -> str:
    """A fresh IMAP user name: an empty mailbox on the shared dovecot."""
    return f"t{uuid.uuid4().hex[:10]}"


def make_message(
    subject: str = "Rate for SBR 1502",
    *,
    message_id: str | None = "<m1@example.in>",
    sender: str = "Ravi Kumar <ravi@apexrubber.in>",
    to: str = "sales@pebbledemo.in",
    body: str = "Please send your best rate for 5 MT.",
    date: str = "Mon, 03 Nov 2025 10:15:00 +0530",
    extra_headers: str = "",
) -> bytes:
    """A small, well-formed text/plain message."""
    lines = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Date: {date}",
    ]
    if message_id:
        lines.append(f"Message-ID: {message_id}")
    if extra_headers:
        lines.append(extra_headers.rstrip("\r\n"))
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", body, ""]
    return "\r\n".join(lines).encode("utf-8")


@pytest.fixture
def make_mail():
    """The :func:`make_message` builder, for tests."""
    return make_message
