"""`pebble mail ...`: load email files into the warehouse and pull from IMAP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

cli = typer.Typer(help="Load email (.eml, mbox, Maildir, IMAP) into the warehouse.")


def _emit(summary: dict) -> None:
    typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))


@cli.command("load")
def load(
    paths: Annotated[
        list[Path], typer.Argument(help=".eml files, mbox files, Maildirs or folders.")
    ],
    mailbox: Annotated[
        str | None,
        typer.Option(help="Mailbox name for all messages (default: from the folder or recipient)."),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=16, help="Parser processes.")] = 1,
) -> None:
    """Load messages and print a JSON summary; exit 0 when every message is accounted for."""
    from ingest.mail.land import land_paths
    from pebble import db

    with db.connect(autocommit=True) as conn:
        db.ensure_schemas(conn)
        summary = land_paths(conn, paths, mailbox=mailbox, workers=workers)
    _emit(summary.as_dict())
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
    from ingest.mail.imap import ImapError, pull
    from ingest.mail.settings import MailSettings
    from pebble import db

    settings = MailSettings()
    if not settings.imap_configured:
        typer.echo("error: set MAIL_IMAP_HOST, MAIL_IMAP_USER and MAIL_IMAP_PASSWORD", err=True)
        raise typer.Exit(code=2)
    try:
        with db.connect(autocommit=True) as conn:
            db.ensure_schemas(conn)
            summary = pull(conn, settings, folders=folder or None, mailbox=mailbox)
    except ImapError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    _emit(summary.as_dict())
    if not summary.accounted:
        raise typer.Exit(code=1)
