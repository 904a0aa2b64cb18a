"""Benchmark: validate and load 100k- and 1M-row lead lists into the warehouse.

Generates dirty CSV lead lists (streamed to a temporary directory), loads each in a fresh
child process with ``pebble.db.connect()`` (``DATABASE_URL`` or the embedded server), and
reports wall time, peak RSS of the loader and of its validation workers, and the growth from
1x to 10x. The benchmark's batches are deleted afterwards.

    .venv/bin/python bench/bench_prelead.py                 # 100k and 1M rows
    .venv/bin/python bench/bench_prelead.py --sizes 100000  # just one size
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_STATES = [
    ("27", ["Maharashtra", "MH", "maharastra", "MAHARASHTRA"]),
    ("24", ["Gujarat", "GJ", "Gujrat"]),
    ("33", ["Tamil Nadu", "TN", "Tamilnadu"]),
    ("29", ["Karnataka", "KA", "Karnatka"]),
    ("07", ["Delhi", "New Delhi", "DL"]),
    ("09", ["Uttar Pradesh", "UP"]),
    ("19", ["West Bengal", "WB"]),
    ("36", ["Telangana", "TS"]),
    ("08", ["Rajasthan", "RJ"]),
    ("21", ["Odisha", "Orissa"]),
]
_CITIES = {
    "27": ["Mumbai", "Pune", "Thane", "Nagpur", "Tarapur"],
    "24": ["Ahmedabad", "Vapi", "Ankleshwar", "Vadodara", "Surat"],
    "33": ["Chennai", "Coimbatore", "Hosur"],
    "29": ["Bengaluru", "Mysuru"],
    "07": ["New Delhi", "Delhi"],
    "09": ["Noida", "Kanpur", "Ghaziabad"],
    "19": ["Kolkata", "Haldia", "Howrah"],
    "36": ["Hyderabad", "Secunderabad"],
    "08": ["Jaipur", "Bhiwadi"],
    "21": ["Bhubaneswar", "Cuttack"],
}
_WORDS = [
    "Shree",
    "Sai",
    "Ganesh",
    "Om",
    "Balaji",
    "Laxmi",
    "Krishna",
    "Vardhman",
    "Sunrise",
    "Global",
    "Bharat",
    "Indo",
    "Ambica",
    "Mahalaxmi",
    "Jay",
    "Siddhi",
    "Aarti",
    "Navkar",
    "Raj",
    "Metro",
]
_TRADES = [
    "Chemicals",
    "Polymers",
    "Industries",
    "Dyes",
    "Rubber",
    "Paints",
    "Pharma",
    "Enterprises",
    "Coatings",
    "Textiles",
    "Detergents",
    "Agro",
    "Plastics",
    "Traders",
    "Solvents",
]
_SUFFIXES = ["Pvt Ltd", "Pvt. Ltd.", "Private Limited", "P Ltd", "(P) Ltd", "Ltd", "LLP", ""]
_PRODUCTS = [
    "Caustic Soda Flakes",
    "Soda Ash Light",
    "Titanium Dioxide",
    "Sodium Lauryl Ether Sulphate",
    "Carbon Black N330",
    "Zinc Oxide",
    "Stearic Acid",
    "Hydrogen Peroxide 50%",
    "PAC",
    "LABSA",
]
_SOURCES = ["IndiaMART", "TradeIndia", "Expo 2025", "Referral", "Website", "Cold call"]
_FIRST = ["Ravi", "Amit", "Priya", "Suresh", "Neha", "Rajesh", "Kavita", "Arjun", "Meena", "Vikas"]
_LAST = ["Shah", "Patel", "Iyer", "Reddy", "Gupta", "Sharma", "Nair", "Mehta", "Das", "Joshi"]
HEADER = [
    "Sr No",
    "Company Name",
    "GST No.",
    "PAN",
    "CIN",
    "Contact Person",
    "E-mail",
    "Mobile",
    "City",
    "State",
    "Address",
    "Product Interest",
    "Source",
    "Remarks",
]


def _gstin(state: str, pan: str, entity: str = "1") -> str:
    from stdnum import luhn

    body = state + pan + entity + "Z"
    return body + luhn.calc_check_digit(body, _ALPHABET)


def write_leads_csv(path: Path, rows: int, seed: int = 7) -> None:
    """Stream a dirty lead list of ``rows`` data rows to ``path`` (deterministic per seed)."""
    rng = random.Random(seed)
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    recent: list[list[str]] = []
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(1, rows + 1):
            if recent and rng.random() < 0.02:  # repeat an earlier lead, slightly re-typed
                row = list(rng.choice(recent))
                row[0] = str(n)
                row[1] = row[1].upper()
                writer.writerow(row)
                continue
            code, spellings = rng.choice(_STATES)
            holder = "C" if rng.random() < 0.8 else rng.choice("PFH")
            name = f"{rng.choice(_WORDS)} {rng.choice(_TRADES)} {n % 9973}"
            pan = "".join(rng.choice(letters) for _ in range(3)) + holder + name[0]
            pan += f"{rng.randrange(1, 10000):04d}" + rng.choice(letters)
            gstin = _gstin(code, pan)
            roll = rng.random()
            if roll < 0.03:
                gstin = gstin[:14] + ("A" if gstin[14] != "A" else "B")  # typo in check char
            elif roll < 0.05:
                gstin = gstin[:13]
            elif roll < 0.15:
                gstin = ""
            cin = ""
            if holder == "C" and rng.random() < 0.4:
                cin = f"U{rng.randrange(10000, 99999)}{'MH'}{rng.randrange(1980, 2024)}PTC"
                cin += f"{rng.randrange(0, 999999):06d}"
            person = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
            email = f"{person.split()[0].lower()}.{n}@{name.split()[0].lower()}chem.in"
            if rng.random() < 0.03:
                email = email.replace("@", " at ")
            mobile = f"{rng.choice('6789')}{rng.randrange(0, 10**9):09d}"
            style = rng.random()
            if style < 0.4:
                phone = mobile
            elif style < 0.6:
                phone = f"+91 {mobile[:5]} {mobile[5:]}"
            elif style < 0.75:
                phone = f"0{mobile}"
            elif style < 0.9:
                phone = f"91-{mobile}"
            elif style < 0.97:
                phone = f"022-{rng.randrange(2000, 9999)} {rng.randrange(1000, 9999)}"
            else:
                phone = "12345"
            company = f"{name} {rng.choice(_SUFFIXES)}".strip()
            if rng.random() < 0.005:
                company = '=HYPERLINK("http://example.invalid","' + company + '")'
            row = [
                str(n),
                company if rng.random() < 0.995 else "",
                gstin,
                pan if rng.random() < 0.5 else "",
                cin,
                person,
                email,
                phone,
                rng.choice(_CITIES[code]),
                rng.choice(spellings),
                f"Plot {rng.randrange(1, 400)}, MIDC Industrial Area",
                rng.choice(_PRODUCTS),
                rng.choice(_SOURCES),
                "" if rng.random() < 0.7 else "call back next week",
            ]
            writer.writerow(row)
            if len(recent) < 1000:
                recent.append(row)
            elif rng.random() < 0.01:
                recent[rng.randrange(1000)] = row


class _TreeSampler:
    """Samples the loader's descendants every 0.2 s, from the benchmark's own process (a
    sampling thread inside the loader would change how it starts its workers). Workers
    started from a fork server are the loader's grandchildren, which ``RUSAGE_CHILDREN``
    never sees."""

    def __init__(self, pid: int) -> None:
        import threading

        import psutil

        self._me = psutil.Process(pid)
        self._stop = threading.Event()
        self.cpu: dict[int, float] = {}
        self.peak_rss = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self._stop.wait(0.2):
            for child in self._me.children(recursive=True):
                try:
                    times, rss = child.cpu_times(), child.memory_info().rss
                except psutil.Error:
                    continue
                self.cpu[child.pid] = times.user + times.system
                self.peak_rss = max(self.peak_rss, rss)

    def __enter__(self) -> _TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _load_child(path: str, batch: str, workers: int | None) -> None:
    """Runs in the child process: load one file and print the timing as JSON."""
    import resource

    from ingest.prelead.land import load_file

    started = time.perf_counter()
    cpu_started = time.process_time()
    result = load_file(path, batch, workers=workers)
    elapsed = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        json.dumps(
            {
                **result.summary(),
                "seconds": round(elapsed, 2),
                "loader_cpu_seconds": round(time.process_time() - cpu_started, 2),
                "workers_cpu_seconds": round(children.ru_utime + children.ru_stime, 2),
                "peak_rss_mb": round(own.ru_maxrss / 1024, 1),
                "worker_peak_rss_mb": round(children.ru_maxrss / 1024, 1),
                "load_average_1m": round(os.getloadavg()[0], 2),
            }
        )
    )


def _delete_batches(batches: list[str]) -> None:
    from pebble.db import connect

    with connect() as conn:
        conn.execute("DELETE FROM raw.prelead_rows WHERE batch = ANY(%s)", (batches,))
        conn.execute("DELETE FROM raw.prelead_batches WHERE batch = ANY(%s)", (batches,))
        conn.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated row counts")
    parser.add_argument("--workers", type=int, default=None, help="validation processes")
    parser.add_argument("--keep", action="store_true", help="keep the loaded batches")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--load-child", nargs=2, metavar=("FILE", "BATCH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load_child:
        _load_child(args.load_child[0], args.load_child[1], args.workers)
        return

    from pebble import db

    # Resolve the warehouse once (starting the embedded server if need be) and hand it to the
    # child processes, so they share it.
    os.environ[db.RESOLVED_URL_ENV] = db.warehouse_url()
    # The tables come from the migrations, applied in a process of their own (not timed, and
    # not in the loader's memory: a child reports its parent's RSS at fork as its own peak).
    subprocess.run(
        [sys.executable, "-c", "from pebble import db; db.upgrade()"], check=True, cwd=ROOT
    )
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    batches = []
    with tempfile.TemporaryDirectory(prefix="bench_prelead_") as tmp:
        for size in sizes:
            path = Path(tmp) / f"leads_{size}.csv"
            started = time.perf_counter()
            write_leads_csv(path, size)
            generated = time.perf_counter() - started
            batch = f"bench-{size}-{uuid.uuid4().hex[:8]}"
            batches.append(batch)
            command = [sys.executable, __file__, "--load-child", str(path), batch]
            if args.workers is not None:
                command += ["--workers", str(args.workers)]
            loader = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
            with _TreeSampler(loader.pid) as tree:
                stdout, _ = loader.communicate()
            if loader.returncode:
                raise SystemExit(f"the loader failed with exit code {loader.returncode}")
            result = json.loads(stdout.strip().splitlines()[-1])
            # the workers seen by sampling (covers fork-server workers, grandchildren)
            result["workers_cpu_seconds"] = max(
                result["workers_cpu_seconds"], round(sum(tree.cpu.values()), 2)
            )
            result["worker_peak_rss_mb"] = max(
                result["worker_peak_rss_mb"], round(tree.peak_rss / 2**20, 1)
            )
            result["file_mb"] = round(path.stat().st_size / 1e6, 1)
            result["generate_seconds"] = round(generated, 2)
            results.append(result)
            print(json.dumps(result), flush=True)
            path.unlink()
    if not args.keep:
        _delete_batches(batches)
    growth = None
    if len(results) >= 2:
        small, large = results[0], results[-1]
        growth = {
            "rows_growth": large["rows"] / small["rows"],
            "time_growth": round(large["seconds"] / small["seconds"], 2),
            "peak_rss_growth": round(large["peak_rss_mb"] / small["peak_rss_mb"], 2),
        }
        print(json.dumps(growth))
    if args.json:
        args.json.write_text(json.dumps({"results": results, "growth": growth}, indent=2) + "\n")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
