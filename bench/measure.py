"""Measuring a benchmark's child process (its whole process tree's peak memory, its own
high-water mark), and the facts about the machine a report names."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# --- measuring one child process -------------------------------------------------------------


def tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = int(fields[21]) * page
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, ()))
    return total / 2**20


class Measured:
    """A finished child: exit code, wall seconds, peak MB of its process tree, output tail."""

    def __init__(self, code: int, wall_s: float, peak_mb: float, output: str) -> None:
        self.code, self.wall_s, self.peak_mb, self.output = code, wall_s, peak_mb, output


def run_measured(
    command: Sequence[str],
    env: dict[str, str],
    timeout: float,
    log: Path,
    also: Callable[[], Iterable[int]] | None = None,
) -> Measured:
    """Run ``command``, sampling its process tree's RSS; stdout and stderr go to ``log``.
    ``also`` names more processes (a server the command started but does not parent) whose
    trees are added to each sample."""
    with log.open("wb") as out:
        started = time.perf_counter()
        child = subprocess.Popen(
            list(command), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        peak = 0.0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.1):
                extra = sum(tree_rss_mb(pid) for pid in also()) if also else 0.0
                peak = max(peak, tree_rss_mb(child.pid) + extra, _hwm_mb(child.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        timer = threading.Timer(timeout, lambda: _kill_tree(child.pid))
        timer.start()
        try:
            _, status, _ = os.wait4(child.pid, 0)
        finally:
            timer.cancel()
            done.set()
            sampler.join()
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
    # Not wait4's ru_maxrss: the kernel carries the forking process's own peak through exec
    # into it, so a small child would report this harness's size.
    return Measured(child.returncode, wall, peak, _tail(log))


def _hwm_mb(pid: int) -> float:
    """The child's own high-water mark (VmHWM, reset at exec): catches a peak between two
    samples of the tree's current RSS."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _kill_tree(pid: int) -> None:
    """Timeout: end the child and what it started (its own process group is not ours)."""
    pids = [pid]
    with contextlib.suppress(Exception):
        import psutil

        pids += [p.pid for p in psutil.Process(pid).children(recursive=True)]
    for one in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(one, 9)


def _tail(log: Path, chars: int = 1500) -> str:
    text = log.read_text(errors="replace")
    return text[-chars:]


# --- machine facts -------------------------------------------------------------------------


def machine_facts() -> dict[str, Any]:
    mem_kb = 0
    with contextlib.suppress(OSError), open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "git_commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "cores": os.cpu_count(),
        "ram_gb": round(mem_kb / 2**20, 1),
        "python": platform.python_version(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }


def server_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]
