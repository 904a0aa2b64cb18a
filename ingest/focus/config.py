"""Connector settings, from the environment (``FOCUS_*``) or passed in directly.

| variable | default | meaning |
| --- | --- | --- |
| ``FOCUS_URL`` | ``http://127.0.0.1:8090`` | base URL of the Focus server (the simulator's default port) |
| ``FOCUS_USERNAME`` / ``FOCUS_PASSWORD`` / ``FOCUS_COMPANY_ID`` | demo values | login |
| ``FOCUS_VOUCHER_TYPES`` | see ``fields.DEFAULT_VOUCHER_TYPES`` | JSON: kind -> tenant voucher-type name |
| ``FOCUS_FIELD_MAP`` | see ``fields.DEFAULT_FIELD_MAP`` | JSON: canonical field -> tenant field name |

Both JSON maps are merged over the defaults, so a tenant only lists what it renamed.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ingest.focus.fields import (
    DEFAULT_FIELD_MAP,
    DEFAULT_PORT,
    DEFAULT_VOUCHER_TYPES,
    DEMO_COMPANY_ID,
    DEMO_PASSWORD,
    DEMO_USERNAME,
    KINDS,
)


class FocusSettings(BaseSettings):
    """Where Focus is, how to log in, how patient to be, and the tenant's names."""

    model_config = SettingsConfigDict(env_prefix="FOCUS_", env_file=".env", extra="ignore")

    url: str = f"http://127.0.0.1:{DEFAULT_PORT}"
    username: str = DEMO_USERNAME
    password: SecretStr = SecretStr(DEMO_PASSWORD)
    company_id: str = DEMO_COMPANY_ID

    connect_timeout_s: float = Field(default=5.0, gt=0)
    read_timeout_s: float = Field(default=60.0, gt=0)
    #: Attempts after the first for transient failures (dropped connection, timeout, bad body).
    max_retries: int = Field(default=3, ge=0)
    backoff_base_s: float = Field(default=0.5, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)
    #: Consecutive failed attempts that open the circuit, and how long it stays open.
    breaker_threshold: int = Field(default=5, ge=1)
    breaker_cooldown_s: float = Field(default=60.0, ge=0)

    page_size: int = Field(default=200, ge=1, le=1000)
    #: Incremental pulls start this many days before the last seen document date, so status
    #: changes to recent documents are picked up (re-landing unchanged ones adds nothing).
    lookback_days: int = Field(default=7, ge=0)

    voucher_types: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_VOUCHER_TYPES))
    field_map: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_FIELD_MAP))

    @field_validator("url")
    @classmethod
    def _strip_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"FOCUS_URL must start with http:// or https://, got {value!r}")
        return value.rstrip("/")

    @field_validator("voucher_types")
    @classmethod
    def _merge_voucher_types(cls, value: dict[str, Any]) -> dict[str, str]:
        unknown = sorted(set(value) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown voucher kinds {unknown}; expected {list(KINDS)}")
        return {**DEFAULT_VOUCHER_TYPES, **{k: str(v) for k, v in value.items()}}

    @field_validator("field_map")
    @classmethod
    def _merge_field_map(cls, value: dict[str, Any]) -> dict[str, str]:
        unknown = sorted(set(value) - set(DEFAULT_FIELD_MAP))
        if unknown:
            raise ValueError(f"unknown canonical fields {unknown}")
        return {**DEFAULT_FIELD_MAP, **{k: str(v) for k, v in value.items()}}

    def kind_for(self, voucher_type: str) -> str:
        """The kind named by ``voucher_type`` (a kind or a tenant name, any case)."""
        wanted = voucher_type.strip().casefold()
        for kind, name in self.voucher_types.items():
            if wanted in (kind.casefold(), name.casefold()):
                return kind
        choices = ", ".join(f"{k} ({n!r})" for k, n in self.voucher_types.items())
        raise ValueError(f"unknown voucher type {voucher_type!r}; configured: {choices}")
