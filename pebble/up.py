"""`pebble up`: the whole platform on one machine.

Resolves the database (embedded unless ``DATABASE_URL``), materialises every asset, then
serves the Dagster UI and the Streamlit app until Ctrl-C, and stops everything cleanly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console

from pebble import db
from pebble.settings import PROJECT_ROOT, get_settings


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


def _spawn(cmd: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "ab")  # noqa: SIM115 - lives as long as the child
    return subprocess.Popen(
        cmd, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def _stop(procs: list[subprocess.Popen[bytes]], console: Console) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
    deadline = time.monotonic() + 20
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    console.print("servers stopped")


def run_up(dagster_port: int = 3000, app_port: int = 8501, materialize_first: bool = True) -> int:
    """Start everything and block until interrupted. Returns the exit code."""
    console = Console()
    settings = get_settings()
    started = time.monotonic()
    where = "embedded PostgreSQL" if db.is_embedded() else "PostgreSQL at DATABASE_URL"
    env = db.apply_runtime_env()
    console.print(
        f"database: {where} ({db.redact(env[db.RESOLVED_URL_ENV])}) "
        f"ready in {time.monotonic() - started:.1f}s"
    )
    db.ensure_schemas()
    ensure_dbt_manifest()
    logs = settings.home / "logs"
    background: list[subprocess.Popen[bytes]] = []
    try:
        if os.environ.get("PEBBLE_DEMO", "1") != "0":
            from pebble.demo_stack import start_demo_stack

            stack = start_demo_stack(
                console, lambda cmd, log: _spawn(cmd, os.environ | env, log), logs
            )
            background.extend(stack.procs)
        return _materialize_and_serve(
            console, env, logs, background, dagster_port, app_port, materialize_first
        )
    except KeyboardInterrupt:
        console.print("\nstopping...")
        return 0
    finally:
        _stop(background, console)
        db.stop_embedded()


def _materialize_and_serve(
    console: Console,
    env: dict[str, str],
    logs: Path,
    background: list[subprocess.Popen[bytes]],
    dagster_port: int,
    app_port: int,
    materialize_first: bool,
) -> int:
    from pebble.materialize import materialize, print_summary

    if materialize_first:
        summary = materialize("*")
        print_summary(summary, console)
        if not summary.success:
            console.print("[yellow]some steps failed; serving anyway so you can inspect them")

    host = os.environ.get("PEBBLE_BIND_HOST", "127.0.0.1")
    child_env = os.environ | env
    bin_dir = Path(sys.executable).parent
    procs = [
        _spawn(
            [
                str(bin_dir / "dagster"),
                "dev",
                "-w",
                "workspace.yaml",
                "-h",
                host,
                "-p",
                str(dagster_port),
            ],
            child_env,
            logs / "dagster.log",
        ),
        _spawn(
            [
                str(bin_dir / "streamlit"),
                "run",
                "app/streamlit_app.py",
                "--server.port",
                str(app_port),
                "--server.address",
                host,
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
            ],
            child_env,
            logs / "app.log",
        ),
    ]
    console.print(f"\n[bold]Dagster UI[/bold]     http://{host}:{dagster_port}")
    console.print(f"[bold]Pebble app[/bold]     http://{host}:{app_port}")
    console.print(f"logs in {logs}; press Ctrl-C to stop\n")

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    background.extend(procs)
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(1)
        console.print(f"[red]a server exited; see the logs in {logs}[/red]")
        return 1
    except KeyboardInterrupt:
        console.print("\nstopping...")
        return 0
