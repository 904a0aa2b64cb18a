"""`pebble celery`: the "celery" deployment profile (orchestration/celery_profile.py), in
which Celery worker processes execute the steps of Dagster runs. See docs/celery.md."""

from __future__ import annotations

import uuid

import typer

cli = typer.Typer(
    help="Run Dagster steps on Celery workers (RabbitMQ or Redis broker): start a worker, "
    "list the workers, materialise on them.",
    no_args_is_help=True,
)


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(code=2)


@cli.command()
def worker(
    concurrency: int = typer.Option(
        1, min=1, help="Steps this worker executes at once (one process each)."
    ),
    name: str = typer.Option(
        "", help="Worker name (unique per machine); default: pebble-<random>."
    ),
    loglevel: str = typer.Option("WARNING", help="Celery's log level (DEBUG ... CRITICAL)."),
) -> None:
    """Start a Celery worker taking steps from the profile's queue (PEBBLE_CELERY_QUEUE) at
    its broker (PEBBLE_CELERY_BROKER). Runs until stopped (Ctrl-C or SIGTERM: it finishes
    the steps it is executing first)."""
    from pebble import db

    db.apply_runtime_env()  # the worker's steps find the database the way `pebble up` does
    from orchestration.celery_profile import (
        CeleryProfileError,
        celery_app,
        check_broker,
        queue_name,
    )

    try:
        check_broker()
        queue = queue_name()
    except CeleryProfileError as exc:
        raise _fail(exc) from None
    node = name or f"pebble-{uuid.uuid4().hex[:6]}"
    celery_app().worker_main(
        [
            "worker",
            f"--queues={queue}",
            f"--concurrency={concurrency}",
            # a step per child process, which exits after it: every step starts clean and
            # lets go of what it held (the embedded Qdrant store admits one process)
            "--pool=prefork",
            "--max-tasks-per-child=1",
            "--prefetch-multiplier=1",
            f"--hostname={node}@%h",
            f"--loglevel={loglevel}",
            "--without-gossip",
            "--without-mingle",
        ]
    )


@cli.command()
def status() -> None:
    """The workers that answer on the profile's queue."""
    from orchestration.celery_profile import (
        CeleryProfileError,
        broker_url,
        check_broker,
        queue_name,
        redacted,
        workers_on_queue,
    )

    try:
        check_broker()
        names = workers_on_queue()
    except CeleryProfileError as exc:
        raise _fail(exc) from None
    typer.echo(f"broker: {redacted(broker_url())}  queue: {queue_name()}")
    typer.echo(f"workers: {len(names)}")
    for worker_name in names:
        typer.echo(f"  {worker_name}")
    if not names:
        raise typer.Exit(code=1)


@cli.command()
def materialize(
    select: str = typer.Option("*", help="Dagster asset selection (default: every asset)."),
) -> None:
    """Materialise assets in one run whose steps the Celery workers execute; print the
    summary. (Unlike `pebble materialize`, it starts no demo stand-ins: the workers need
    the sources to be reachable from where they run.)"""
    from rich.console import Console

    from orchestration.celery_profile import CeleryProfileError
    from orchestration.celery_profile import materialize as run
    from pebble.materialize import print_summary

    try:
        summary = run(select)
    except CeleryProfileError as exc:
        raise _fail(exc) from None
    print_summary(summary, Console())
    raise typer.Exit(code=0 if summary.success else 1)
