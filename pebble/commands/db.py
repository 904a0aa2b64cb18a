"""`pebble db`: the warehouse's schema version (Alembic migrations in ``pebble/migrations``)."""

from __future__ import annotations

import re

import typer

cli = typer.Typer(
    help="Warehouse schema migrations: apply them, show the current revision, add one.",
    no_args_is_help=True,
)


def _label(revision: str | None, head: str) -> str:
    if revision is None:
        return "none"
    return f"{revision} (head)" if revision == head else revision


@cli.command()
def upgrade() -> None:
    """Apply every pending migration to the warehouse (safe to run again, and concurrently)."""
    from pebble import db

    url = db.warehouse_url()
    head = db.head_revision()
    before = db.current_revision(url)
    try:
        after = db.upgrade(url, cached=False)
    except RuntimeError as exc:  # a warehouse from a newer release, a move that would lose rows
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"database: {db.redact(url)}")
    typer.echo(f"before: {_label(before, head)}")
    typer.echo(f"after: {_label(after, head)}")


@cli.command()
def current() -> None:
    """Print the warehouse's revision ("none" if it was never migrated)."""
    from pebble import db

    head = db.head_revision()
    revision = db.current_revision()
    typer.echo(_label(revision, head))
    if revision != head:
        typer.echo(f"pending: upgrade to {head} with `pebble db upgrade`", err=True)


@cli.command()
def revision(message: str = typer.Argument(..., help="What the revision changes.")) -> None:
    """Write an empty revision file after the current head, to fill in by hand."""
    from alembic import command

    from pebble import db

    head = db.head_revision()
    if not re.fullmatch(r"\d{4}", head):
        raise typer.BadParameter(f"the head revision {head!r} is not numbered NNNN")
    script = command.revision(db.alembic_config(), message, rev_id=f"{int(head) + 1:04d}")
    path = script.path if script is not None and not isinstance(script, list) else None
    typer.echo(f"written: {path}")
