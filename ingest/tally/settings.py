"""Connector settings from the environment (prefix ``TALLY_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TallySettings(BaseSettings):
    """Where Tally listens and how patiently to talk to it."""

    model_config = SettingsConfigDict(env_prefix="TALLY_", env_file=".env", extra="ignore")

    url: str = "http://127.0.0.1:9000"
    #: The company to export from (SVCURRENTCOMPANY); unset: the company loaded in Tally.
    company: str | None = None
    connect_timeout_s: float = Field(default=5.0, gt=0)
    read_timeout_s: float = Field(default=120.0, gt=0)
    #: Extra attempts after a failed request (connection refused, dropped, timeout, 5xx).
    retries: int = Field(default=3, ge=0)
    backoff_s: float = Field(default=1.0, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)
    #: Consecutive failed requests that open the circuit breaker.
    breaker_failures: int = Field(default=5, ge=1)
    #: Seconds the open circuit waits before letting one trial request through.
    breaker_cooldown_s: float = Field(default=60.0, ge=0)
    #: Vouchers are pulled in date windows of this many days (shrunk when a window is big).
    batch_days: int = Field(default=31, ge=1)
    #: Target vouchers per request; larger requests can hang Tally.
    batch_max_vouchers: int = Field(default=5000, ge=1)
    #: Send requests as UTF-8 (and get UTF-8 back) instead of UTF-16LE.
    utf8: bool = False
