"""`pebble ask "QUESTION" --as USER`: Ask Pebble from the command line.

Answers as the app's chat page does, within the role of the account named by ``--as``
(``auth.users``): the answer and its sources (table and key), or the whole answer as JSON
with ``--json``. A write the question asks for (a task, a deal moved) is only printed as
what would be done; ``--yes`` appends it, as an event under the account's name.
Exit codes: 0 answered, 1 the answer was refused (role) or flagged (a figure no tool
returned), 2 bad input (unknown or disabled account, empty question), 3 a write conflicted.
"""

from __future__ import annotations

import json

import typer


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=code)


def _user(conn, name: str):
    from pebble.auth import User

    row = conn.execute(
        "SELECT username, role, display_name FROM auth.users WHERE username = %s AND NOT disabled",
        (name.strip().lower(),),
    ).fetchone()
    if row is None:
        raise _fail(f"no active account {name!r} (see `pebble user list`)", 2)
    return User(row[0], row[1], row[2])


def ask_command(
    question: str = typer.Argument(..., help="The question, in plain words."),
    as_user: str = typer.Option(..., "--as", help="The account whose role the answer keeps to."),
    as_json: bool = typer.Option(False, "--json", help="Print the answer as JSON."),
    yes: bool = typer.Option(False, "--yes", help="Carry out the write the question asks for."),
    offline: bool = typer.Option(
        False, "--offline", help="Answer without the LLM even when one is configured."
    ),
) -> None:
    """Ask Pebble a question about companies, orders, receivables, prices, stock, cards or
    QC batches; or ask it to create a task or move a deal (written only with --yes)."""
    from ml.assistant import ask, confirm
    from pebble import db
    from pebble.events import EventError, VersionConflict

    if not question.strip():
        raise _fail("the question is empty", 2)
    db.upgrade()
    with db.connect(autocommit=True) as conn:
        user = _user(conn, as_user)
        answer = ask(conn, user, question, offline=True if offline else None)
        written = []
        conflict = None
        if yes:
            for proposal in answer.proposals:
                try:
                    recorded = confirm(conn, user, proposal)
                except VersionConflict as exc:
                    conflict = str(exc)
                    break
                except EventError as exc:
                    raise _fail(str(exc), 2) from None
                written.append(
                    {"event_type": recorded.event_type, "entity_id": recorded.entity_id,
                     "version": recorded.entity_version, "event_seq": recorded.event_seq}
                )  # fmt: skip
    if as_json:
        data = answer.to_dict() | {"written": written, "conflict": conflict}
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        typer.echo(answer.text)
        for note in answer.notes:
            typer.echo(f"note: {note}")
        if answer.flags:
            typer.echo("flagged: " + "; ".join(answer.flags))
        sources = answer.sources()
        if sources:
            typer.echo("\nSources:")
            for s in sources:
                typer.echo(f"  {s['table']}  {s['key']}")
        for proposal in answer.proposals:
            if not yes:
                typer.echo(f"\nWould do (run again with --yes to do it): {proposal.summary}")
        for w in written:
            typer.echo(f"\nDone: {w['event_type']} {w['entity_id']} (version {w['version']})")
        if conflict:
            typer.echo(f"\nNot done: {conflict}", err=True)
    if conflict:
        raise typer.Exit(code=3)
    if answer.refused or answer.flags:
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    app.command("ask")(ask_command)
