"""`pebble tally ...`: pull from Tally Prime (or a saved export) and land in the warehouse."""

from __future__ import annotations

import json
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

cli = typer.Typer(help="Tally Prime connector: pull stock, ledgers and vouchers.")


class Collection(StrEnum):
    stock_items = "stock-items"
    stock_groups = "stock-groups"
    ledgers = "ledgers"
    vouchers = "vouchers"
    company = "company"


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    from ingest.tally.parse import parse_date

    try:
        return parse_date(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD or YYYYMMDD)", param_hint=option
        ) from None


def _fail(exc: Exception) -> typer.Exit:
    """Print a connector error as one clear line; the exit code names its kind."""
    from ingest.tally.errors import (
        TallyCompanyNotFound,
        TallyConnectionError,
        TallyParseError,
        TallyResponseError,
    )

    if isinstance(exc, TallyConnectionError | TallyCompanyNotFound):
        typer.echo(f"error [{exc.code}]: {exc}", err=True)
        return typer.Exit(code=5)  # 2 is taken by usage errors
    if isinstance(exc, TallyResponseError):
        typer.echo(
            f"error [{exc.code}]: Tally answered: {exc.message}. Next: {exc.next_step}", err=True
        )
        return typer.Exit(code=3)
    if isinstance(exc, TallyParseError):
        typer.echo(f"error [{exc.code}]: {exc}", err=True)
        return typer.Exit(code=4)
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(code=1)


@cli.command()
def pull(
    collection: Annotated[Collection, typer.Option("--collection", "-c", help="What to pull.")],
    url: str | None = typer.Option(None, help="Tally's URL (default: $TALLY_URL)."),
    company: str | None = typer.Option(None, help="Company name (default: $TALLY_COMPANY)."),
    from_file: Annotated[
        Path | None,
        typer.Option("--from-file", help="Parse a saved Tally response (UTF-16 or UTF-8)."),
    ] = None,
    from_date: str | None = typer.Option(None, help="Vouchers from this date (YYYY-MM-DD)."),
    to_date: str | None = typer.Option(None, help="Vouchers up to this date (YYYY-MM-DD)."),
    since_alter_id: int | None = typer.Option(None, help="Only objects with AlterID above this."),
) -> None:
    """Print the collection's normalised records as JSON lines."""
    from ingest.tally.errors import TallyError
    from ingest.tally.parse import read_file_records

    start, end = _date(from_date, "--from-date"), _date(to_date, "--to-date")
    try:
        if from_file is not None:
            if not from_file.is_file():
                raise typer.BadParameter(f"no such file: {from_file}", param_hint="--from-file")
            records = read_file_records(from_file, collection.value)
        else:
            from ingest.tally.client import TallyClient

            overrides = {k: v for k, v in (("url", url), ("company", company)) if v}
            client = TallyClient(**overrides)
            request: dict[str, object] = {"alter_id_above": since_alter_id}
            if collection is Collection.vouchers:
                request |= {"from_date": start, "to_date": end}
            records = client.records(collection.value, **request)
        count = 0
        for record in records:
            sys.stdout.write(json.dumps(record, default=str, ensure_ascii=False) + "\n")
            count += 1
    except TallyError as exc:
        raise _fail(exc) from None
    typer.echo(f"{count} {collection.value} records", err=True)


@cli.command()
def sync(
    collection: Annotated[
        list[Collection] | None,
        typer.Option("--collection", "-c", help="Collections to pull (default: all)."),
    ] = None,
    url: str | None = typer.Option(None, help="Tally's URL (default: $TALLY_URL)."),
    company: str | None = typer.Option(None, help="Company name (default: $TALLY_COMPANY)."),
) -> None:
    """Pull from Tally into the warehouse's raw tables (incremental, all-or-nothing)."""
    import psycopg

    from ingest.tally.client import TallyClient
    from ingest.tally.errors import TallyError
    from ingest.tally.sync import COLLECTIONS
    from ingest.tally.sync import sync as tally_sync
    from pebble.db import connect, upgrade

    chosen = [c for c in COLLECTIONS if not collection or Collection(c) in collection]
    overrides = {k: v for k, v in (("url", url), ("company", company)) if v}
    client = TallyClient(**overrides)
    try:
        upgrade()
        with connect(autocommit=True) as conn:
            for name in chosen:  # one at a time: each line shows as its collection lands
                result = tally_sync(conn, client, collections=[name]).parts[name]
                typer.echo(
                    f"{name}: {result.seen} received, {result.landed} landed"
                    + (f", {result.rejected} rejected" if result.rejected else "")
                    + (f", cursor {result.cursor_after}" if result.cursor_after else "")
                )
    except TallyError as exc:
        raise _fail(exc) from None
    except psycopg.Error as exc:
        typer.echo(f"error: warehouse: {exc}", err=True)
        raise typer.Exit(code=1) from None


@cli.command()
def status(
    url: str | None = typer.Option(None, help="Tally's URL (default: $TALLY_URL)."),
) -> None:
    """Show the company Tally serves and its highest master / voucher AlterIDs."""
    from ingest.tally.client import TallyClient
    from ingest.tally.errors import TallyError

    try:
        info = TallyClient(**({"url": url} if url else {})).company_info()
    except TallyError as exc:
        raise _fail(exc) from None
    typer.echo(json.dumps(info, default=str))
