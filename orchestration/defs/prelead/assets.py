"""Prelead batches: CSV/XLSX lead lists from the prelead drop folder into
``raw.prelead_batches`` and ``raw.prelead_rows``.

Every row is kept (valid, or invalid with its reasons); a file that cannot be read as a
lead list is rejected into ``raw.rejects`` with the reason. A file is one batch, named
after the file, so a re-run adds nothing. An empty drop folder is normal: nothing to land.
"""

from pathlib import Path

import dagster as dg

from orchestration.landing import landing_asset
from pebble.settings import get_settings

#: Lead-list files the drop folder sensor hands over.
SUFFIXES = (".csv", ".xlsx")
TABLES = {
    "prelead_batches": "One row per loaded lead list: file hash, encoding, row counts.",
    "prelead_rows": "Every lead-list row with its normalised fields, validity and reasons "
    "(GSTIN check character, PAN/CIN format, email, E.164 phone, duplicates in batch).",
}


class PreleadLoadConfig(dg.Config):
    """Files to load; empty means every lead list in the prelead drop folder."""

    paths: list[str] = []


def sync_prelead(conn, config: PreleadLoadConfig, *, run_id: str):
    from ingest.prelead.sync import sync

    if config.paths:
        return sync(conn, [Path(p) for p in config.paths], run_id=run_id)
    get_settings().prelead_drops.mkdir(parents=True, exist_ok=True)
    return sync(conn, None, run_id=run_id)


raw_prelead = landing_asset(
    source="prelead",
    name="raw_prelead",
    tables=TABLES,
    sync=sync_prelead,
    config=PreleadLoadConfig,
    description="Validate and land prelead lead lists with PostgreSQL COPY.",
)
