"""The demo business: a generated world and live stand-ins for its source systems (Tally
Prime, Focus RT, the shared mailboxes). The one place outside demo/ that imports it.

The demo runs only in a demo home: an embedded database and no real source configured
(``TALLY_URL``, ``FOCUS_URL``, ``MAIL_IMAP_HOST``), or an explicit ``PEBBLE_DEMO=1``;
``PEBBLE_DEMO=0`` turns it off. Even then each stand-in starts only when its real system is
not configured, and the mail deliverer writes into Pebble's own drop folder only (into the
configured IMAP account only with ``PEBBLE_DEMO_IMAP=1``).

Two worlds are generated once: the demo world (``PEBBLE_DEMO_SEED``, default 7) whose
mailbox the stand-ins deliver and the model scores, and the training world (the next
seed) the model learns from, so the confidences the demo shows are honest.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from rich.console import Console

from pebble.settings import PROJECT_ROOT, Settings, get_settings

TALLY_PORT = 9000
FOCUS_PORT = 8090
#: Share of the demo mailbox in the drop folder before the first materialisation; the
#: rest arrives over time while `pebble up` runs.
MAIL_START_FRACTION = 0.9

Spawn = Callable[[list[str], Path], subprocess.Popen[bytes]]


class _RealSources(BaseSettings):
    """Which real source systems the environment (or `.env`) configures."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    tally_url: str | None = Field(default=None, validation_alias="TALLY_URL")
    focus_url: str | None = Field(default=None, validation_alias="FOCUS_URL")
    mail_imap_host: str | None = Field(default=None, validation_alias="MAIL_IMAP_HOST")


def real_sources() -> dict[str, str]:
    """Configured real sources: variable name -> value (e.g. ``{"TALLY_URL": ...}``)."""
    found = _RealSources()
    values = {
        "TALLY_URL": found.tally_url,
        "FOCUS_URL": found.focus_url,
        "MAIL_IMAP_HOST": found.mail_imap_host,
    }
    return {name: value for name, value in values.items() if value}


def demo_decision(settings: Settings | None = None) -> tuple[bool, str]:
    """Whether the demo stand-ins run here, and why (one line for the console)."""
    from pebble import db

    settings = settings or get_settings()
    if settings.demo is False:
        return False, "demo off (PEBBLE_DEMO=0)"
    if settings.demo:
        return True, "demo on (PEBBLE_DEMO=1)"
    if not db.is_embedded():
        return False, "demo off: DATABASE_URL is set (PEBBLE_DEMO=1 runs the demo anyway)"
    configured = real_sources()
    if configured:
        return False, (
            f"demo off: {', '.join(sorted(configured))} configured "
            "(PEBBLE_DEMO=1 runs the demo for the other sources)"
        )
    return True, "demo on: embedded database and no source configured"


@dataclass
class DemoStack:
    """What was started, and the environment that points Pebble at it."""

    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


def _generate_once(folder: Path, seed: int, scale: float, what: str, console: Console) -> None:
    from demo.world import generate_world

    manifest = folder / "manifest.json"
    if manifest.exists():
        return
    started = time.monotonic()
    counts = generate_world(folder, seed=seed, scale=scale).get("counts", {})
    console.print(
        f"{what} generated in {time.monotonic() - started:.1f}s (seed {seed}): "
        f"{counts.get('companies')} companies, {counts.get('sales_orders')} orders, "
        f"{counts.get('emails')} emails ({folder})"
    )


def ensure_worlds(console: Console) -> Path:
    """Generate the demo world and the training world once; returns the demo world."""
    settings = get_settings()
    world, training = settings.world, settings.training
    if world == training:
        raise ValueError(
            f"PEBBLE_TRAINING_DIR and PEBBLE_WORLD_DIR are the same folder ({world}): the "
            "model must not be trained on the mail it scores"
        )
    _generate_once(world, settings.demo_seed, settings.demo_scale, "demo world", console)
    _generate_once(training, settings.demo_seed + 1, settings.demo_scale, "training world", console)
    return world


