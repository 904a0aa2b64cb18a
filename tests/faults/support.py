"""Fault switches, a connection-cutting TCP proxy, a private PostgreSQL and paced `pebble`
subprocesses: the tools the fault suite strikes with."""

from __future__ import annotations

import os
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import requests
from psycopg import sql

from pebble import db

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


# --- faults that fire after N requests ----------------------------------------------------


class FaultAfter(requests.Session):
    """A client session that runs ``strike()`` (switch a simulator's fault on) once
    ``after`` requests have gone out cleanly: the first pages or windows of a pull succeed,
    then the fault hits in the middle of it."""

    def __init__(self, after: int, strike: Callable[[], None]) -> None:
        super().__init__()
        self.after = after
        self.strike = strike
        self.sent = 0
        self.fired = False

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if not self.fired and self.sent >= self.after:
            self.strike()
            self.fired = True
        self.sent += 1
        return super().request(*args, **kwargs)


# --- a TCP proxy that cuts the connection part-way -----------------------------------------


class CuttingProxy:
    """Forwards 127.0.0.1:<port> to a server; after ``cut_after`` bytes from the server it
    drops both sides (``reset``: with an RST, else a plain close, the client sees EOF).

    ``cut_after=None`` forwards everything (the re-run after the fault is cleared).
    """

    def __init__(self, target: tuple[str, int], cut_after: int | None, reset: bool = False):
        self.target = target
        self.cut_after = cut_after
        self.reset = reset
        self.cuts = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._pipe, args=(client,), daemon=True).start()

    def _pipe(self, client: socket.socket) -> None:
        # One thread and select(): no other thread blocked in recv() on the client socket,
        # so closing it sends the FIN (or, with SO_LINGER 0, the RST) at once.
        server = socket.create_connection(self.target)
        budget = self.cut_after
        sockets = [client, server]
        try:
            while not self._stop.is_set():
                readable, _, _ = select.select(sockets, [], [], 0.2)
                if client in readable:
                    data = client.recv(65536)
                    if not data:
                        return
                    server.sendall(data)
                if server in readable:
                    data = server.recv(65536)
                    if not data:
                        return
                    if budget is not None and len(data) >= budget:
                        client.sendall(data[:budget])
                        self.cuts += 1
                        if self.reset:  # SO_LINGER 0: close with RST
                            client.setsockopt(
                                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                            )
                        return
                    if budget is not None:
                        budget -= len(data)
                    client.sendall(data)
        except OSError:
            pass
        finally:
            for sock in sockets:
                try:
                    sock.close()
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=2)


# --- a private PostgreSQL that the tests may restart --------------------------------------


class PrivateServer:
    """An embedded PostgreSQL 16 (pgserver) of this test module only: restarting it never
    touches the shared server other tests and helpers use."""

    def __init__(self) -> None:
        import pgserver

        self.home = Path(tempfile.mkdtemp(prefix="pebble-faults-pg-"))
        self.home.chmod(0o755)
        self.server = pgserver.get_server(self.home / "pg", cleanup_mode="delete")
        self.pgdata = self.home / "pg"

    def url(self, dbname: str) -> str:
        return self.server.get_uri(dbname)

    def _pg_ctl(self, *args: str) -> None:
        from pgserver._commands import pg_ctl

        pg_ctl(list(args), pgdata=self.pgdata, user=self.server.system_user, timeout=60)

    def restart(self) -> None:
        """Fast restart: every open connection is terminated, the server comes back."""
        self._pg_ctl("-w", "-m", "fast", "restart")

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url("postgres"), autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        url = self.url(name)
        db.upgrade(url, cached=False)
        return url

    def close(self) -> None:
        # pgserver stops the postmaster it started; after a restart that one is gone and
        # a new one runs, so stop it here first.
        try:
            self._pg_ctl("-w", "-m", "fast", "stop")
        except subprocess.CalledProcessError:
            pass  # already stopped
        self.server.cleanup()
        shutil.rmtree(self.home, ignore_errors=True)


# --- subprocesses -------------------------------------------------------------------------

#: Runs the `pebble` CLI with mail landing batches of ``PEBBLE_FAULT_BATCH`` messages and a
#: pause of ``PEBBLE_FAULT_PAUSE_S`` after each committed batch, so a test can strike
#: (SIGKILL, a database restart) while a landing is in progress. Nothing else changes.
PACED_CLI = """
import os, sys, time
import ingest.mail.land as land
size = int(os.environ["PEBBLE_FAULT_BATCH"])
pause = float(os.environ["PEBBLE_FAULT_PAUSE_S"])
batches, commit = land._batches, land._commit_batch
land._batches = lambda messages, count, limit: batches(messages, size, limit)
def paced(*args, **kwargs):
    result = commit(*args, **kwargs)
    time.sleep(pause)
    return result
land._commit_batch = paced
from pebble.cli import main
sys.argv = ["pebble", *sys.argv[1:]]
main()
"""


def child_env(database_url: str, home: Path, **extra: str) -> dict[str, str]:
    """The environment of a `pebble` child process on this database and home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PEBBLE_", "DAGSTER_"))}
    env.update(
        {
            "DATABASE_URL": database_url,
            "PEBBLE_HOME": str(home),
            "PYTHONPATH": str(REPO),
            **extra,
        }
    )
    return env


def paced_pebble(
    args: list[str], env: dict[str, str], batch: int = 10, pause_s: float = 0.4
) -> subprocess.Popen:
    """Start ``pebble ARGS`` with paced mail landing (see :data:`PACED_CLI`)."""
    return subprocess.Popen(
        [PYTHON, "-c", PACED_CLI, *args],
        env={**env, "PEBBLE_FAULT_BATCH": str(batch), "PEBBLE_FAULT_PAUSE_S": str(pause_s)},
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def count(url_or_conn: Any, query: str, *params: Any) -> int:
    if isinstance(url_or_conn, psycopg.Connection):
        return int(url_or_conn.execute(query, params).fetchone()[0])
    with psycopg.connect(url_or_conn, connect_timeout=5) as conn:
        return int(conn.execute(query, params).fetchone()[0])


# --- what mail landed --------------------------------------------------------------------

Snapshot = dict[str, list[tuple[Any, ...]]]


def mail_snapshot(conn: psycopg.Connection) -> Snapshot:
    return {
        "emails": conn.execute(
            "SELECT email_key, message_id, mailbox, attachment_count FROM raw.emails ORDER BY 1"
        ).fetchall(),
        "attachments": conn.execute(
            "SELECT email_key, sha256, size_bytes FROM raw.email_attachments ORDER BY 1, 2"
        ).fetchall(),
        "rejects": conn.execute(
            "SELECT locator, reason FROM raw.rejects WHERE source = 'mail' ORDER BY 1"
        ).fetchall(),
    }


def wipe_mail(conn: psycopg.Connection) -> None:
    conn.execute("TRUNCATE raw.emails, raw.email_attachments CASCADE")
    conn.execute("DELETE FROM raw.rejects WHERE source = 'mail'")
    conn.execute("DELETE FROM raw.ingest_cursors WHERE source = 'mail.imap'")


def assert_each_email_once(conn: psycopg.Connection) -> None:
    total, distinct = conn.execute(
        "SELECT count(*), count(DISTINCT email_key) FROM raw.emails"
    ).fetchone()
    assert total == distinct
