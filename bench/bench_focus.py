"""Benchmark: the Focus RT pull (list, one screen request per document, land), ours against
the naive baseline, at 1x and 10x.

    .venv/bin/python bench/bench_focus.py [--n 1000] [--scales 1,10] [--latency-ms 20] \
        [--database-url URL] [--json PATH]

For each scale it writes a synthetic world (n sales orders, n/2 invoices, n/2 QC inspections
per 1x) and serves it with `pebble sim focus` (a threaded HTTP server) in its own process,
with every request answered after ``--latency-ms`` (the simulator's ``slow`` fault mode,
switched on over ``POST /__faults``; 20 ms by default, a LAN round trip plus a Focus
server's own time for a small document; 0 turns it off). Then, back to back against the same
simulator, each path pulls every document into an empty scratch database in a fresh worker
process, so its figures are its own (wall time, documents/s, the process's peak RSS):

- ours: the shipped pull, ``ingest.focus.sync.sync`` with the configured
  ``FOCUS_SCREEN_WORKERS`` (default 8): screens fetched on a pool of workers, landed in
  listing order in batches;
- naive: the same client and landing, but the screens fetched one after another, one request
  per document (the pull as it was before issue 13).

Which path runs first alternates by scale. ``--json PATH`` writes
``{"stages": [{"stage": "focus_pull", "scale", "n", "ours_per_s", "naive_per_s", "ratio",
"ours_peak_mb", "naive_peak_mb", ...}]}`` for ``bench/report.py``. Without --database-url /
DATABASE_URL it uses the embedded PostgreSQL.
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
import urllib.request
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


BATCH = 500  # documents landed per transaction, as the shipped sync does
PATHS = ("ours", "naive")


def naive_pull(conn, client) -> int:
    """The baseline: list each voucher kind, fetch its documents' screens one after another
    (one request per document), normalise, land in batches of 500 with the cursor. Returns
    the number of documents fetched."""
    from ingest.focus.settings import KINDS

    return sum(_naive_kind(conn, client, kind) for kind in KINDS)


def _naive_kind(conn, client, kind: str) -> int:
    from ingest.focus.errors import FocusFieldError, FocusNotFoundError
    from ingest.focus.parse import normalise

    fields = client.settings.field_map
    voucher_type = client.settings.voucher_types[kind]
    batch: list = []
    rejects: list = []
    newest: tuple[str, str] | None = None
    fetched = 0
    for row in client.list_documents(voucher_type):
        doc_no = str(row[fields["doc_no"]])
        try:
            document = client.screen(voucher_type, doc_no)
        except FocusNotFoundError:
            continue
        fetched += 1
        try:
            batch.append((normalise(kind, document, fields), document))
        except FocusFieldError as exc:
            rejects.append((doc_no, exc.message, document))
        if len(batch) + len(rejects) >= BATCH:
            newest = _naive_land(conn, kind, batch, rejects, newest)
    if batch or rejects:
        _naive_land(conn, kind, batch, rejects, newest)
    return fetched


def _naive_land(conn, kind: str, batch: list, rejects: list, newest):
    """Land one batch with the cursor at the newest document so far; empties the lists."""
    from ingest.focus.land import land_documents

    for record, _ in batch:
        newest = max(newest or ("", ""), (record["date"], record["doc_no"]))
    cursor = None if newest is None else json.dumps({"date": newest[0], "doc_no": newest[1]})
    land_documents(conn, kind, batch, rejects=rejects, cursor=cursor)
    batch.clear()
    rejects.clear()
    return newest


def worker(path: str, url: str, database_url: str) -> dict:
    """Run in a fresh process: one full pull by ``path``; returns its figures."""
    import psycopg

    from ingest.focus.client import FocusClient
    from ingest.focus.settings import FocusSettings
    from ingest.focus.sync import sync

    settings = FocusSettings(url=url)
    with FocusClient(settings) as client, psycopg.connect(database_url, autocommit=True) as conn:
        started = time.perf_counter()
        if path == "ours":
            documents = sync(conn, client).seen
        else:
            documents = naive_pull(conn, client)
        seconds = time.perf_counter() - started
        landed = sum(
            conn.execute(f"SELECT count(*) FROM raw.{t}").fetchone()[0]  # noqa: S608 - constants
            for t in ("focus_sales_orders", "focus_invoices", "focus_qc_inspections")
        )
    return {
        "documents": documents,
        "landed": landed,
        "seconds": round(seconds, 3),
        "per_s": round(documents / seconds, 1),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "screen_workers": settings.screen_workers if path == "ours" else 1,
        "logins": client.logins,
    }


def _set_latency(url: str, latency_ms: float) -> None:
    """Every request of the simulator answered ``latency_ms`` late (0: at once)."""
    body = {"mode": "slow", "delay_s": latency_ms / 1000} if latency_ms > 0 else {"mode": "none"}
    request = urllib.request.Request(
        f"{url}/__faults",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310 - our simulator
        state = json.loads(reply.read())
    if state.get("mode") != body["mode"]:
        raise RuntimeError(f"the simulator did not take the latency setting: {state}")


def _run_path(path: str, url: str, database_url: str) -> dict:
    _recreate(database_url)
    _migrate(database_url)
    out = subprocess.run(
        [sys.executable, __file__, "--worker", path, url, database_url],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        tail = "\n".join(out.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"the {path} pull failed (exit {out.returncode}):\n{tail}")
    return json.loads(out.stdout)


def _scratch_database(base_url: str | None) -> str:
    from psycopg.conninfo import conninfo_to_dict

    from pebble import db

    url = base_url or db.warehouse_url()
    params = conninfo_to_dict(url)
    # One name per run: two runs at once (by hand and by bench/report.py) must not drop
    # each other's database mid-pull.
    params["dbname"] = f"pebble_bench_focus_{os.getpid()}"
    return db._to_url(params)


def _recreate(url: str) -> None:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = sql.Identifier(conninfo_to_dict(url)["dbname"])
    admin = make_conninfo(url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


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
    parser.add_argument("--scales", default="1,10", help="comma-separated, e.g. 1,10 or 0.1")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=20.0,
        help="the simulator answers every request this late (default 20; 0: at once)",
    )
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--json", type=Path, help="also write the figures here (report format)")
    parser.add_argument(
        "--worker", nargs=3, metavar=("PATH", "URL", "DATABASE_URL"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    try:
        scales = [float(s) for s in args.scales.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--scales must be numbers separated by commas, got {args.scales!r}")
    if not scales or any(s <= 0 for s in scales) or args.n < 1 or args.latency_ms < 0:
        parser.error("--scales must be positive, --n at least 1, --latency-ms not negative")

    database_url = _scratch_database(args.database_url)
    stages: list[dict] = []
    try:
        for index, scale in enumerate(scales):
            stages.append(_measure_scale(scale, args.n, args.latency_ms, database_url, index))
            print(json.dumps(stages[-1]), flush=True)
            if args.json:
                _write_json(args.json, stages, args.latency_ms)
    finally:
        _drop(database_url)
    if args.json:
        _write_json(args.json, stages, args.latency_ms)


def _measure_scale(scale: float, n: int, latency_ms: float, database_url: str, index: int) -> dict:
    """Ours and naive back to back against one simulator over one world of ``scale``."""
    with tempfile.TemporaryDirectory(prefix="focus_bench_") as tmp:
        world = Path(tmp) / "world"
        count = write_world(world, max(1, round(n * scale)))
        sim = subprocess.Popen(
            [sys.executable, "-m", "pebble.cli", "sim", "focus", "--port", "0"]
            + ["--world", str(world)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert sim.stdout is not None
            url = sim.stdout.readline().strip().rsplit(" ", 1)[-1]
            if not url.startswith("http"):
                raise RuntimeError("the Focus simulator did not start")
            _set_latency(url, latency_ms)
            order = PATHS if index % 2 == 0 else PATHS[::-1]
            results = {path: _run_path(path, url, database_url) for path in order}
        finally:
            sim.terminate()
            sim.wait(timeout=10)
    ours, naive = results["ours"], results["naive"]
    for path, result in results.items():
        if result["documents"] != count or result["landed"] != count:
            raise RuntimeError(f"{path} pulled {result} of {count} documents")
    return {
        "stage": "focus_pull",
        "scale": int(scale) if scale.is_integer() else scale,
        "n": count,
        "unit": "documents",
        "ours_s": ours["seconds"],
        "naive_s": naive["seconds"],
        "ours_per_s": ours["per_s"],
        "naive_per_s": naive["per_s"],
        "ratio": round(ours["per_s"] / naive["per_s"], 2),
        "ours_peak_mb": ours["peak_mb"],
        "naive_peak_mb": naive["peak_mb"],
        "load_1m": round(os.getloadavg()[0], 2),
        "note": (
            f"simulator latency {latency_ms:g} ms per request; ours {ours['screen_workers']}"
            " screen workers; naive: one screen request after another; ran first: "
            f"{order[0]}"
        ),
    }


def _write_json(path: Path, stages: list[dict], latency_ms: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "stages": stages,
        "latency_ms": latency_ms,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    path.write_text(json.dumps(data, indent=2) + "\n")


def _drop(url: str) -> None:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = sql.Identifier(conninfo_to_dict(url)["dbname"])
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


if __name__ == "__main__":
    main()
