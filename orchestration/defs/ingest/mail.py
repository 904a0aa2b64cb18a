"""Email landing: drop folders (.eml, mbox, Maildir) and IMAP into ``raw.emails``."""

from pathlib import Path

import dagster as dg

from orchestration.resources import WarehouseResource
from pebble.settings import get_settings

EMAILS = dg.AssetKey(["raw", "emails"])
QUARANTINE = dg.AssetKey(["raw", "quarantine"])
ROUTES = dg.AssetKey(["raw", "mailbox_routes"])
OWNERS = ["team:data-platform"]


class MailLoadConfig(dg.Config):
    """What to load. Empty paths mean the configured drop folder; IMAP is pulled when
    configured (MAIL_IMAP_HOST) unless ``imap`` is false."""

    paths: list[str] = []
    mailbox: str | None = None
    drop: bool = True
    imap: bool = True


def _imap_configured() -> bool:
    from ingest.mail.settings import MailSettings

    return MailSettings().imap_configured


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            EMAILS,
            description="Customer emails, one row per distinct raw message (keyed by the "
            "SHA-256 of its bytes), from the mail drop folder and IMAP.",
            kinds={"python", "postgres"},
            owners=OWNERS,
        ),
        dg.AssetSpec(
            QUARANTINE,
            description="Inputs that could not be stored as emails, with the reason and the "
            "raw bytes.",
            kinds={"postgres"},
            owners=OWNERS,
        ),
        dg.AssetSpec(
            ROUTES,
            description="Which shared mailbox feeds which stream (seeded once; the app edits it).",
            kinds={"postgres"},
            owners=OWNERS,
        ),
    ],
    group_name="ingest_mail",
    op_tags={"pebble/source": "mail"},
    retry_policy=dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL),
)
def raw_emails(
    context: dg.AssetExecutionContext, config: MailLoadConfig, warehouse: WarehouseResource
):
    """Every input message is stored, recognised as a duplicate, or quarantined with a
    reason; a re-run adds nothing."""
    from ingest.mail.land import ensure_tables, land_paths

    metadata: dict[str, object] = {}
    with warehouse.connection() as conn:
        ensure_tables(conn)
        conn.commit()
        seen = loaded = duplicates = quarantined = 0
        if config.drop:
            paths = [Path(p) for p in config.paths]
            if not paths:
                drop = get_settings().mail_drops
                drop.mkdir(parents=True, exist_ok=True)
                paths = [drop]
            summary = land_paths(conn, paths, mailbox=config.mailbox)
            seen, loaded = summary.seen, summary.loaded
            duplicates, quarantined = summary.duplicates, len(summary.quarantined)
            metadata["paths"] = ", ".join(str(p) for p in paths)
        if config.imap and _imap_configured():
            from ingest.mail.imap import pull

            imap_summary = pull(conn)
            seen += imap_summary.seen
            loaded += imap_summary.loaded
            duplicates += imap_summary.duplicates
            quarantined += len(imap_summary.quarantined)
            metadata["imap"] = "pulled"
        total = conn.execute("SELECT count(*) FROM raw.emails").fetchone()[0]
        in_quarantine = conn.execute("SELECT count(*) FROM raw.quarantine").fetchone()[0]
        routes = conn.execute("SELECT count(*) FROM raw.mailbox_routes").fetchone()[0]
    context.log.info(
        f"mail: seen {seen}, loaded {loaded}, duplicates {duplicates}, quarantined {quarantined}"
    )
    yield dg.MaterializeResult(
        asset_key=EMAILS,
        metadata={
            "seen": seen,
            "rows_added": loaded,
            "duplicates": duplicates,
            "quarantined": quarantined,
            "dagster/row_count": total,
            **metadata,
        },
    )
    yield dg.MaterializeResult(
        asset_key=QUARANTINE,
        metadata={"rows_added": quarantined, "dagster/row_count": in_quarantine},
    )
    yield dg.MaterializeResult(asset_key=ROUTES, metadata={"dagster/row_count": routes})


defs = dg.Definitions(assets=[raw_emails])
