"""Generate the demo world: masters, six months of ERP documents and mail, prelead batches.

The world is simulated one day at a time. Orders, invoices, QC records and mail are written
to disk as they happen; only masters and a sliding window of recent documents (which mail
refers to) stay in memory, so scale 100 runs in bounded memory.
"""

from __future__ import annotations

import json
import math
import random
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from demo.world import masters, prelead
from demo.world.catalogue import PRODUCTS, catalogue_records
from demo.world.mail import IST, Mailroom, MailWriter
from demo.world.mailday import MailDays
from demo.world.timeline import (
    COMPANY,
    DAILY,
    END,
    START,
    JsonlOut,
    OrderRef,
    Recent,
    poisson,
    world_days,
)

WORLD_ENTRIES = (
    "manifest.json",
    "catalogue.json",
    "stock.json",
    "groups.jsonl",
    "companies.jsonl",
    "contacts.jsonl",
    "sales_orders.jsonl",
    "invoices.jsonl",
    "qc_records.jsonl",
    "prelead",
    "mail",
)


def _prepare(out: Path) -> None:
    """Make `out` an empty world directory; refuse to touch a directory that is not a world."""
    out.mkdir(parents=True, exist_ok=True)
    present = [p.name for p in out.iterdir()]
    if present and "manifest.json" not in present:
        raise FileExistsError(
            f"{out} is not empty and holds no demo world (no manifest.json); refusing to overwrite it"
        )
    for name in WORLD_ENTRIES:
        p = out / name
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()


class World(MailDays):
    """The running simulation: document counters, open work and the writers."""

    def __init__(self, out: Path, seed: int, scale: float) -> None:
        self.out = out
        self.seed = seed
        self.scale = scale
        self.rng_masters = random.Random(f"pebble-demo:{seed}:masters")
        self.rng = random.Random(f"pebble-demo:{seed}:erp")
        self.rng_mail = random.Random(f"pebble-demo:{seed}:mail")
        self.rng_prelead = random.Random(f"pebble-demo:{seed}:prelead")
        n_companies = max(12, round(400 * scale))
        self.groups, self.companies = masters.generate_masters(
            self.rng_masters, n_companies, max(2, round(30 * scale))
        )
        self.cum_weights = []
        total = 0.0
        for c in self.companies:
            total += c.weight
            self.cum_weights.append(total)
        # document numbers continue from April-May, the part of the financial year before the window
        self.so_seq = round(61 * DAILY["orders"] * scale * 0.85) + self.rng.randrange(1, 40)
        self.inv_seq = max(
            1, self.so_seq - round(8 * DAILY["orders"] * scale)
        ) + self.rng.randrange(1, 20)
        self.qc_seq = round(self.inv_seq * 1.5)
        self.po_counters: dict[str, int] = {}
        self.batch_seq: dict[tuple[str, str], int] = {}
        self.pending_invoices: list[tuple[date, int, OrderRef]] = []
        self.recent_orders = Recent(40)
        self.recent_invoices = Recent(75)
        self.price_phase = {p.code: self.rng.uniform(0, 2 * math.pi) for p in PRODUCTS}
        self.counts: dict[str, int] = {}

    # -- masters -------------------------------------------------------------------------

    def write_masters(self) -> None:
        out = self.out
        (out / "catalogue.json").write_text(
            json.dumps(catalogue_records(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        stock = [
            {
                "code": p.code,
                "name": p.name,
                "opening_qty_kg": p.pack_size_kg
                * self.rng.randint(4, 60)
                * (10 if p.pack == "bag" else 2),
                "opening_rate": round(p.base_price_per_kg * self.rng.uniform(0.86, 0.95), 2),
            }
            for p in PRODUCTS
        ]
        (out / "stock.json").write_text(
            json.dumps(stock, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        g = JsonlOut(out / "groups.jsonl")
        for rec in self.groups:
            g.write(rec)
        g.close()
        c = JsonlOut(out / "companies.jsonl")
        p = JsonlOut(out / "contacts.jsonl")
        for company in self.companies:
            c.write(company.record())
            for contact in company.contacts:
                p.write(masters.contact_record(contact))
        c.close()
        p.close()
        self.counts.update(
            groups=g.count,
            companies=c.count,
            contacts=p.count,
            gstins=sum(len(x.registrations) for x in self.companies),
        )

    # -- the run -------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        out = self.out
        # written first so an interrupted run still marks the directory as a world (and is replaced)
        (out / "manifest.json").write_text(
            json.dumps({"seed": self.seed, "scale": self.scale, "complete": False}) + "\n"
        )
        self.write_masters()
        so_out = JsonlOut(out / "sales_orders.jsonl")
        inv_out = JsonlOut(out / "invoices.jsonl")
        qc_out = JsonlOut(out / "qc_records.jsonl")
        end_dt = datetime(END.year, END.month, END.day, tzinfo=IST) + timedelta(days=1)
        writer = MailWriter(out / "mail", new_after=end_dt - timedelta(days=2))
        room = Mailroom(self.rng_mail, writer, end_dt - timedelta(seconds=1))
        try:
            for day in world_days():
                midnight = datetime(day.year, day.month, day.day, tzinfo=IST)
                room.release_until(midnight)
                quiet = 0.1 if day.weekday() == 6 else 1.0
                new_orders = []
                for _ in range(poisson(self.rng, DAILY["orders"] * self.scale * quiet)):
                    order, live = self.new_order(day, so_out)
                    if live:
                        new_orders.append(order)
                self.invoice_due(day, inv_out, qc_out)
                for _ in range(poisson(self.rng, DAILY["stock_qc"] * self.scale * quiet)):
                    p = self.rng.choice(PRODUCTS)
                    self.qc_record(day, p, self.batch_no(p, day), None, qc_out)
                self.day_mail(day, room, new_orders)
                self.recent_orders.trim(day)
                self.recent_invoices.trim(day)
            room.close()
        finally:
            writer.close()
            so_out.close()
            inv_out.close()
            qc_out.close()
        self.counts.update(
            sales_orders=so_out.count,
            invoices=inv_out.count,
            qc_records=qc_out.count,
            emails=writer.count,
        )
        self.counts.update({f"emails_{k}": v for k, v in writer.by_mailbox.items()})
        self.counts.update(
            prelead.write_batches(self.rng_prelead, out / "prelead", self.companies, self.scale)
        )
        manifest = {
            "seed": self.seed,
            "scale": self.scale,
            "company": COMPANY,
            "start_date": START.isoformat(),
            "end_date": END.isoformat(),
            "counts": self.counts,
        }
        (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        return manifest


def generate_world(out: Path, seed: int = 7, scale: float = 1.0) -> dict[str, Any]:
    """Write the demo world for (seed, scale) into `out` (replacing a previous world there).

    Returns the manifest. Raises FileExistsError if `out` holds anything other than a world,
    ValueError for a non-positive scale.
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    out = Path(out)
    _prepare(out)
    return World(out, seed, scale).run()