def wait_for_port(host: str, port: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def free_port() -> int:
    """A local port free right now (the simulator binds it a moment later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pebble() -> str:
    return str(Path(sys.executable).parent / "pebble")


def demo_as_of(manifest: dict[str, Any]) -> date:
    """The day after the demo world's last day: what its ERP marts are aged against."""
    return date.fromisoformat(manifest["end_date"]) + timedelta(days=1)


def start_demo_stack(console: Console, spawn: Spawn, logs: Path, *, live: bool = True) -> DemoStack:
    """Generate the worlds, start the simulators that are needed, deliver the first mail.

    ``live`` (`pebble up`): Tally dispatches an order every minute and the rest of the
    mailbox keeps arriving. Without it (`pebble materialize`) the stand-ins only serve.
    The returned stack's ``env`` points Pebble at them; the caller exports it to whatever
    runs the landings, and stops ``procs`` when done.
    """
    settings = get_settings()
    world = ensure_worlds(console)
    stack = DemoStack()
    configured = real_sources()
    servers = (
        ("TALLY_URL", "tally", TALLY_PORT, ["--live-interval", "60"] if live else []),
        ("FOCUS_URL", "focus", FOCUS_PORT, []),
    )
    for variable, name, fixed_port, extra in servers:
        if variable in configured:
            console.print(f"{name}: using {variable}={configured[variable]}")
            continue
        # `pebble up` serves them where the README says; a run takes any free port
        port = fixed_port if live else free_port()
        cmd = [_pebble(), "sim", name, "--port", str(port), "--world", str(world), *extra]
        stack.procs.append(spawn(cmd, logs / f"sim-{name}.log"))
        if not wait_for_port("127.0.0.1", port):
            raise RuntimeError(f"the {name} simulator did not start; see {logs}/sim-{name}.log")
        stack.env[variable] = f"http://127.0.0.1:{port}"
        console.print(f"{name} simulator: http://127.0.0.1:{port}")

    drop = settings.mail_drops
    drop.mkdir(parents=True, exist_ok=True)
    if settings.demo_imap:
        console.print(
            "[bold yellow]PEBBLE_DEMO_IMAP=1: demo mail is also appended to the IMAP account "
            f"{configured.get('MAIL_IMAP_HOST', '(MAIL_IMAP_HOST)')}[/bold yellow]"
        )
    imap = ["--imap"] if settings.demo_imap else ["--no-imap"]
    manifest = json.loads((world / "manifest.json").read_text())
    if settings.as_of_date is None and "PEBBLE_AS_OF_DATE" not in os.environ:
        as_of = demo_as_of(manifest)
        stack.env["PEBBLE_AS_OF_DATE"] = as_of.isoformat()
        console.print(
            f"demo: receivables, deals and COAs are aged as of {as_of:%d %b %Y}, the day after "
            "the demo world ends (PEBBLE_AS_OF_DATE)"
        )
    total = manifest["counts"]["emails"]
    first = int(total * MAIL_START_FRACTION)
    base = [_pebble(), "sim", "mail", "--world", str(world), "--drop", str(drop), *imap]
    subprocess.run(
        [*base, "--rate", "0", "--limit", str(first)],
        cwd=PROJECT_ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    if live:
        # the rest of the mailbox keeps arriving, one message every five seconds
        stack.procs.append(spawn([*base, "--rate", "0.2"], logs / "sim-mail.log"))
        console.print(f"mail simulator: {first} of {total} messages in {drop}, the rest arriving")
    else:
        console.print(f"demo mail: messages up to {first} of {total} in {drop}")
    leads = settings.prelead_drops
    leads.mkdir(parents=True, exist_ok=True)
    for path in sorted((world / "prelead").glob("batch_*")):
        if not (leads / path.name).exists():
            shutil.copy2(path, leads / path.name)
    console.print(f"prelead lead lists from marketing in {leads}")
    return stack


# --- demo accounts ---------------------------------------------------------------------------

#: One demo account per role: (user name, role, display name).
DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    ("meera", "marketing", "Meera Iyer"),
    ("priya", "sales", "Priya Shah"),
    ("ravi", "ops", "Ravi Kumar"),
    ("qasim", "qc", "Qasim Ali"),
    ("manisha", "manager", "Manisha Rao"),
    ("arjun", "admin", "Arjun Mehta"),
)
#: Generated demo passwords, one "name role password" line each, under $PEBBLE_HOME (0600).
DEMO_USERS_FILE = "demo-users.txt"


def ensure_demo_users(conn: Any, home: Path | None = None) -> list[str]:
    """Create the demo accounts that do not exist yet (demo only; a real deployment creates
    none) and return the lines telling how to sign in: the names, and where the passwords
    are, never a password itself.

    Every new account gets ``PEBBLE_DEMO_PASSWORD`` when it is set (10 characters or more),
    else a generated password written to ``$PEBBLE_HOME/demo-users.txt`` (mode 0600).
    Accounts that exist keep their password. ``conn`` is the warehouse owner's."""
    from pebble import auth

    home = home or get_settings().home
    shared = get_settings().demo_password
    shared_password = shared.get_secret_value() if shared is not None else None
    notes: list[str] = []
    if shared_password is not None and len(shared_password) < auth.MIN_PASSWORD_CHARS:
        notes.append(
            f"PEBBLE_DEMO_PASSWORD is shorter than {auth.MIN_PASSWORD_CHARS} characters: "
            "generated passwords are used instead"
        )
        shared_password = None
    path = home / DEMO_USERS_FILE
    existing = {
        row[0]
        for row in conn.execute(
            "SELECT username FROM auth.users WHERE username = ANY(%s)",
            ([name for name, _, _ in DEMO_USERS],),
        ).fetchall()
    }
    generated: list[str] = []
    for name, role, display_name in DEMO_USERS:
        if name in existing:
            continue
        password = shared_password or secrets.token_urlsafe(12)
        try:
            auth.add_user(
                conn, name, role, password, actor="pebble-up (demo)", display_name=display_name
            )
        except auth.UserExists:  # created meanwhile by another `pebble up`
            continue
        if shared_password is None:
            generated.append(f"{name} {role} {password}\n")
    if generated:
        home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.writelines(generated)
    names = ", ".join(f"{name} ({role})" for name, role, _ in DEMO_USERS)
    lines = [f"demo sign-in: {names}"]
    created = len(DEMO_USERS) - len(existing)
    if shared_password is not None and created:
        lines.append("  password: the value of PEBBLE_DEMO_PASSWORD")
    if path.exists():
        lines.append(f"  passwords: in {path} (one 'name role password' per line)")
    if existing:
        lines.append("  a forgotten password: `pebble user reset NAME`")
    return notes + lines
