"""What a materialisation is doing, in one small JSON file under ``$PEBBLE_HOME``.

`pebble materialize` writes it as the run goes (the background materialisation that
`pebble up` starts is one of those). The app shows it as a banner, and the drop-folder
sensors wait while it runs rather than land the same files a second time.

A status that says "running" but whose process is gone (killed, machine restarted) reads
as "interrupted".
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pebble.settings import get_settings

RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
INTERRUPTED = "interrupted"


@dataclass
class RunStatus:
    """One materialisation as the app and the sensors see it."""

    state: str
    pid: int = field(default_factory=os.getpid)
    run_id: str | None = None
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    finished_at: str | None = None
    total: int = 0
    done: int = 0
    #: the step running now, e.g. "ml/classifier_model"
    current: str | None = None
    #: what failed: "raw_tally: TALLY_CONNECTION_FAILED: ..." (one line each)
    failures: list[str] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.state == RUNNING


def status_path() -> Path:
    return get_settings().home / "run" / "materialize.json"


def write_status(status: RunStatus, path: Path | None = None) -> None:
    """Replace the status file atomically (readers never see half a file)."""
    path = path or status_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(status), indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def read_status(path: Path | None = None) -> RunStatus | None:
    """The last written status, or None when there is none (or it cannot be read)."""
    path = path or status_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        status = RunStatus(**data)
    except (OSError, ValueError, TypeError):
        return None
    if status.running and not _alive(status.pid):
        status.state = INTERRUPTED
    return status


def materialisation_running() -> bool:
    """True while a `pebble materialize` (or `pebble up`'s first run) is still going."""
    status = read_status()
    return status is not None and status.running
