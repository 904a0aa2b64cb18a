"""Mail landing throughput: synthesise N realistic emails, parse and land them, report rate.

    .venv/bin/python bench/bench_mail.py --scale 1     # 10k emails
    .venv/bin/python bench/bench_mail.py --scale 10    # 100k emails (target >= 1,500/s, < 1 GB)

The messages are written to a temporary Maildir per mailbox first (not timed), then loaded
with ``land_paths`` exactly as ``pebble mail load`` does, into a scratch database created
beside the warehouse (``<db>_bench_mail``, dropped afterwards). Peak RSS is reported for the
loader process and for its whole process tree (loader + parser pool), sampled every 0.2 s.
The 1-minute load average is printed too: on a shared machine it explains slow runs.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from scratch import drop_database, scratch_database  # bench/scratch.py

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import tree_rss_mb  # noqa: E402

MAILBOXES = ("sales", "accounts", "tenders", "qc")
PRODUCTS = (
    "SBR 1502",
    "Titanium Dioxide R-902",
    "Caustic Soda Flakes",
    "LABSA 96%",
    "Sodium Sulphate Anhydrous",
    "PAC 30%",
    "Zinc Oxide 99.5%",
)
COMPANIES = ("Apex Rubber", "Shree Paints", "Sunrise Detergents", "Gujarat Pharma", "AquaPure")
BODIES = (
    "Dear Sir,\n\nPlease send your best rate for {qty} of {product} delivered Vapi.\n"
    "Our GSTIN is 27AAPFU0939F1ZV.\n\nRegards,\n{name}\n{company}",
    "rate bhejo {product} {qty}, urgent hai. gaadi kab tak aayegi?\n{name}",
    "Hi team,\nPO 4500{po} attached for {qty} {product} @ Rs {rate}/kg.\nKindly confirm dispatch.",
    "Payment of INR 1,18,{po} released against INV/25-26/00{inv}. Please share ledger.",
    "COA required for batch B{po} of {product}. Moisture is out of spec in our lab.",
)


def _message(rng: random.Random, index: int, start: datetime) -> tuple[str, bytes]:
    box = rng.choice(MAILBOXES)
    company = rng.choice(COMPANIES)
    name = rng.choice(("Ravi Kumar", "Priya Sharma", "Amit Patel", "Sunita Rao", "Vikram Singh"))
    sender = f"{name.split()[0].lower()}@{company.split()[0].lower()}.in"
    product = rng.choice(PRODUCTS)
    body = rng.choice(BODIES).format(
        qty=rng.choice(("5 MT", "2 tonnes", "5,000 kg", "400 bags of 50 kg", "12 drums x 160 kg")),
        product=product,
        name=name,
        company=company,
        po=rng.randint(100000, 999999),
        rate=rng.randint(80, 400),
        inv=rng.randint(100, 999),
    )
    date = format_datetime(start + timedelta(minutes=index * 3))
    subject = rng.choice(("Rate enquiry", "PO", "Payment", "COA", "Dispatch")) + f" - {product}"
    reply = rng.random() < 0.3
    headers = [
        f'From: "{name}" <{sender}>',
        f"To: {box}@pebbledemo.in",
        f"Subject: {'Re: ' if reply else ''}{subject}",
        f"Date: {date}",
        f"Message-ID: <bench{index}.{rng.getrandbits(32):08x}@{company.split()[0].lower()}.in>",
        "MIME-Version: 1.0",
    ]
    if reply:
        headers.append(f"In-Reply-To: <bench{max(0, index - 7)}@pebbledemo.in>")
        headers.append(f"References: <bench{max(0, index - 7)}@pebbledemo.in>")
    if rng.random() < 0.02:
        headers.append("Auto-Submitted: auto-replied")
    kind = rng.random()
    if kind < 0.55:
        headers.append("Content-Type: text/plain; charset=utf-8")
        headers.append("Content-Transfer-Encoding: 8bit")
        text = "\r\n".join(headers) + "\r\n\r\n" + body.replace("\n", "\r\n") + "\r\n"
        return box, text.encode("utf-8")
    html = (
        "<html><body>" + "".join(f"<p>{line}</p>" for line in body.splitlines()) + "</body></html>"
    )
    parts = [
        "--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body.replace("\n", "\r\n"),
        "--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html,
    ]
    if kind < 0.85:
        headers.append('Content-Type: multipart/alternative; boundary="alt"')
        text = "\r\n".join(headers) + "\r\n\r\n" + "\r\n".join(parts) + "\r\n--alt--\r\n"
        return box, text.encode("utf-8")
    payload = base64.encodebytes(rng.randbytes(rng.randint(2_000, 30_000))).decode("ascii")
    headers.append('Content-Type: multipart/mixed; boundary="mix"')
    text = (
        "\r\n".join(headers)
        + '\r\n\r\n--mix\r\nContent-Type: multipart/alternative; boundary="alt"\r\n\r\n'
        + "\r\n".join(parts)
        + "\r\n--alt--\r\n--mix\r\nContent-Type: application/pdf\r\n"
        + f'Content-Disposition: attachment; filename="PO_{index}.pdf"\r\n'
        + "Content-Transfer-Encoding: base64\r\n\r\n"
        + payload.replace("\n", "\r\n")
        + "--mix--\r\n"
    )
    return box, text.encode("utf-8")


def synthesise(root: Path, count: int, seed: int) -> int:
    """Write ``count`` messages into one Maildir per mailbox; returns total bytes."""
    rng = random.Random(seed)
    start = datetime(2025, 10, 1, 9, 0, tzinfo=UTC)
    for box in MAILBOXES:
        for sub in ("cur", "new", "tmp"):
            (root / box / sub).mkdir(parents=True, exist_ok=True)
    total = 0
    for index in range(count):
        box, raw = _message(rng, index, start)
        (root / box / "cur" / f"{1760000000 + index}.M{index}P1.bench:2,S").write_bytes(raw)
        total += len(raw)
    return total


class _PeakSampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.2):
            self.peak = max(self.peak, tree_rss_mb(os.getpid()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 10k emails, 10 = 100k")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    count = int(10_000 * args.scale)

    work = Path(tempfile.mkdtemp(prefix="bench-mail-"))
    os.environ["PEBBLE_HOME"] = str(work / "home")
    from pebble.settings import get_settings

    get_settings.cache_clear()
    try:
        t0 = time.perf_counter()
        total_bytes = synthesise(work / "maildir", count, args.seed)
        synth_s = time.perf_counter() - t0

        import psycopg

        from ingest.mail.land import land_paths

        url = scratch_database("mail")
        try:
            # The tables come from the migrations, applied in another process: neither timed
            # nor in the loader's memory figures.
            subprocess.run(
                [sys.executable, "-c", "import sys; from pebble import db; db.upgrade(sys.argv[1])"]
                + [url],
                check=True,
                cwd=Path(__file__).resolve().parent.parent,
            )
            with psycopg.connect(url, autocommit=True) as conn:
                sampler = _PeakSampler()
                sampler.start()
                t1 = time.perf_counter()
                cpu0 = time.process_time()
                summary = land_paths(conn, [work / "maildir"], workers=args.workers)
                land_s = time.perf_counter() - t1
                loader_cpu_s = time.process_time() - cpu0
                sampler.stop.set()
                sampler.join()
                rows = conn.execute("SELECT count(*) FROM raw.emails").fetchone()[0]
        finally:
            if not args.keep:
                drop_database(url)
        self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        result = {
            "emails": count,
            "raw_mb": round(total_bytes / 1e6, 1),
            "workers": args.workers,
            "synthesise_s": round(synth_s, 1),
            "land_s": round(land_s, 1),
            "emails_per_s": round(count / land_s),
            "loaded": summary.landed,
            "duplicates": summary.duplicates,
            "rejected": summary.rejected,
            "rows": rows,
            "loader_cpu_s": round(loader_cpu_s, 1),
            "load_average_1m": round(os.getloadavg()[0], 1),
            "peak_rss_loader_mb": round(self_rss),
            "peak_rss_process_tree_mb": round(sampler.peak),
        }
        print(json.dumps(result, indent=2))
        if args.json:
            args.json.write_text(json.dumps(result, indent=2) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
