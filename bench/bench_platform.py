"""Platform start-up costs: embedded PostgreSQL start (first init and warm restart) and a
cold vs warm `pebble materialize` of the whole asset graph.

Run: .venv/bin/python bench/bench_platform.py   (uses a temporary PEBBLE_HOME)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PEBBLE = Path(sys.executable).parent / "pebble"

START_DB = """
import time
t = time.perf_counter()
from pebble import db
db.warehouse_url()
print(f"{time.perf_counter() - t:.3f}")
db.stop_embedded()
"""


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, out.stdout


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env["PEBBLE_HOME"] = home
        env["PEBBLE_MAIL_DROP_DIR"] = str(ROOT / "tests" / "data" / "emails")
        _, first = timed([sys.executable, "-c", START_DB], env)
        _, warm = timed([sys.executable, "-c", START_DB], env)
        print(
            f"embedded PostgreSQL: first start (initdb) {float(first):.2f}s, "
            f"warm start {float(warm):.2f}s"
        )
        cold, _ = timed([str(PEBBLE), "materialize"], env)
        hot, _ = timed([str(PEBBLE), "materialize"], env)
        print(f"pebble materialize: cold {cold:.1f}s, warm {hot:.1f}s (wall clock, whole process)")


if __name__ == "__main__":
    main()
