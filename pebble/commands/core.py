"""Core commands: `pebble up` and `pebble materialize`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def up(
        dagster_port: int = typer.Option(3000, help="Port of the Dagster UI."),
        app_port: int = typer.Option(8501, help="Port of the Streamlit app."),
        no_materialize: bool = typer.Option(False, help="Serve without materialising first."),
    ) -> None:
        """Start the database, materialise every asset, serve the Dagster UI and the app."""
        from pebble.up import run_up

        raise typer.Exit(
            run_up(
                dagster_port=dagster_port, app_port=app_port, materialize_first=not no_materialize
            )
        )

    @app.command()
    def materialize(
        select: str = typer.Option("*", help="Dagster asset selection (default: every asset)."),
    ) -> None:
        """Materialise assets headless, with progress and a closing summary."""
        from pebble.materialize import run_materialize

        raise typer.Exit(run_materialize(select))
