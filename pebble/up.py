"""`pebble up`: the whole platform on one machine, serving first.

Resolves the database (embedded unless ``DATABASE_URL``), starts the demo stand-ins in a
demo home, serves the Dagster UI and the Streamlit app, and then materialises every asset
in the background (a `pebble materialize --cards-first` child, in three runs: the ERP
landings, lead lists and warehouse models, so that scoring finds the CRM master, stock
and orders; then mail and the cards, unclassified; then training, scoring and the cards
again). The app shows what is still running and the cards as they land. Ctrl-C or SIGTERM stops
everything cleanly, at any point.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console

from pebble import db, procs
from pebble.settings import PROJECT_ROOT, get_settings
from pebble.status import RUNNING, RunStatus, read_status, write_status


def ensure_dbt_manifest() -> None:
    """Prepare dbt's manifest once (install time); later imports read it, never parse."""
    manifest = PROJECT_ROOT / "dbt" / "target" / "manifest.json"
    if manifest.exists():
        return
    subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "parse", "--quiet"],
        cwd=PROJECT_ROOT / "dbt",
        check=True,
        env=os.environ | db.dbt_env(),
    )


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def bind_warning(host: str) -> str | None:
    """The warning to print when the servers would listen beyond this machine."""
    if is_loopback(host):
        return None
    return (
        f"PEBBLE_BIND_HOST={host}: the Dagster UI and the app will be reachable from the "
        "network. The app asks for a sign-in; the Dagster UI has none, and anyone who can "
        "reach it can read the runs' logs and start runs. Use 127.0.0.1 unless a firewall "
        "or proxy guards it."
    )


def run_up(dagster_port: int = 3000, app_port: int = 8501, materialize_first: bool = True) -> int:
    """Start everything and block until interrupted. Returns the exit code."""
    # first of all: a kill at any later point stops the children and the database
    procs.interruptible()
    console = Console()
    settings = get_settings()
    warning = bind_warning(settings.bind_host)
    if warning:
        console.print(f"[bold red]WARNING[/bold red] {warning}")
    background: list[subprocess.Popen[bytes]] = []
    try:
        return _run(console, dagster_port, app_port, materialize_first, background)
    except KeyboardInterrupt:
        console.print("\nstopping...")
        return 0
    finally:
        procs.stop_all(background)
        console.print("stopped")
        db.stop_embedded()


def _run(
    console: Console,
    dagster_port: int,
    app_port: int,
    materialize_first: bool,
    background: list[subprocess.Popen[bytes]],
) -> int:
    from pebble.demo_stack import demo_decision, ensure_demo_users, start_demo_stack

    settings = get_settings()
    started = time.monotonic()
    demo, reason = demo_decision(settings)  # before the resolved URL is exported
    where = "embedded PostgreSQL" if db.is_embedded() else "PostgreSQL at DATABASE_URL"
    env = db.apply_runtime_env()
    console.print(
        f"database: {where} ({db.redact(env[db.RESOLVED_URL_ENV])}) "
        f"ready in {time.monotonic() - started:.1f}s"
    )
    db.upgrade()
    ensure_dbt_manifest()
    logs = settings.home / "logs"
    console.print(reason)
    demo_sign_in: list[str] = []
    if demo:  # one account per role, on the demo only (a real deployment creates none)
        with db.connect(autocommit=True) as conn:
            demo_sign_in = ensure_demo_users(conn)
        stack = start_demo_stack(
            console, lambda cmd, log: procs.spawn(cmd, os.environ | env, log), logs, live=True
        )
        background.extend(stack.procs)
        os.environ.update(stack.env)
    child_env = os.environ | env
    servers = _serve(child_env, logs, settings.bind_host, dagster_port, app_port)
    background.extend(servers)
    console.print(f"\n[bold]Dagster UI[/bold]     http://{settings.bind_host}:{dagster_port}")
    console.print(f"[bold]Pebble app[/bold]     http://{settings.bind_host}:{app_port}")
    for line in demo_sign_in:  # names and where the passwords are, never a password
        console.print(line, markup=False, highlight=False)
    materialiser = None
    if materialize_first:
        # the stand-ins already run for the whole session: the child starts none of its own;
        # the ERP side first, then the cards before the model is trained, and again once
        # mail is scored (pebble.materialize.stages)
        pebble = str(Path(sys.executable).parent / "pebble")
        materialiser = procs.spawn(
            [pebble, "materialize", "--no-demo", "--cards-first"],
            child_env,
            logs / "materialize.console.log",
        )
        background.append(materialiser)
        # the sensors wait from this moment, before the child has loaded the definitions
        write_status(RunStatus(state=RUNNING, pid=materialiser.pid, current="starting"))
        console.print(
            "materialising every asset in the background (ERP and warehouse, mail and "
            "cards, training and scoring); the app shows progress, details in "
            f"{logs}/materialize.log"
        )
    console.print(f"logs in {logs}; press Ctrl-C to stop\n")
    return _watch(console, servers, materialiser, logs)


def _serve(
    env: dict[str, str], logs: Path, host: str, dagster_port: int, app_port: int
) -> list[subprocess.Popen[bytes]]:
    bin_dir = Path(sys.executable).parent
    dagster = [str(bin_dir / "dagster"), "dev", "-w", "workspace.yaml"]
    app = [str(bin_dir / "streamlit"), "run", "app/streamlit_app.py"]
    return [
        procs.spawn([*dagster, "-h", host, "-p", str(dagster_port)], env, logs / "dagster.log"),
        procs.spawn(
            [
                *app,
                "--server.port",
                str(app_port),
                "--server.address",
                host,
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
                "--client.toolbarMode",
                "viewer",
            ],
            db.app_env(env),  # the app's read-only role, never the owner's URL
            logs / "app.log",
        ),
    ]


def _watch(
    console: Console,
    servers: list[subprocess.Popen[bytes]],
    materialiser: subprocess.Popen[bytes] | None,
    logs: Path,
) -> int:
    """Block while the servers run; say once when the background materialisation ends."""
    reported = materialiser is None
    while all(p.poll() is None for p in servers):
        if not reported and materialiser is not None and materialiser.poll() is not None:
            reported = True
            _report_materialisation(console, materialiser.returncode, logs)
        time.sleep(1)
    console.print(f"[red]a server exited; see the logs in {logs}[/red]")
    return 1


def _report_materialisation(console: Console, returncode: int, logs: Path) -> None:
    status = read_status()
    if returncode == 0:
        done = f"{status.done} assets" if status else "every asset"
        console.print(f"[green]materialisation finished[/green]: {done}")
        return
    console.print(f"[yellow]materialisation finished with failures[/yellow] (see {logs}):")
    for line in (status.failures if status else [])[:10]:
        console.print(f"  {line}")
