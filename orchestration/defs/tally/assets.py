"""Tally Prime landing: stock groups, stock items, ledgers and vouchers.

One multi-asset: the connector pulls its collections in order, one request at a time,
each collection landing with its cursor, so a failed run leaves the last good data intact
and a re-run never duplicates rows. Tally unreachable fails the asset at once with
``TALLY_CONNECTION_FAILED`` (the client has already retried behind its circuit breaker).
"""

import dagster as dg

from ingest.tally.errors import TallyError
from orchestration.landing import landing_asset

TABLES = {
    "tally_stock_groups": "Tally stock groups (latest version of each, by GUID).",
    "tally_stock_items": "Tally stock items as snapshots over time: a row whenever closing "
    "stock, rate or master data changed. Never overwritten.",
    "tally_ledgers": "Tally party ledgers (customer masters with GSTIN, PAN, state, contacts).",
    "tally_vouchers": "Tally vouchers (sales orders, sales, purchases), latest ALTERID wins.",
    "tally_voucher_lines": "Inventory lines of Tally vouchers (item, quantity, rate, amount).",
}


class TallyResource(dg.ConfigurableResource):
    """Tally Prime's XML-over-HTTP endpoint. Unset fields come from ``TALLY_*``."""

    url: str | None = None

    def client(self):
        from ingest.tally.client import TallyClient
        from ingest.tally.settings import TallySettings

        settings = TallySettings()
        return TallyClient(settings.model_copy(update={"url": self.url}) if self.url else settings)


class TallyLoadConfig(dg.Config):
    """Collections to pull (stock-groups, stock-items, ledgers, vouchers); empty: all."""

    collections: list[str] = []


def sync_tally(conn, config: TallyLoadConfig, *, run_id: str, tally: TallyResource):
    from ingest.tally.sync import sync

    return sync(conn, tally.client(), collections=config.collections or None, run_id=run_id)


raw_tally = landing_asset(
    source="tally",
    name="raw_tally",
    tables=TABLES,
    sync=sync_tally,
    config=TallyLoadConfig,
    resources=("tally",),
    typed_errors=(TallyError,),
    description="Incremental pull of Tally masters and vouchers (ALTERID cursors, date batches).",
)
