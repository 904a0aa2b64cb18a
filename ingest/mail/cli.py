"""`pebble mail ...`: load email files into the warehouse and pull from IMAP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

cli = typer.Typer(help="Load email (.eml, Outlook .msg, mbox, Maildir, IMAP) into the warehouse.")


def _warehouse_error(exc: Exception) -> typer.Exit:
    """A database failure as one line (libpq's message, password redacted), exit 1."""
    from pebble.db import redact

    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    typer.echo(
        f"error: cannot reach the warehouse: {redact(lines[0])}. "
        "Next: check that PostgreSQL is up (DATABASE_URL, or `pebble up` for the embedded "
        "one), then run the same command again: batches that landed stay, the rest lands "
        "once",
        err=True,
    )
    return typer.Exit(code=1)


def _emit(report) -> None:  # noqa: ANN001 - a LandReport, imported lazily
    """The summary the README documents: seen, loaded, duplicates and the rejects (as
    ``quarantined``: source and reason of each, also recorded in raw.rejects)."""
    summary = {
        "seen": report.seen,
        "loaded": report.landed,
        "duplicates": report.duplicates,
        "quarantined": [{"source": r["locator"], "reason": r["reason"]} for r in report.rejects],
    }
    typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))


@cli.command("load")
def load(
    paths: Annotated[
        list[Path],
        typer.Argument(help=".eml files, Outlook .msg files, mbox files, Maildirs or folders."),
    ],
    mailbox: Annotated[
        str | None,
        typer.Option(help="Mailbox name for all messages (default: from the folder or recipient)."),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=16, help="Parser processes.")] = 1,
) -> None:
    """Load messages and print a JSON summary; exit 0 when every message is accounted for."""
    import psycopg

    from ingest.common.store import StoreFull
    from ingest.mail.sync import sync
    from pebble import db

    try:
        db.upgrade()
        with db.connect(autocommit=True) as conn:
            summary = sync(conn, paths, mailbox=mailbox, workers=workers)
    except psycopg.OperationalError as exc:
        raise _warehouse_error(exc) from None
    except StoreFull as exc:
        typer.echo(f"error [{exc.code}]: {exc}", err=True)
        raise typer.Exit(code=1) from None
    _emit(summary)
    if not summary.accounted:
        raise typer.Exit(code=1)


@cli.command("imap-pull")
def imap_pull(
    folder: Annotated[
        list[str] | None,
        typer.Option("--folder", help="Folder to pull (repeatable; default MAIL_IMAP_FOLDERS)."),
    ] = None,
    mailbox: Annotated[
        str | None, typer.Option(help="Mailbox name stored for pulled mail.")
    ] = None,
) -> None:
    """Fetch new messages from IMAP (settings from MAIL_IMAP_*) and print a JSON summary."""
    import psycopg

    from ingest.common.store import StoreFull
    from ingest.mail.client import ImapError
    from ingest.mail.settings import MailSettings
    from ingest.mail.sync import pull
    from pebble import db

    settings = MailSettings()
    if not settings.imap_configured:
        typer.echo("error: set MAIL_IMAP_HOST, MAIL_IMAP_USER and MAIL_IMAP_PASSWORD", err=True)
        raise typer.Exit(code=2)
    try:
        db.upgrade()
        with db.connect(autocommit=True) as conn:
            summary = pull(conn, settings, folders=folder or None, mailbox=mailbox)
    except (ImapError, StoreFull) as exc:
        typer.echo(f"error [{exc.code}]: {exc}", err=True)
        raise typer.Exit(code=1) from None
    except psycopg.OperationalError as exc:
        raise _warehouse_error(exc) from None
    _emit(summary)
    if not summary.accounted:
        raise typer.Exit(code=1)
