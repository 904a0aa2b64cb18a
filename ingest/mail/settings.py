"""Mail connector settings, from the environment (prefix ``MAIL_``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ingest.mail.parse import DEFAULT_MAX_BYTES


class MailSettings(BaseSettings):
    """IMAP account and parsing limits. The password is a secret and never printed."""

    model_config = SettingsConfigDict(env_prefix="MAIL_", env_file=".env", extra="ignore")

    imap_host: str | None = None
    imap_port: int | None = None
    imap_user: str | None = None
    imap_password: SecretStr | None = None
    #: Comma-separated folder list (``INBOX,Sales``); each is pulled with its own cursor.
    imap_folders: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["INBOX"])
    #: True: implicit TLS (IMAPS, port 993). False: plain IMAP, upgraded if ``imap_starttls``.
    imap_ssl: bool = True
    imap_starttls: bool = False
    #: Verify the server certificate (turn off only for a self-signed test server).
    imap_verify_tls: bool = True
    #: Messages fetched per IMAP round trip (bounds memory with ``max_message_bytes``).
    imap_batch_size: int = Field(default=50, ge=1, le=1000)
    imap_timeout_s: float = 60.0
    #: Mailbox name stored for mail pulled from a folder (default: from the To address).
    imap_mailbox: str | None = None
    #: Larger messages are rejected as "too large" (raw.rejects) instead of parsed.
    max_message_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=1024)

    @field_validator("imap_folders", mode="before")
    @classmethod
    def _split_folders(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def imap_configured(self) -> bool:
        return bool(self.imap_host and self.imap_user and self.imap_password)

    @property
    def port(self) -> int:
        if self.imap_port:
            return self.imap_port
        return 993 if self.imap_ssl else 143
