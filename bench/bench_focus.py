"""Benchmark: pull + land Focus RT documents from the simulator, at 1x and 10x.

    .venv/bin/python bench/bench_focus.py [--n 1000] [--scales 1,10] [--database-url URL]

For each scale it writes a synthetic world (n sales orders, n/2 invoices, n/2 QC inspections
per 1x), serves it with `pebble sim focus` in its own process, and runs the pull in a fresh
worker process against an empty scratch database, so the figures are the connector's own:
wall time of the first sync (everything new), of a second full sync (everything unchanged),
and the worker's peak resident memory. Without --database-url / DATABASE_URL it uses the
embedded PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PRODUCTS = [
    ("ZNO-99", "Zinc Oxide"),
    ("TIO2-R", "Titanium Dioxide Rutile"),
    ("LABSA", "LABSA 90%"),
    ("CITRIC", "Citric Acid Monohydrate"),
    ("PAC", "Poly Aluminium Chloride"),
    ("CACO3", "Calcium Carbonate"),
]


def write_world(directory: Path, n_orders: int, seed: int = 7) -> int:
    """A synthetic world in the documented format; returns the number of documents."""
    import datetime as dt

    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    start = dt.date(2025, 4, 1)

    def lines() -> list[dict]:
        out = []
        for _ in range(rng.randint(1, 4)):
            code, name = rng.choice(PRODUCTS)
            qty, rate = rng.choice([250, 500, 1000, 5000]), round(rng.uniform(20, 400), 2)
            out.append(
                {
                    "product_code": code,
                    "product_name": name,
                    "qty_kg": qty,
                    "unit": "kg",
                    "rate": rate,
                    "amount": round(qty * rate, 2),
                }
            )
        return out

    def day(i: int, total: int) -> str:
        return (start + dt.timedelta(days=int(182 * i / max(total, 1)))).isoformat()

    with (directory / "sales_orders.jsonl").open("w") as handle:
        for i in range(n_orders):
            handle.write(
                json.dumps(
                    {
                        "doc_no": f"SO/25-26/{i + 1:05d}",
                        "date": day(i, n_orders),
                        "company_id": f"C{i % 400:04d}",
                        "customer_name": f"Customer {i % 400} Pvt Ltd",
                        "gstin": "27AAPFU0939F1ZV",
                        "po_ref": f"PO-{i}",
                        "status": rng.choice(["open", "dispatched", "invoiced", "cancelled"]),
                        "lines": lines(),
                    }
                )
                + "\n"
            )
    n_half = n_orders // 2
    with (directory / "invoices.jsonl").open("w") as handle:
        for i in range(n_half):
            body = lines()
            taxable = round(sum(x["amount"] for x in body), 2)
            handle.write(
                json.dumps(
                    {
                        "doc_no": f"INV/25-26/{i + 1:05d}",
                        "date": day(i, n_half),
                        "order_no": f"SO/25-26/{2 * i + 1:05d}",
                        "company_id": f"C{i % 400:04d}",
                        "customer_name": f"Customer {i % 400} Pvt Ltd",
                        "gstin": None,
                        "vehicle_no": "MH04AB1234",
                        "lr_no": f"LR-{i}",
                        "lines": body,
                        "taxable_value": taxable,
                        "gst_amount": round(taxable * 0.18, 2),
                        "total": round(taxable * 1.18, 2),
                    }
                )
                + "\n"
            )
    with (directory / "qc_records.jsonl").open("w") as handle:
        for i in range(n_half):
            code, name = rng.choice(PRODUCTS)
            params = [
                {
                    "name": p,
                    "unit": "%",
                    "min": 0.0,
                    "max": 1.0,
                    "result": round(rng.random(), 3),
                    "pass": True,
                }
                for p in ("Moisture", "Insolubles", "Iron")
            ]
            handle.write(
                json.dumps(
                    {
                        "doc_no": f"QC/25-26/{i + 1:05d}",
                        "date": day(i, n_half),
                        "batch_no": f"B-{i:05d}",
                        "product_code": code,
                        "product_name": name,
                        "order_no": None,
                        "params": params,
                        "result": "pass",
                        "coa_status": "issued",
                    }
                )
                + "\n"
            )
    return n_orders + 2 * n_half


def worker(url: str, database_url: str) -> dict:
    """Run in a fresh process: full sync twice; returns timings and peak RSS."""
    import psycopg

    from ingest.focus.client import FocusClient
    from ingest.focus.settings import FocusSettings
    from ingest.focus.sync import sync

    settings = FocusSettings(url=url)
    with FocusClient(settings) as client, psycopg.connect(database_url, autocommit=True) as conn:
        started = time.perf_counter()
        first = sync(conn, client)
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        second = sync(conn, client, full=True)
        second_s = time.perf_counter() - started
    return {
        "documents": first.seen,
        "inserted": first.landed - first.updated,
        "second_unchanged": second.duplicates,
        "second_inserted_or_updated": second.landed,
        "first_sync_s": round(first_s, 2),
        "second_sync_s": round(second_s, 2),
        "docs_per_s": round(first.seen / first_s, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _scratch_database(base_url: str | None) -> str:
    from psycopg.conninfo import conninfo_to_dict

    from pebble import db

    url = base_url or db.warehouse_url()
    params = conninfo_to_dict(url)
    params["dbname"] = "pebble_bench_focus"
    return db._to_url(params)


def _recreate(url: str) -> None:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    admin = make_conninfo(url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS pebble_bench_focus WITH (FORCE)"))
        conn.execute(sql.SQL("CREATE DATABASE pebble_bench_focus"))


def _migrate(url: str) -> None:
    """The tables come from the migrations, applied in a process of their own: a child
    reports its parent's peak RSS at fork as its own, so not even this process imports
    Alembic."""
    subprocess.run(
        [sys.executable, "-c", "import sys; from pebble import db; db.upgrade(sys.argv[1])", url],
        check=True,
        cwd=ROOT,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="sales orders at 1x")
    parser.add_argument("--scales", default="1,10")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument(
        "--worker", nargs=2, metavar=("URL", "DATABASE_URL"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return

    database_url = _scratch_database(args.database_url)
    results = []
    for scale in (int(s) for s in args.scales.split(",")):
        with tempfile.TemporaryDirectory(prefix="focus_bench_") as tmp:
            world = Path(tmp) / "world"
            count = write_world(world, args.n * scale)
            _recreate(database_url)
            _migrate(database_url)
            sim = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "pebble.cli",
                    "sim",
                    "focus",
                    "--port",
                    "0",
                    "--world",
                    str(world),
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                text=True,
            )
            try:
                assert sim.stdout is not None
                url = sim.stdout.readline().strip().rsplit(" ", 1)[-1]
                out = subprocess.run(
                    [sys.executable, __file__, "--worker", url, database_url],
                    cwd=ROOT,
                    check=True,
                    capture_output=True,
                    text=True,
                )
            finally:
                sim.terminate()
                sim.wait(timeout=10)
            result = {"scale": f"{scale}x", "world_documents": count, **json.loads(out.stdout)}
            results.append(result)
            print(json.dumps(result), flush=True)
    _drop(database_url)


def _drop(url: str) -> None:
    import psycopg
    from psycopg.conninfo import make_conninfo

    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS pebble_bench_focus WITH (FORCE)")


if __name__ == "__main__":
    main()
