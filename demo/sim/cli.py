"""`pebble sim ...`: run the local protocol simulators (one command per system)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

cli = typer.Typer(help="Run local simulators of the ERP systems Pebble reads from.")


@cli.command("focus")
def focus(
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one).")] = 8090,
    world: Annotated[
        Path | None, typer.Option(help="Demo world directory (default: the configured world).")
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    session_ttl_s: Annotated[
        float, typer.Option(help="Seconds a login session stays valid.")
    ] = 1800.0,
    fault: Annotated[str, typer.Option(help="Initial fault mode (see POST /__faults).")] = "none",
) -> None:
    """Serve the Focus RT REST API (Focus8API) over the demo world until interrupted."""
    from demo.sim.focus import FocusSimulator
    from pebble.settings import get_settings

    world_dir = world or get_settings().world
    try:
        simulator = FocusSimulator(
            world_dir, host=host, port=port, session_ttl_s=session_ttl_s, fault=fault
        )
        url = simulator.start()
    except (OSError, ValueError) as exc:
        typer.echo(f"error: cannot start the Focus simulator: {exc}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"Focus RT simulator serving {simulator.document_count} documents at {url}")
    try:
        simulator.wait()
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()


@cli.command("mail")
def mail(
    drop: Annotated[
        Path | None,
        typer.Option(help="Drop folder (one Maildir per mailbox; default PEBBLE_MAIL_DROP_DIR)."),
    ] = None,
    imap: Annotated[
        bool | None,
        typer.Option(
            "--imap/--no-imap", help="Also APPEND to IMAP (default: when MAIL_IMAP_* is set)."
        ),
    ] = None,
    imap_folder: Annotated[
        str, typer.Option(help="IMAP folder; '{mailbox}' makes one folder per mailbox.")
    ] = "INBOX",
    rate: Annotated[float, typer.Option(min=0.0, help="Messages per second (0: no pause).")] = 1.0,
    limit: Annotated[
        int | None, typer.Option(min=0, help="Deliver at most this many in this run.")
    ] = None,
    start_fraction: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of the mailbox delivered at once.")
    ] = 0.0,
    world: Annotated[
        Path | None, typer.Option(help="Demo world directory (default: the configured world).")
    ] = None,
    state_dir: Annotated[
        Path | None,
        typer.Option(help="Where delivery state is kept (default $PEBBLE_HOME/sim/mail)."),
    ] = None,
) -> None:
    """Deliver the demo world's mailbox over time into a drop folder and/or IMAP."""
    from demo.sim.mail import run_cli

    raise typer.Exit(
        code=run_cli(
            drop=drop,
            imap=imap,
            imap_folder=imap_folder,
            rate=rate,
            limit=limit,
            start_fraction=start_fraction,
            world=world,
            state_dir=state_dir,
        )
    )


@cli.command("tally")
def tally(
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one).")] = 9000,
    world: Annotated[
        Path | None, typer.Option(help="Demo world directory (default: the configured world).")
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    live_interval: Annotated[
        float | None,
        typer.Option(min=0.1, help="Dispatch one open sales order every this many seconds."),
    ] = None,
    fault: Annotated[str, typer.Option(help="Initial fault mode (see POST /__faults).")] = "none",
) -> None:
    """Serve Tally Prime's XML export protocol over the demo world until interrupted."""
    from demo.sim.tally import TallySimulator
    from pebble.settings import get_settings

    world_dir = world or get_settings().world
    try:
        simulator = TallySimulator(
            world_dir, host=host, port=port, live_interval_s=live_interval, fault=fault
        )
        url = simulator.start()
    except (OSError, ValueError) as exc:
        typer.echo(f"error: cannot start the Tally simulator: {exc}", err=True)
        raise typer.Exit(code=1) from None
    company = simulator.company
    typer.echo(
        f"Tally Prime simulator for {company.name!r} at {url}: {len(company.item_objects)} stock"
        f" items, {len(company.ledgers)} ledgers, {len(company.vouchers)} vouchers"
    )
    try:
        simulator.wait()
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
