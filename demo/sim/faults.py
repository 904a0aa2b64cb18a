"""Switchable failure modes shared by the protocol simulators.

A simulator owns one :class:`Faults` and consults it on every request. The mode is set
when the simulator is built or at runtime with ``POST /__faults`` and a JSON body such as
``{"mode": "slow", "delay_s": 2.0}`` (``GET /__faults`` reports the current state). Modes:

- ``none``: behave normally.
- ``down``: drop every connection without an answer (as a crashed or unreachable server).
- ``slow``: answer after ``delay_s`` seconds.
- ``malformed``: answer with a body that does not parse.
- ``truncated``: answer with only the first half of the body.
- ``lineerror``: answer with the protocol's own error reply (Tally ``<LINEERROR>``).
- ``expired_session``: sessions opened before the switch are treated as expired.

How each mode shows up on the wire is the simulator's decision; this module only keeps
the switch (thread-safe) and offers the byte-level helpers that are the same everywhere.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

MODES: tuple[str, ...] = (
    "none",
    "down",
    "slow",
    "malformed",
    "truncated",
    "lineerror",
    "expired_session",
)
CONTROL_PATH = "/__faults"
DEFAULT_DELAY_S = 2.0


class Faults:
    """The current failure mode of one simulator."""

    def __init__(self, mode: str = "none", delay_s: float = DEFAULT_DELAY_S) -> None:
        self._lock = threading.Lock()
        self._mode = "none"
        self._delay_s = DEFAULT_DELAY_S
        self._changed_at = time.monotonic()
        self.set(mode, delay_s)

    @property
    def mode(self) -> str:
        with self._lock:
            return self._mode

    @property
    def delay_s(self) -> float:
        with self._lock:
            return self._delay_s

    @property
    def changed_at(self) -> float:
        """``time.monotonic()`` when the mode was last set (sessions older than it can expire)."""
        with self._lock:
            return self._changed_at

    def set(self, mode: str, delay_s: float | None = None) -> None:
        """Switch to ``mode``; raises ValueError for an unknown mode or a negative delay."""
        if mode not in MODES:
            raise ValueError(f"unknown fault mode {mode!r}; expected one of {', '.join(MODES)}")
        if delay_s is not None and (not isinstance(delay_s, int | float) or delay_s < 0):
            raise ValueError(f"delay_s must be a non-negative number, got {delay_s!r}")
        with self._lock:
            self._mode = mode
            if delay_s is not None:
                self._delay_s = float(delay_s)
            self._changed_at = time.monotonic()

    def snapshot(self) -> dict[str, Any]:
        """The state as JSON-ready data: ``{"mode": ..., "delay_s": ...}``."""
        with self._lock:
            return {"mode": self._mode, "delay_s": self._delay_s}

    def handle_control(self, body: bytes) -> tuple[int, dict[str, Any]]:
        """Apply a ``POST /__faults`` body; returns (HTTP status, JSON reply)."""
        try:
            request = json.loads(body.decode("utf-8") or "{}")
            if not isinstance(request, dict):
                raise ValueError("body must be a JSON object")
            self.set(str(request.get("mode", "none")), request.get("delay_s"))
        except (ValueError, UnicodeDecodeError) as exc:
            return 400, {"error": str(exc), **self.snapshot()}
        return 200, self.snapshot()

    def pause(self) -> None:
        """Sleep for ``delay_s`` when the mode is ``slow``; otherwise return at once."""
        if self.mode == "slow":
            time.sleep(self.delay_s)

    def mangle(self, payload: bytes) -> bytes:
        """The body as the current mode would deliver it (malformed or truncated, else as is)."""
        mode = self.mode
        if mode == "malformed":
            middle = len(payload) // 2
            return payload[:middle] + b"\x00<<garbled>>\xff" + payload[middle:]
        if mode == "truncated":
            return payload[: len(payload) // 2]
        return payload
