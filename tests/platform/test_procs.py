"""Stopping `pebble up`'s children leaves nothing behind, not even a grandchild that runs in a
session of its own and ignores Ctrl-C (as ``dagster dev``'s code server does)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import psutil

from pebble import procs

PARENT = """
import signal, subprocess, sys, time
child = subprocess.Popen(
    [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(600)"],
    start_new_session=True,
)
open(sys.argv[1], "w").write(str(child.pid))
time.sleep(600)
"""


def _wait_for_pid(path: Path) -> int:
    for _ in range(200):
        if path.exists() and path.read_text():
            return int(path.read_text())
        time.sleep(0.05)
    raise AssertionError("the child never started its grandchild")


def test_a_grandchild_in_its_own_session_is_stopped_too(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    parent = procs.spawn(
        [sys.executable, "-c", PARENT, str(pid_file)], {"PATH": "/usr/bin:/bin"}, tmp_path / "log"
    )
    grandchild = psutil.Process(_wait_for_pid(pid_file))
    assert grandchild.is_running()

    try:
        procs.stop_all([parent], grace_s=2.0)
        assert parent.poll() is not None
        _, alive = psutil.wait_procs([grandchild], timeout=5)
        assert not alive, "the grandchild outlived stop_all"
    finally:
        if grandchild.is_running():
            grandchild.kill()
