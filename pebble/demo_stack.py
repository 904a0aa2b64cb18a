"""The demo business for `pebble up`: a generated world and live stand-ins for its source
systems (Tally Prime, Focus RT, the shared mailboxes).

Each stand-in starts only when its real system is not configured: ``TALLY_URL`` and
``FOCUS_URL`` point Pebble at real servers with no code change, and the mail simulator
writes only into Pebble's own drop folder (into IMAP only with ``PEBBLE_DEMO_IMAP=1``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from pebble.settings import PROJECT_ROOT, get_settings

TALLY_PORT = 9000
FOCUS_PORT = 8090
#: Share of the demo mailbox in the drop folder before the first materialisation; the
#: rest arrives over time while the demo runs.
MAIL_START_FRACTION = 0.9

Spawn = Callable[[list[str], Path], subprocess.Popen[bytes]]


@dataclass
class DemoStack:
    """What was started, and the environment that points Pebble at it."""

    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


def ensure_world(console: Console) -> Path:
    """Generate the demo world once (seed and scale from PEBBLE_DEMO_SEED/_SCALE)."""
    from demo.world import generate_world

    world = get_settings().world
    if (world / "manifest.json").exists():
        return world
    seed = int(os.environ.get("PEBBLE_DEMO_SEED", "7"))
    scale = float(os.environ.get("PEBBLE_DEMO_SCALE", "1"))
    started = time.monotonic()
    manifest = generate_world(world, seed=seed, scale=scale)
    counts = manifest.get("counts", {})
    console.print(
        f"demo world generated in {time.monotonic() - started:.1f}s: "
        f"{counts.get('companies')} companies, {counts.get('sales_orders')} orders, "
        f"{counts.get('emails')} emails ({world})"
    )
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


def _pebble() -> str:
    return str(Path(sys.executable).parent / "pebble")


def start_demo_stack(console: Console, spawn: Spawn, logs: Path) -> DemoStack:
    """Generate the world, start the simulators that are needed, deliver the first mail."""
    world = ensure_world(console)
    stack = DemoStack()
    servers = (
        ("TALLY_URL", "tally", TALLY_PORT, ["--live-interval", "60"]),
        ("FOCUS_URL", "focus", FOCUS_PORT, []),
    )
    for variable, name, port, extra in servers:
        if os.environ.get(variable):
            console.print(f"{name}: using {variable}={os.environ[variable]}")
            continue
        cmd = [_pebble(), "sim", name, "--port", str(port), "--world", str(world), *extra]
        stack.procs.append(spawn(cmd, logs / f"sim-{name}.log"))
        if not wait_for_port("127.0.0.1", port):
            raise RuntimeError(f"the {name} simulator did not start; see {logs}/sim-{name}.log")
        stack.env[variable] = f"http://127.0.0.1:{port}"
        console.print(f"{name} simulator: http://127.0.0.1:{port}")

    drop = get_settings().mail_drops
    drop.mkdir(parents=True, exist_ok=True)
    imap = ["--imap"] if os.environ.get("PEBBLE_DEMO_IMAP") == "1" else ["--no-imap"]
    total = json.loads((world / "manifest.json").read_text())["counts"]["emails"]
    first = int(total * MAIL_START_FRACTION)
    base = [_pebble(), "sim", "mail", "--world", str(world), "--drop", str(drop), *imap]
    subprocess.run(
        [*base, "--rate", "0", "--limit", str(first)],
        cwd=PROJECT_ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    # the rest of the mailbox keeps arriving, one message every five seconds
    stack.procs.append(spawn([*base, "--rate", "0.2"], logs / "sim-mail.log"))
    console.print(f"mail simulator: {first} of {total} messages in {drop}, the rest arriving")
    leads = get_settings().prelead_drops
    leads.mkdir(parents=True, exist_ok=True)
    for path in sorted((world / "prelead").glob("batch_*")):
        if not (leads / path.name).exists():
            shutil.copy2(path, leads / path.name)
    console.print(f"prelead lead lists from marketing in {leads}")
    os.environ.update(stack.env)
    return stack
