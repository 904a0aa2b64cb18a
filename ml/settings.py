"""Settings of the ML layer, read from the environment."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Mail put in the `other` stream is still sent for review while the business streams
#: (crm, erp, tender) together hold at least this calibrated probability. A customer's mail
#: filed away unseen is the costliest mistake (a lost lead); taking it to cost at least 20
#: reviews makes a second look worth it from a 1-in-20 chance on.
LEAD_REVIEW_FLOOR = 0.05


class MLSettings(BaseSettings):
    """Classifier and search settings."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    #: Below this calibrated confidence a classification is flagged for human review.
    review_threshold: float = Field(
        default=0.6, ge=0.0, le=1.0, validation_alias="PEBBLE_REVIEW_THRESHOLD"
    )
    #: Mail classified `other` is flagged for review while the business streams together
    #: hold at least this probability.
    lead_review_floor: float = Field(
        default=LEAD_REVIEW_FLOOR, ge=0.0, le=1.0, validation_alias="PEBBLE_LEAD_REVIEW_FLOOR"
    )
    #: A Qdrant server. Unset: an embedded, on-disk Qdrant under $PEBBLE_HOME/qdrant.
    qdrant_url: str | None = Field(default=None, validation_alias="QDRANT_URL")
    qdrant_api_key: SecretStr | None = Field(default=None, validation_alias="QDRANT_API_KEY")


@lru_cache(maxsize=1)
def get_ml_settings() -> MLSettings:
    """Process-wide ML settings (call ``get_ml_settings.cache_clear()`` after changing env)."""
    return MLSettings()
