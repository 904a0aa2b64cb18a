"""Core commands: `pebble up` and `pebble materialize`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def up(
        dagster_port: int = typer.Option(3000, help="Port of the Dagster UI."),
        app_port: int = typer.Option(8501, help="Port of the Streamlit app."),
        materialize: bool = typer.Option(
            True,
            "--materialize/--no-materialize",
            help="Materialise every asset in the background once the servers are up.",
        ),
    ) -> None:
        """Start the database, serve the Dagster UI and the app, and materialise every asset
        in the background (the app says what is still running)."""
        from pebble.up import run_up

        raise typer.Exit(
            run_up(dagster_port=dagster_port, app_port=app_port, materialize_first=materialize)
        )

    @app.command()
    def materialize(
        select: str = typer.Option("*", help="Dagster asset selection (default: every asset)."),
        demo: bool = typer.Option(
            True,
            "--demo/--no-demo",
            help="In a demo home, start the demo stand-ins for this run and stop them after.",
        ),
        cards_first: bool = typer.Option(
            False,
            "--cards-first",
            help="Every asset in two runs: landings and cards first, then the model, the "
            "scores and the cards again (what `pebble up` runs in the background).",
        ),
    ) -> None:
        """Materialise assets headless, with progress and a closing summary."""
        from pebble.materialize import run_materialize

        raise typer.Exit(run_materialize(select, demo=demo, cards_first=cards_first))
