"""`pebble backup` and `pebble restore`: the whole home (both databases, attachments,
rejected payloads, models) into one checked folder, and back into a fresh home
(``pebble.backup``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def _say(message: str) -> None:
    typer.echo(message, err=True)


def backup_command(
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder of backups (default: PEBBLE_BACKUP_DIR, else $PEBBLE_HOME/backups)."
        ),
    ] = None,
    keep: Annotated[
        int | None,
        typer.Option(min=1, help="Backups to keep there (default: PEBBLE_BACKUP_KEEP, 7)."),
    ] = None,
) -> None:
    """Write a consistent backup of this home: pg_dump of the warehouse and Dagster's
    database, the attachment store, rejected payloads and models, with a manifest of
    checksums and row counts."""
    from pebble.backup import BackupError, backup

    try:
        report = backup(out, keep, say=_say)
    except BackupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    rows = sum(sum(t.values()) for t in report.tables.values())
    typer.echo(
        f"backup: {report.path} ({report.bytes / 1e6:.1f} MB, {report.files} files, "
        f"{rows:,} rows) in {report.seconds:.1f}s"
    )
    for path in report.removed:
        typer.echo(f"removed (beyond retention): {path}")


def restore_command(
    path: Annotated[Path, typer.Argument(help="A backup folder (pebble-backup-...).")],
    force: Annotated[
        bool, typer.Option(help="Replace a warehouse that already holds data.")
    ] = False,
) -> None:
    """Rebuild this home (the databases named by DATABASE_URL or the embedded server of
    PEBBLE_HOME, and PEBBLE_HOME's files) from a backup, after checking every checksum.
    Then run `pebble up` as usual."""
    from pebble.backup import BackupError, restore

    try:
        report = restore(path, force=force, say=_say)
    except BackupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    rows = sum(sum(t.values()) for t in report.tables.values())
    typer.echo(
        f"restored: {report.path} ({rows:,} rows, {report.files} files; row counts match the "
        f"backup table by table) in {report.seconds:.1f}s"
    )


def register(app: typer.Typer) -> None:
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)
