"""The `pebble` command. Each domain contributes its own Typer app, registered here.

Domain command modules must stay light to import: heavy libraries (torch, dagster, dbt)
are imported inside the command functions, so `pebble --help` answers at once.
"""

from __future__ import annotations

import importlib
import logging

import typer

from pebble.commands import core

app = typer.Typer(
    name="pebble",
    help="Pebble Orchestrator: email-and-ERP data platform for chemical traders.",
    no_args_is_help=True,
    add_completion=False,
    # a traceback's local variables would print database URLs and passwords
    pretty_exceptions_show_locals=False,
)

core.register(app)

#: (command group, module) pairs; each module exposes a Typer app named `cli`.
SUBCOMMANDS: tuple[tuple[str, str], ...] = (
    ("demo", "demo.world.cli"),
    ("sim", "demo.sim.cli"),
    ("mail", "ingest.mail.cli"),
    ("tally", "ingest.tally.cli"),
    ("focus", "ingest.focus.cli"),
    ("prelead", "ingest.prelead.cli"),
    ("db", "pebble.commands.db"),
    ("user", "pebble.commands.users"),
    ("celery", "pebble.commands.celery"),
)
#: Top-level commands contributed by a module's `register(app)` function.
TOP_LEVEL: tuple[str, ...] = ("ml.cli", "pebble.commands.backup", "pebble.commands.ask")


def _optional_module(name: str):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and name.startswith(exc.name):
            return None  # that domain is not part of this build
        raise


for group, module_name in SUBCOMMANDS:
    module = _optional_module(module_name)
    if module is not None:
        app.add_typer(module.cli, name=group)
for module_name in TOP_LEVEL:
    module = _optional_module(module_name)
    if module is not None:
        module.register(app)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # libraries that set their own loggers to INFO still only reach the console on warnings
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.WARNING)
    from pebble.db import DatabaseConnectionError

    try:
        app()
    except DatabaseConnectionError as exc:  # one line, the password already removed
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
