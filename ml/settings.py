"""Settings of the ML layer, read from the environment."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class MLSettings(BaseSettings):
    """Classifier and search settings."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    #: Below this calibrated confidence a classification is flagged for human review.
    review_threshold: float = Field(
        default=0.6, ge=0.0, le=1.0, validation_alias="PEBBLE_REVIEW_THRESHOLD"
    )
    #: A Qdrant server. Unset: an embedded, on-disk Qdrant under $PEBBLE_HOME/qdrant.
    qdrant_url: str | None = Field(default=None, validation_alias="QDRANT_URL")
    qdrant_api_key: SecretStr | None = Field(default=None, validation_alias="QDRANT_API_KEY")


@lru_cache(maxsize=1)
def get_ml_settings() -> MLSettings:
    """Process-wide ML settings (call ``get_ml_settings.cache_clear()`` after changing env)."""
    return MLSettings()
