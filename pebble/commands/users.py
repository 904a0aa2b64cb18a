"""`pebble user`: the app's local accounts (``auth.users``): add, reset a password, change a
role, list.

Runs as the warehouse owner (the app's own database role may only read the accounts).
Passwords are asked twice with hidden input, or read as one line from standard input with
``--password-stdin`` (for scripts: ``printf '%s\\n' "$PW" | pebble user add ...``); they are
never printed, logged or put in an event.
"""

from __future__ import annotations

import getpass
import sys

import typer

cli = typer.Typer(
    help="The app's accounts: add one, reset a password, change a role, list them.",
    no_args_is_help=True,
)

_PASSWORD_STDIN = typer.Option(
    False, "--password-stdin", help="Read the password as one line from standard input."
)


def _actor() -> str:
    """Who ran the command: the operating-system account, as the events' actor."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return f"cli:{who}"[:200]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.removesuffix("\n").removesuffix("\r")
        if not password:
            typer.echo("error: no password on standard input", err=True)
            raise typer.Exit(code=2)
        return password
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=code)


def _connection():
    from pebble import db

    db.upgrade()
    return db.connect(autocommit=True)


@cli.command()
def add(
    name: str = typer.Argument(..., help="The user name (lower case), or an e-mail address."),
    role: str = typer.Option(..., "--role", help="marketing, sales, ops, qc, manager or admin."),
    display_name: str | None = typer.Option(None, "--display-name", help="Name shown in the app."),
    password_stdin: bool = _PASSWORD_STDIN,
) -> None:
    """Add an account with a role and a password (at least 10 characters)."""
    from pebble import auth
    from pebble.roles import ROLES

    if role not in ROLES:
        raise _fail(f"unknown role {role!r}; expected one of {', '.join(ROLES)}", 2)
    try:
        auth.check_name(name)
        if display_name is not None and len(display_name.strip()) > 200:
            raise auth.AccountError("the display name is longer than 200 characters")
        password = _password(password_stdin)
        auth.check_password(password)
        with _connection() as conn:
            user = auth.add_user(
                conn, name, role, password, actor=_actor(), display_name=display_name
            )
    except auth.UserExists as exc:
        raise _fail(str(exc), 1) from None
    except auth.AccountError as exc:
        raise _fail(str(exc), 2) from None
    typer.echo(f"added {user.name} ({user.role})")


@cli.command()
def reset(
    name: str = typer.Argument(..., help="The user name."),
    password_stdin: bool = _PASSWORD_STDIN,
    reason: str | None = typer.Option(None, "--reason", help="Why (kept in the event)."),
) -> None:
    """Set a new password for an account (also lifts a sign-in lock)."""
    from pebble import auth

    try:
        auth.check_name(name)
        password = _password(password_stdin)
        auth.check_password(password)
        with _connection() as conn:
            auth.reset_password(conn, name, password, actor=_actor(), reason=reason)
    except auth.UnknownUser as exc:
        raise _fail(str(exc), 1) from None
    except auth.AccountError as exc:
        raise _fail(str(exc), 2) from None
    typer.echo(f"password reset for {name.strip()}")


@cli.command("role")
def role_(
    name: str = typer.Argument(..., help="The user name."),
    role: str = typer.Argument(..., help="marketing, sales, ops, qc, manager or admin."),
) -> None:
    """Give an account another role (applies at its next sign-in)."""
    from pebble import auth
    from pebble.roles import ROLES

    if role not in ROLES:
        raise _fail(f"unknown role {role!r}; expected one of {', '.join(ROLES)}", 2)
    try:
        with _connection() as conn:
            user = auth.set_role(conn, name, role, actor=_actor())
    except auth.UnknownUser as exc:
        raise _fail(str(exc), 1) from None
    except auth.AccountError as exc:
        raise _fail(str(exc), 2) from None
    typer.echo(f"{user.name} is now {user.role}")


@cli.command("list")
def list_() -> None:
    """List the accounts: name, role, display name, disabled, last sign-in."""
    from pebble import auth

    with _connection() as conn:
        users = auth.list_users(conn)
    if users.is_empty():
        typer.echo("no accounts yet: add one with `pebble user add NAME --role ROLE`")
        return
    for row in users.iter_rows(named=True):
        last = row["last_signed_in_at"]
        typer.echo(
            "\t".join(
                [
                    row["username"],
                    row["role"],
                    row["display_name"] or "-",
                    "disabled" if row["disabled"] else "active",
                    f"last sign-in {last:%Y-%m-%d %H:%M %Z}" if last else "never signed in",
                ]
            )
        )
