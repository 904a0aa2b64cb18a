"""Connector settings from the environment (prefix ``TALLY_``).

The HTTP timeouts, retries and circuit breaker have the names every ERP client shares
(:class:`ingest.common.resilience.HttpSettings`): ``TALLY_CONNECT_TIMEOUT_S``,
``TALLY_READ_TIMEOUT_S``, ``TALLY_RETRIES``, ``TALLY_BACKOFF_S``, ``TALLY_BACKOFF_MAX_S``,
``TALLY_BREAKER_FAILURES``, ``TALLY_BREAKER_COOLDOWN_S``.

``TALLY_MAX_RESPONSE_BYTES`` (default 512 MiB) caps one response: the download stops there
with ``TALLY_RESPONSE_TOO_LARGE`` (a voucher window is halved and asked again first).
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from ingest.common.resilience import HttpSettings


class TallySettings(HttpSettings):
    """Where Tally listens and how patiently to talk to it."""

    model_config = SettingsConfigDict(env_prefix="TALLY_")

    url: str = "http://127.0.0.1:9000"
    #: The company to export from (SVCURRENTCOMPANY); unset: the company loaded in Tally.
    company: str | None = None
    #: Large exports take a while: Tally answers a whole collection at once.
    read_timeout_s: float = Field(default=120.0, gt=0)
    #: Vouchers are pulled in date windows of this many days (shrunk when a window is big).
    batch_days: int = Field(default=31, ge=1)
    #: Target vouchers per request; larger requests can hang Tally.
    batch_max_vouchers: int = Field(default=5000, ge=1)
    #: Send requests as UTF-8 (and get UTF-8 back) instead of UTF-16LE.
    utf8: bool = False
    #: Largest response body spooled to disk; beyond it the request fails (not retried).
    max_response_bytes: int = Field(default=512 << 20, ge=1024)
