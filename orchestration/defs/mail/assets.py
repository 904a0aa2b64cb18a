"""Email landing: drop folders (.eml, mbox, Maildir) and IMAP into ``raw.emails``.

Every input message is stored, recognised as a duplicate, or rejected into ``raw.rejects``
with a reason; a re-run adds nothing.
"""

import dagster as dg

from ingest.common.report import LandReport
from ingest.common.store import StoreFull
from ingest.mail.client import ImapError
from orchestration.drops import ledger_outcome, prepare_run, scan, transient_only
from orchestration.landing import LANDING_RETRY, landing_asset
from pebble.settings import get_settings

TABLES = {
    "emails": "Customer emails, one row per distinct raw message (keyed by the SHA-256 of "
    "its bytes), from the mail drop folder and IMAP.",
    "mailbox_routes": "Which shared mailbox feeds which stream (seeded once; the app edits it).",
    "email_attachments": "Attachments of landed emails (name, type, size, SHA-256; the bytes "
    "are in the content store).",
}


class MailLoadConfig(dg.Config):
    """What to load. Empty paths mean the configured drop folder; IMAP is pulled when
    configured (MAIL_IMAP_HOST) unless ``imap`` is false."""

    paths: list[str] = []
    mailbox: str | None = None
    drop: bool = True
    imap: bool = True


def imap_configured() -> bool:
    from ingest.mail.settings import MailSettings

    return MailSettings().imap_configured


def sync_mail(conn, config: MailLoadConfig, *, run_id: str):
    """The mail connector for one run: the given files (or the whole drop folder, which
    may well be empty), then IMAP when it is configured and asked for.

    Paths are confined to the drop folder (a path outside it, or through a symbolic link,
    is refused into raw.rejects, never read), and the files loaded are written to the
    drop ledger with the run's outcome, which is what the drop sensor goes by."""
    from ingest.mail.sync import sync

    imap = config.imap and imap_configured()
    if not config.drop:
        return sync(conn, [], mailbox=config.mailbox, imap=imap, run_id=run_id)
    root = get_settings().mail_drops
    root.mkdir(parents=True, exist_ok=True)
    run = prepare_run(
        conn, source="mail", root=root, paths=config.paths, run_id=run_id, listing=scan
    )
    with ledger_outcome(conn, "mail", run, run_id):
        report = sync(
            conn,
            [root] if run.paths is None else run.paths,
            mailbox=config.mailbox,
            imap=imap,
            run_id=run_id,
        )
    if run.rejects:
        report.add(refused_part(run.rejects), "refused")
    return report


def refused_part(rejects: list[dict[str, str]]) -> LandReport:
    """The paths refused before loading, as a report part (each is in raw.rejects)."""
    return LandReport(
        "mail", seen=len(rejects), rejected=len(rejects), rejects=rejects, tables=("rejects",)
    )


raw_emails = landing_asset(
    source="mail",
    name="raw_emails",
    tables=TABLES,
    sync=transient_only(sync_mail, passthrough=(ImapError, StoreFull)),
    config=MailLoadConfig,
    # a full attachment store: ATTACHMENT_STORE_FULL with its next step, not retried (the
    # disk stays full until someone frees it; the next run lands the rest exactly once)
    typed_errors=(ImapError, StoreFull),
    retry_policy=LANDING_RETRY,
    description="Every input message is stored, recognised as a duplicate, or rejected "
    "with a reason (raw.rejects); a re-run adds nothing.",
)
