"""Time and peak memory of `generate_world` at several scales.

Usage: .venv/bin/python bench/bench_generate.py [SCALE ...]   (default: 1 10)

Each scale runs in a fresh subprocess so peak RSS (ru_maxrss) belongs to that run alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

CHILD = """
import json, resource, sys, time
from pathlib import Path
from demo.world import generate_world
out, scale = Path(sys.argv[1]), float(sys.argv[2])
t0 = time.perf_counter()
manifest = generate_world(out, seed=7, scale=scale)
elapsed = time.perf_counter() - t0
size = sum(p.stat().st_size for p in out.rglob('*') if p.is_file())
print(json.dumps({"seconds": elapsed, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "bytes": size, "counts": manifest["counts"]}))
"""


def run(scale: float, report: Callable[[float, dict], None]) -> None:
    """Generate at `scale` in a temporary directory; report before the (slow) cleanup."""
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="pebble-bench-") as tmp:
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(Path(tmp) / "world"), str(scale)],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
        report(scale, json.loads(proc.stdout.strip().splitlines()[-1]))


def print_row(scale: float, r: dict) -> None:
    c = r["counts"]
    print(
        f"{scale:>6g} {r['seconds']:>9.1f} {r['peak_rss_mb']:>12.0f} {r['bytes'] / 2**20:>9.0f} "
        f"{c['companies']:>10} {c['sales_orders']:>8} {c['invoices']:>9} {c['emails']:>8} "
        f"{c['emails'] / r['seconds']:>9.0f}",
        flush=True,
    )


def main() -> None:
    scales = [float(a) for a in sys.argv[1:]] or [1.0, 10.0]
    print(
        f"{'scale':>6} {'seconds':>9} {'peak RSS MB':>12} {'disk MB':>9} {'companies':>10} "
        f"{'orders':>8} {'invoices':>9} {'emails':>8} {'emails/s':>9}"
    )
    for scale in scales:
        run(scale, print_row)


if __name__ == "__main__":
    main()
