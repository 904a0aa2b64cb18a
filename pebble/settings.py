"""The one place that decides where data lives.

Every component (Dagster storage, the dbt profile, the loaders and the app) asks
:func:`get_settings` and :func:`pebble.db.warehouse_url`; nothing reads ``DATABASE_URL``
on its own.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Platform settings, read from the environment (and an optional `.env` file)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    #: Where the platform keeps its local state: embedded database, attachments, models.
    pebble_home: Path = Field(default=Path(".pebble"), validation_alias="PEBBLE_HOME")
    #: An external PostgreSQL server. Unset: an embedded PostgreSQL under $PEBBLE_HOME/pg.
    database_url: SecretStr | None = Field(default=None, validation_alias="DATABASE_URL")
    #: Dagster's own storage. Unset: a database `<warehouse db>_dagster` on the same server.
    dagster_database_url: SecretStr | None = Field(
        default=None, validation_alias="PEBBLE_DAGSTER_DATABASE_URL"
    )
    #: Where the demo world is generated and read from. Unset: $PEBBLE_HOME/world.
    world_dir: Path | None = Field(default=None, validation_alias="PEBBLE_WORLD_DIR")
    #: Labelled mail the classifier is trained on (a world folder: mail/truth.jsonl + Maildir).
    #: Unset: $PEBBLE_HOME/training.
    training_dir: Path | None = Field(default=None, validation_alias="PEBBLE_TRAINING_DIR")
    #: Folder of .eml / mbox / Maildir drops. Unset: $PEBBLE_HOME/drops/mail.
    mail_drop_dir: Path | None = Field(default=None, validation_alias="PEBBLE_MAIL_DROP_DIR")
    #: Folder of prelead lead lists (CSV/XLSX). Unset: $PEBBLE_HOME/drops/prelead.
    prelead_drop_dir: Path | None = Field(default=None, validation_alias="PEBBLE_PRELEAD_DROP_DIR")

    #: Time zone the app shows times in (the business runs on Indian time).
    timezone: str = Field(default="Asia/Kolkata", validation_alias="PEBBLE_TIMEZONE")
    #: Address the Dagster UI and the app listen on (anything but loopback is warned about).
    bind_host: str = Field(default="127.0.0.1", validation_alias="PEBBLE_BIND_HOST")

    #: The demo business (pebble/demo_stack.py). Unset: only in a demo home (embedded
    #: database, no real source configured); true forces it, false turns it off.
    demo: bool | None = Field(default=None, validation_alias="PEBBLE_DEMO")
    #: Seed and scale of the demo world; the training world uses the next seed.
    demo_seed: int = Field(default=7, validation_alias="PEBBLE_DEMO_SEED")
    demo_scale: float = Field(default=1.0, gt=0, validation_alias="PEBBLE_DEMO_SCALE")
    #: The demo mail deliverer also APPENDs to the configured IMAP account (opt-in).
    demo_imap: bool = Field(default=False, validation_alias="PEBBLE_DEMO_IMAP")
    #: One password for every demo account `pebble up` creates. Unset: generated ones, kept
    #: in $PEBBLE_HOME/demo-users.txt.
    demo_password: SecretStr | None = Field(default=None, validation_alias="PEBBLE_DEMO_PASSWORD")

    #: The day the ERP marts age receivables, deals and COAs against. Unset: today (in
    #: PEBBLE_TIMEZONE); the demo sets it to the day after its world ends.
    as_of_date: date | None = Field(default=None, validation_alias="PEBBLE_AS_OF_DATE")
    #: Where `pebble backup` and the nightly backup write. Unset: $PEBBLE_HOME/backups (the
    #: same disk: copy it off the machine, see the README).
    backup_dir: Path | None = Field(default=None, validation_alias="PEBBLE_BACKUP_DIR")
    #: How many backups to keep there (the oldest beyond it are deleted after a backup).
    backup_keep: int = Field(default=7, ge=1, validation_alias="PEBBLE_BACKUP_KEEP")

    #: Worker processes that score a large batch of mail (the `email_predictions` asset,
    #: `pebble predict`), each with one torch thread. Unset: the usable CPUs, at most 4;
    #: 1 scores in the calling process. Small runs are scored in process whatever it says.
    score_workers: int | None = Field(default=None, ge=1, validation_alias="PEBBLE_SCORE_WORKERS")

    #: Refused sign-ins under one name within the window before it is locked for a while.
    signin_max_failures: int = Field(default=5, ge=1, validation_alias="PEBBLE_SIGNIN_MAX_FAILURES")
    signin_window_minutes: float = Field(
        default=15, gt=0, validation_alias="PEBBLE_SIGNIN_WINDOW_MINUTES"
    )
    #: An app session without activity for this long is signed out.
    session_idle_minutes: float = Field(
        default=60, gt=0, validation_alias="PEBBLE_SESSION_IDLE_MINUTES"
    )

    @field_validator("demo", mode="before")
    @classmethod
    def _empty_demo_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("score_workers", mode="before")
    @classmethod
    def _empty_score_workers_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def home(self) -> Path:
        return self.pebble_home.expanduser().resolve()

    @property
    def world(self) -> Path:
        return (self.world_dir or self.home / "world").expanduser().resolve()

    @property
    def training(self) -> Path:
        return (self.training_dir or self.home / "training").expanduser().resolve()

    @property
    def mail_drops(self) -> Path:
        return (self.mail_drop_dir or self.home / "drops" / "mail").expanduser().resolve()

    @property
    def prelead_drops(self) -> Path:
        return (self.prelead_drop_dir or self.home / "drops" / "prelead").expanduser().resolve()

    @property
    def backups(self) -> Path:
        return (self.backup_dir or self.home / "backups").expanduser().resolve()

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; call ``get_settings.cache_clear()`` after changing env)."""
    return Settings()
