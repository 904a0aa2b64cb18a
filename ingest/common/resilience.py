"""Resilience shared by the source connectors (Tally, Focus RT)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class CircuitBreaker:
    """Opens after ``threshold`` consecutive failures; after ``cooldown_s`` lets one trial
    request through (half-open): success closes it, failure opens it again. Thread-safe."""

    def __init__(
        self, threshold: int, cooldown_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half-open``."""
        with self._lock:
            if self._opened_at is None:
                return "closed"
            return "open" if self._remaining() > 0 else "half-open"

    def _remaining(self) -> float:
        assert self._opened_at is not None
        return max(0.0, self._opened_at + self.cooldown_s - self._clock())

    def retry_after(self) -> float:
        """Seconds until a request will be let through (0 when closed or half-open)."""
        with self._lock:
            return 0.0 if self._opened_at is None else self._remaining()

    def allow(self) -> bool:
        """Whether a request may go out now (false while open and cooling down)."""
        with self._lock:
            return self._opened_at is None or self._remaining() <= 0

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            half_open = self._opened_at is not None and self._remaining() <= 0
            if half_open or self._failures >= self.threshold:
                self._opened_at = self._clock()
