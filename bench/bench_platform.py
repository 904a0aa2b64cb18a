"""Platform start-up costs: embedded PostgreSQL start (first init and warm restart) and a
cold vs warm `pebble materialize` of the whole asset graph (mail, Tally and Focus RT from
their simulators over a demo world, prelead lists, ML training and scoring, dbt).

Run: .venv/bin/python bench/bench_platform.py [--scale 0.2]   (a temporary PEBBLE_HOME)
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
    import argparse
    import shutil

    from demo.sim.focus import FocusSimulator
    from demo.sim.tally import TallySimulator
    from demo.world import generate_world

    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=0.2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        world = Path(home) / "world"
        generate_world(world, seed=7, scale=args.scale)
        # the sources are configured (the simulators below), so the demo is off: the model is
        # trained on a world of its own, as in a demo home, never on the mail it scores
        training = Path(home) / "training"
        generate_world(training, seed=8, scale=args.scale)
        leads = Path(home) / "drops" / "prelead"
        leads.mkdir(parents=True)
        for path in (world / "prelead").glob("batch_*"):
            shutil.copy2(path, leads / path.name)
        tally, focus = TallySimulator(world, port=0), FocusSimulator(world, port=0)
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env["PEBBLE_HOME"] = home
        env["PEBBLE_TRAINING_DIR"] = str(training)
        env["PEBBLE_MAIL_DROP_DIR"] = str(world / "mail" / "maildir")
        env["TALLY_URL"], env["FOCUS_URL"] = tally.start(), focus.start()
        _, first = timed([sys.executable, "-c", START_DB], env)
        _, warm = timed([sys.executable, "-c", START_DB], env)
        print(
            f"embedded PostgreSQL: first start (initdb) {float(first):.2f}s, "
            f"warm start {float(warm):.2f}s"
        )
        cold, _ = timed([str(PEBBLE), "materialize"], env)
        hot, _ = timed([str(PEBBLE), "materialize"], env)
        print(
            f"pebble materialize at scale {args.scale}: cold {cold:.1f}s (includes training "
            f"the classifier), warm {hot:.1f}s (wall clock, whole process)"
        )
        tally.stop()
        focus.stop()


if __name__ == "__main__":
    main()
