"""Child processes of `pebble up` and `pebble materialize`: started in their own process
group with their output in a log file, and stopped together (SIGINT, then SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from types import FrameType

import psutil

from pebble.settings import PROJECT_ROOT


def spawn(cmd: list[str], env: Mapping[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start ``cmd`` in the project folder, appending its output to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            cmd,
            cwd=PROJECT_ROOT,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def stop_all(procs: list[subprocess.Popen[bytes]], grace_s: float = 20.0) -> None:
    """Interrupt each process group (as Ctrl-C would), then kill what is still running.

    A child may start processes outside its group (``dagster dev`` gives its code server a
    session of its own): every descendant seen before the interrupt is stopped too, so
    nothing outlives `pebble up`.
    """
    descendants = [d for proc in procs for d in _descendants(proc.pid)]
    for proc in procs:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + grace_s
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
    _stop_leftovers(descendants, grace_s=min(grace_s, 5.0))


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _stop_leftovers(leftovers: list[psutil.Process], grace_s: float) -> None:
    """SIGTERM the processes still alive (the same ones: psutil checks start times), then
    SIGKILL those that ignore it."""
    alive = []
    for process in leftovers:
        try:
            process.terminate()
            alive.append(process)
        except psutil.Error:
            pass
    _, stubborn = psutil.wait_procs(alive, timeout=grace_s)
    for process in stubborn:
        try:
            process.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(stubborn, timeout=grace_s)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def interruptible() -> None:
    """Ctrl-C (SIGINT) and SIGTERM both raise KeyboardInterrupt here, whatever this process
    inherited (a shell starts background jobs with SIGINT ignored), and the children it
    starts get the default handlers back. Call it first thing, before anything worth
    stopping cleanly has started."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_interrupt)
