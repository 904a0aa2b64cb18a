"""Drop folders watched by sensors (mail, prelead), and the guard every automation shares:
no new run while a `pebble materialize` is landing the same sources."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

#: At most this many new files are handed to one run; the next tick takes the rest.
MAX_FILES_PER_RUN = 5000


def new_drop_files(folder: Path, after_ns: int) -> list[tuple[int, str]]:
    """Message files under ``folder`` modified after ``after_ns`` as (mtime_ns, path),
    oldest first. Maildir ``tmp/`` folders (messages still being written) are skipped."""
    found: list[tuple[int, str]] = []
    if not folder.is_dir():
        return found
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d != "tmp" and not d.startswith(".")]
        for name in files:
            if name.startswith("."):
                continue
            path = Path(root) / name
            try:
                mtime = path.stat().st_mtime_ns
            except FileNotFoundError:
                continue  # moved away between listing and stat
            if mtime > after_ns:
                found.append((mtime, str(path)))
    found.sort()
    return found


def busy() -> dg.SkipReason | None:
    """A reason to skip this tick while a materialisation of every source is running (the
    first run of `pebble up`, or a `pebble materialize`): it lands the same folders and
    servers, and the next tick after it picks up whatever is still new."""
    from pebble.status import read_status

    status = read_status()
    if status is not None and status.running:
        return dg.SkipReason(
            f"waiting for materialisation {status.run_id or ''} (pid {status.pid}) to finish"
        )
    return None
