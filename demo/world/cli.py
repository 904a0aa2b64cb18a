"""`pebble demo ...`: generate the demo world."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

cli = typer.Typer(
    help="The generated demo world (customers, ERP documents, mail, prelead files).",
    no_args_is_help=True,
)


@cli.callback()
def demo() -> None:
    """The generated demo world (customers, ERP documents, mail, prelead files)."""


@cli.command()
def generate(
    seed: Annotated[int, typer.Option(help="Random seed; same seed and scale, same bytes.")] = 7,
    scale: Annotated[
        float,
        typer.Option(help="1 = mid-size trader (~400 customers, ~3,000 mails); 0.05 for tests."),
    ] = 1.0,
    out: Annotated[
        Path | None,
        typer.Option(help="Output directory (default: $PEBBLE_WORLD_DIR or $PEBBLE_HOME/world)."),
    ] = None,
) -> None:
    """Write the demo world to OUT, replacing a previous world there."""
    from demo.world.generate import generate_world
    from pebble.settings import get_settings

    target = out if out is not None else get_settings().world
    try:
        manifest = generate_world(target, seed=seed, scale=scale)
    except (FileExistsError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    counts = manifest["counts"]
    typer.echo(f"demo world written to {target}")
    for key in ("companies", "contacts", "sales_orders", "invoices", "qc_records", "emails"):
        typer.echo(f"  {key:16} {counts[key]:>8}")
    typer.echo(f"  {'prelead_batches':16} {counts['prelead_batches']:>8}")
