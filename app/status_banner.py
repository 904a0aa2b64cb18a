"""The banner that says what a materialisation is still doing (read from the status file
`pebble materialize` writes, see pebble/status.py)."""

from __future__ import annotations

from pebble.status import FAILED, INTERRUPTED, RUNNING, RunStatus

#: failures listed in the banner; the rest are in the Dagster UI
MAX_FAILURES_SHOWN = 3


def banner_for(status: RunStatus | None) -> tuple[str, str] | None:
    """(kind, text) of the banner for ``status`` -- kind is "info" or "warning" -- or None
    when there is nothing to say (no run yet, or the last one succeeded)."""
    if status is None:
        return None
    if status.state == RUNNING:
        now = f"; now {status.current}" if status.current and status.current != "starting" else ""
        progress = f"{status.done} of {status.total} assets done" if status.total else "starting"
        return (
            "info",
            f"Still materialising in the background: {progress}{now}. Cards appear as mail "
            "lands, and are classified once scored; this page refreshes itself.",
        )
    if status.state == FAILED:
        shown = status.failures[:MAX_FAILURES_SHOWN]
        more = len(status.failures) - len(shown)
        listed = "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
        return (
            "warning",
            "The last materialisation finished with failures"
            + (f" ({listed})" if listed else "")
            + ". Everything else is up to date; details in the Dagster UI.",
        )
    if status.state == INTERRUPTED:
        return (
            "warning",
            "The last materialisation was interrupted before it finished: some cards may be "
            "missing or unclassified. Run `pebble materialize` to complete it.",
        )
    return None
