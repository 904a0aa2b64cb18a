"""Resilience shared by the source connectors (Tally, Focus RT): a circuit breaker and the
HTTP retry settings both ERP clients read (one set of names)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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


class HttpSettings(BaseSettings):
    """Timeouts, retries and circuit breaker of an HTTP client to a source system.

    One set of names for every ERP client: a subclass sets its ``env_prefix`` (``TALLY_``,
    ``FOCUS_``), so ``TALLY_RETRIES`` and ``FOCUS_RETRIES`` mean the same thing.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    #: Seconds to wait for a TCP connection; an unreachable host fails after this.
    connect_timeout_s: float = Field(default=5.0, gt=0)
    #: Seconds to wait for (the next bytes of) an answer.
    read_timeout_s: float = Field(default=60.0, gt=0)
    #: Extra attempts after a failed request (refused, dropped, timed out, HTTP 5xx).
    retries: int = Field(default=3, ge=0)
    #: First backoff ceiling; it doubles per retry up to ``backoff_max_s`` (full jitter
    #: between half the ceiling and the ceiling).
    backoff_s: float = Field(default=1.0, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)
    #: Consecutive failed attempts that open the circuit breaker.
    breaker_failures: int = Field(default=5, ge=1)
    #: Seconds the open circuit waits before letting one trial request through.
    breaker_cooldown_s: float = Field(default=60.0, ge=0)

    def backoff(self, retry: int) -> float:
        """Seconds to sleep before the given retry (1 = the first retry), with jitter."""
        ceiling = min(self.backoff_max_s, self.backoff_s * 2 ** max(0, retry - 1))
        return random.uniform(ceiling / 2, ceiling) if ceiling > 0 else 0.0  # noqa: S311

    def breaker(self) -> CircuitBreaker:
        """A circuit breaker with these settings."""
        return CircuitBreaker(self.breaker_failures, self.breaker_cooldown_s)
