"""Freshness checks on the landings the screens read: mail for the cards, Tally for stock
and the customer master, Focus RT for orders, dispatches and QC. A check fails (severity
warning) when its table has not been landed for longer than its threshold, so a stalled
connector shows in the Dagster UI before anyone notices stale screens.

Lead lists have none: they land when someone drops a file, and weeks without one are
normal.

Dagster 1.12 marks these checks as superseded by ``FreshnessPolicy``. They are kept on
purpose: a check runs in the same run as its landing and after it, its result is an asset
check like every other (in the UI's checks, in `pebble materialize`'s summary), and it is
testable without the freshness daemon. The notice about it is silenced here only.
"""

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import dagster as dg
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class FreshnessSettings(BaseSettings):
    """How long each landing may go without a new landing (``PEBBLE_FRESHNESS_*``)."""

    model_config = SettingsConfigDict(
        env_prefix="PEBBLE_FRESHNESS_", env_file=".env", extra="ignore"
    )

    #: Mail lands every minute with IMAP, as files arrive without: a day with no mail at
    #: all is worth a look.
    mail_hours: float = Field(default=24.0, gt=0)
    #: Tally and Focus RT are pulled every 15 minutes: four missed pulls.
    tally_hours: float = Field(default=1.0, gt=0)
    focus_hours: float = Field(default=1.0, gt=0)


#: The landed tables the screens depend on, per source.
WATCHED: dict[str, list[list[str]]] = {
    "mail": [["raw", "emails"]],
    "tally": [["raw", "tally_stock_items"], ["raw", "tally_ledgers"], ["raw", "tally_vouchers"]],
    "focus": [
        ["raw", "focus_sales_orders"],
        ["raw", "focus_invoices"],
        ["raw", "focus_qc_inspections"],
    ],
}


def freshness_checks(settings: FreshnessSettings | None = None) -> list[dg.AssetChecksDefinition]:
    """A last-update freshness check per watched table, with its source's threshold."""
    settings = settings or FreshnessSettings()
    checks: list[dg.AssetChecksDefinition] = []
    with _superseded_is_fine():
        for source, keys in WATCHED.items():
            hours = getattr(settings, f"{source}_hours")
            checks.extend(
                dg.build_last_update_freshness_checks(
                    assets=[dg.AssetKey(key) for key in keys],
                    lower_bound_delta=timedelta(hours=hours),
                )
            )
    return checks


@contextmanager
def _superseded_is_fine() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        yield


FRESHNESS_CHECKS = freshness_checks()

with _superseded_is_fine():
    #: Evaluates each check again once it could have become overdue (every 5 minutes at most).
    freshness_sensor = dg.build_sensor_for_freshness_checks(
        freshness_checks=FRESHNESS_CHECKS,
        name="freshness_checks_sensor",
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
