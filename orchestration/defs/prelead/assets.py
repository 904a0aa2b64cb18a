"""Prelead batches: CSV/XLSX lead lists from the prelead drop folder into
``raw.prelead_batches`` and ``raw.prelead_rows``.

Every row is kept (valid, or invalid with its reasons); a file that cannot be read as a
lead list is rejected into ``raw.rejects`` with the reason. A file is one batch, named
after the file, so a re-run adds nothing. An empty drop folder is normal: nothing to land.
"""

from pathlib import Path

import dagster as dg

from ingest.common.report import LandReport
from orchestration.drops import DropFile, ledger_outcome, prepare_run, scan, transient_only
from orchestration.landing import LANDING_RETRY, landing_asset
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


def lead_list_files(folder: Path) -> list[DropFile]:
    """The lead lists a folder load covers (the loader does not recurse)."""
    return scan(folder, suffixes=SUFFIXES, recursive=False)


def sync_prelead(conn, config: PreleadLoadConfig, *, run_id: str):
    """Land the given lead lists (or the whole drop folder): paths confined to the drop
    folder (refusals in raw.rejects), the files written to the drop ledger with the run's
    outcome."""
    from ingest.prelead.sync import sync

    root = get_settings().prelead_drops
    root.mkdir(parents=True, exist_ok=True)
    run = prepare_run(
        conn,
        source="prelead",
        root=root,
        paths=config.paths,
        run_id=run_id,
        listing=lead_list_files,
    )
    with ledger_outcome(conn, "prelead", run, run_id):
        report = sync(conn, [root] if run.paths is None else run.paths, run_id=run_id)
    if run.rejects:
        report.add(
            LandReport(
                "prelead",
                seen=len(run.rejects),
                rejected=len(run.rejects),
                rejects=run.rejects,
                tables=("rejects",),
            ),
            "refused",
        )
    return report


raw_prelead = landing_asset(
    source="prelead",
    name="raw_prelead",
    tables=TABLES,
    sync=transient_only(sync_prelead),
    config=PreleadLoadConfig,
    # transient faults only (a dropped warehouse connection); a bad file is not retried
    retry_policy=LANDING_RETRY,
    description="Validate and land prelead lead lists with PostgreSQL COPY.",
)
