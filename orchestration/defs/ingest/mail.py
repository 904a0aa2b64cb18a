"""Email landing: drop folders (.eml, mbox, Maildir) into ``raw.emails``."""

from pathlib import Path

import dagster as dg

from orchestration.resources import WarehouseResource
from pebble.settings import get_settings


class MailDropConfig(dg.Config):
    """Which paths to load; empty means the configured drop folder."""

    paths: list[str] = []
    mailbox: str | None = None


@dg.asset(
    key=["raw", "emails"],
    group_name="ingest_mail",
    kinds={"python", "postgres"},
    owners=["team:data-platform"],
    tags={"pebble/source": "mail"},
)
def raw_emails(
    context: dg.AssetExecutionContext, config: MailDropConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Customer emails landed from the mail drop folder (.eml files, mbox files, Maildir
    folders). One row per distinct raw message, keyed by the SHA-256 of its bytes: a re-run
    adds nothing; unparseable messages go to ``raw.quarantine`` with the reason."""
    from ingest.mail.land import land_paths

    paths = [Path(p) for p in config.paths]
    if not paths:
        drop = get_settings().mail_drops
        drop.mkdir(parents=True, exist_ok=True)
        paths = [drop]
    with warehouse.connection() as conn:
        summary = land_paths(conn, paths, mailbox=config.mailbox)
        total = conn.execute("SELECT count(*) FROM raw.emails").fetchone()[0]
    context.log.info("mail load: %s", summary.as_dict() | {"quarantined": len(summary.quarantined)})
    return dg.MaterializeResult(
        metadata={
            "seen": summary.seen,
            "rows_added": summary.loaded,
            "duplicates": summary.duplicates,
            "quarantined": len(summary.quarantined),
            "dagster/row_count": total,
            "paths": ", ".join(str(p) for p in paths),
        }
    )


defs = dg.Definitions(assets=[raw_emails])
