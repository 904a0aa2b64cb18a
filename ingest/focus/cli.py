"""`pebble focus ...`: pull documents from Focus RT, print them or land them in the warehouse."""

from __future__ import annotations

import json
import sys
from typing import Annotated, NoReturn

import typer

cli = typer.Typer(help="Focus RT (Focus 8/9 ERP): sales orders, invoices and QC inspections.")

UrlOption = Annotated[
    str | None, typer.Option("--url", help="Focus base URL (default: FOCUS_URL or the simulator).")
]


def _settings(url: str | None):  # -> FocusSettings; imported lazily to keep the CLI light
    from pydantic import ValidationError

    from ingest.focus.settings import FocusSettings

    try:
        return FocusSettings(url=url) if url else FocusSettings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        _fail(f"invalid Focus settings: {problems}", code=2)


def _fail(message: str, *, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=code)


def _report(exc: Exception) -> None:
    from ingest.focus.errors import FocusConnectionError, FocusError

    if not isinstance(exc, FocusError):
        raise exc
    hint = ""
    if isinstance(exc, FocusConnectionError) and exc.retry_after:
        hint = f" (retry after {exc.retry_after:.0f}s)"
    _fail(f"{exc}{hint}")


def _date(value: str | None, option: str):
    if value is None:
        return None
    from ingest.focus.parse import parse_focus_date

    try:
        return parse_focus_date(value)
    except ValueError:
        _fail(f"{option} must be a date like 2025-11-14, got {value!r}", code=2)


@cli.command("pull")
def pull(
    voucher_type: Annotated[
        str,
        typer.Option(
            "--voucher-type", help="Kind (sales_orders, invoices, qc_inspections) or tenant name."
        ),
    ],
    url: UrlOption = None,
    doc_no: Annotated[str | None, typer.Option("--doc-no", help="Fetch one document.")] = None,
    from_date: Annotated[
        str | None, typer.Option("--from-date", help="First document date (YYYY-MM-DD).")
    ] = None,
    to_date: Annotated[
        str | None, typer.Option("--to-date", help="Last document date (YYYY-MM-DD).")
    ] = None,
    raw: Annotated[
        bool, typer.Option("--raw", help="Print Focus's documents instead of normalised records.")
    ] = False,
) -> None:
    """Print documents of one voucher type as JSON lines (normalised unless --raw)."""
    from ingest.focus.client import FocusClient
    from ingest.focus.errors import FocusError
    from ingest.focus.sync import pull_documents, pull_one

    settings = _settings(url)
    try:
        kind = settings.kind_for(voucher_type)
    except ValueError as exc:
        _fail(str(exc), code=2)
    start, end = _date(from_date, "--from-date"), _date(to_date, "--to-date")
    try:
        with FocusClient(settings) as client:
            if doc_no:
                pairs = iter([pull_one(client, kind, doc_no)])
            else:
                pairs = pull_documents(client, kind, from_date=start, to_date=end)
            for record, document in pairs:
                sys.stdout.write(json.dumps(document if raw else record, ensure_ascii=False))
                sys.stdout.write("\n")
    except FocusError as exc:
        _report(exc)


@cli.command("sync")
def sync(
    url: UrlOption = None,
    voucher_type: Annotated[
        list[str] | None,
        typer.Option("--voucher-type", help="Limit to these kinds (repeatable; default all)."),
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Ignore the cursor and pull every document.")
    ] = False,
) -> None:
    """Pull incrementally and land in raw.focus_* tables; prints one JSON summary per kind."""
    import psycopg

    from ingest.focus.client import FocusClient
    from ingest.focus.errors import FocusError
    from ingest.focus.settings import KINDS
    from ingest.focus.sync import sync as focus_sync
    from pebble import db

    settings = _settings(url)
    try:
        kinds = tuple(settings.kind_for(v) for v in voucher_type) if voucher_type else KINDS
    except ValueError as exc:
        _fail(str(exc), code=2)
    try:
        db.upgrade()
        with FocusClient(settings) as client, db.connect(autocommit=True) as conn:
            for kind in kinds:  # one at a time: each line shows as its kind lands
                part = focus_sync(conn, client, kinds=[kind], full=full).parts[kind]
                summary = {
                    "kind": kind,
                    "from_date": part.extra.get("from_date"),
                    "fetched": part.seen,
                    "inserted": part.landed - part.updated,
                    "updated": part.updated,
                    "unchanged": part.duplicates,
                    "rejected": part.rejected,
                    "cursor": json.loads(part.cursor_after) if part.cursor_after else None,
                }
                typer.echo(json.dumps(summary))
    except FocusError as exc:
        _report(exc)
    except psycopg.OperationalError as exc:
        _fail(f"cannot reach the warehouse database: {str(exc).strip().splitlines()[0]}")
