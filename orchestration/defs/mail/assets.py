"""Email landing: drop folders (.eml, mbox, Maildir) and IMAP into ``raw.emails``.

Every input message is stored, recognised as a duplicate, or rejected into ``raw.rejects``
with a reason; a re-run adds nothing.
"""

from pathlib import Path

import dagster as dg

from ingest.mail.client import ImapError
from orchestration.landing import landing_asset

TABLES = {
    "emails": "Customer emails, one row per distinct raw message (keyed by the SHA-256 of "
    "its bytes), from the mail drop folder and IMAP.",
    "mailbox_routes": "Which shared mailbox feeds which stream (seeded once; the app edits it).",
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
    may well be empty), then IMAP when it is configured and asked for."""
    from ingest.mail.sync import sync

    paths = ([Path(p) for p in config.paths] or None) if config.drop else []
    imap = config.imap and imap_configured()
    return sync(conn, paths, mailbox=config.mailbox, imap=imap, run_id=run_id)


raw_emails = landing_asset(
    source="mail",
    name="raw_emails",
    tables=TABLES,
    sync=sync_mail,
    config=MailLoadConfig,
    typed_errors=(ImapError,),
    description="Every input message is stored, recognised as a duplicate, or rejected "
    "with a reason (raw.rejects); a re-run adds nothing.",
)
