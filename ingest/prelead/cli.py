"""`pebble prelead ...`: load marketing's lead lists into the warehouse."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

cli = typer.Typer(
    help="Prelead lists: validate CSV/XLSX lead lists and load them into the warehouse.",
    no_args_is_help=True,
    add_completion=False,
)


@cli.command("load")
def load(
    file: Annotated[Path, typer.Argument(help="The lead list: .csv or .xlsx.")],
    batch: Annotated[str, typer.Option("--batch", "-b", help="Batch name; one file per batch.")],
    workers: Annotated[
        int | None,
        typer.Option("--workers", help="Validation processes (default: automatic by file size)."),
    ] = None,
) -> None:
    """Validate FILE and load it as batch NAME; prints the batch counts as JSON.

    Loading the same file under the same batch again changes nothing and prints the same
    counts. Invalid rows are kept with their reasons in raw.prelead_rows.
    """
    import psycopg

    from ingest.prelead.land import BatchConflictError, BatchNameError, load_file
    from ingest.prelead.parse import PreleadFileError
    from pebble import db

    try:
        db.upgrade()
        result = load_file(file, batch, workers=workers)
    except (PreleadFileError, BatchConflictError, BatchNameError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    except psycopg.OperationalError as exc:
        typer.echo(f"error: cannot reach the warehouse: {_first_line(exc)}", err=True)
        raise typer.Exit(code=1) from None
    except psycopg.Error as exc:  # nothing was stored: the load is one transaction
        typer.echo(f"error: the warehouse refused the load: {_first_line(exc)}", err=True)
        raise typer.Exit(code=1) from None
    if result.already_loaded:
        typer.echo(
            f"batch {result.batch!r} was already loaded from this file; nothing changed", err=True
        )
    typer.echo(json.dumps(result.summary()))


@cli.command("load-folder")
def load_folder_command(
    folder: Annotated[
        Path | None,
        typer.Argument(help="Folder of lead lists (default: the demo world's prelead folder)."),
    ] = None,
) -> None:
    """Load every .csv/.xlsx in FOLDER, one batch per file named after it; one JSON line each.

    A file that cannot be loaded is recorded in raw.rejects with the reason (printed on
    stderr; exit 2); the other files still load.
    """
    import psycopg

    from ingest.prelead.sync import sync
    from pebble import db
    from pebble.settings import get_settings

    target = folder if folder is not None else get_settings().world / "prelead"
    if not target.is_dir():
        typer.echo(f"error: {target.name}: no such folder", err=True)
        raise typer.Exit(code=2)
    try:
        db.upgrade()
        with db.connect(autocommit=True) as conn:
            report = sync(conn, [target])
    except psycopg.OperationalError as exc:
        typer.echo(f"error: cannot reach the warehouse: {_first_line(exc)}", err=True)
        raise typer.Exit(code=1) from None
    except psycopg.Error as exc:
        typer.echo(f"error: the warehouse refused the load: {_first_line(exc)}", err=True)
        raise typer.Exit(code=1) from None
    failed = 0
    for part in report.parts.values():
        if part.rejected:
            failed += 1
            typer.echo(f"error: {part.extra['reason']}", err=True)
        else:
            summary = {k: v for k, v in part.extra.items() if k != "already_loaded"}
            typer.echo(json.dumps(summary))
    if failed:
        raise typer.Exit(code=2)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
