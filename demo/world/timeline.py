"""The simulated half-year: its dates and daily rates, and the documents mail refers to."""

from __future__ import annotations

import bisect
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TextIO

from demo.world import masters
from demo.world.mail import Item

START = date(2025, 6, 1)
END = date(2025, 11, 30)
FY = "25-26"
COMPANY = "Pebble Demo Chemicals Pvt Ltd"
#: Expected events per day at scale 1 (Monday to Saturday; Sundays are quiet).
DAILY = {
    "orders": 7.5,
    "price_enquiry": 2.4,
    "sample_request": 1.0,
    "new_business": 1.0,
    "order_status": 1.5,
    "invoice_payment": 1.2,
    "coa_request": 0.8,
    "quality_complaint": 0.6,
    "tender_notice": 0.78,
    "newsletter_spam": 1.45,
    "bounce": 0.3,
    "auto_ack": 0.55,
    "stock_qc": 1.5,
}


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (normal approximation for large means, which keeps scale 100 fast)."""
    if lam <= 0:
        return 0
    if lam > 40:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


@dataclass(slots=True)
class OrderRef:
    doc_no: str
    day: date
    company: masters.Company
    reg: masters.Registration
    po_ref: str
    items: list[Item]
    status: str


@dataclass(slots=True)
class InvoiceRef:
    doc_no: str
    day: date
    order: OrderRef
    total: float
    batches: list[str] = field(default_factory=list)


class Recent:
    """Documents of the last `keep_days` days, in date order, for mail to refer to."""

    def __init__(self, keep_days: int) -> None:
        self.keep = keep_days
        self.items: list[Any] = []

    def add(self, ref: Any) -> None:
        self.items.append(ref)

    def trim(self, today: date) -> None:
        cut = bisect.bisect_left(self.items, today - timedelta(days=self.keep), key=lambda r: r.day)
        if cut:
            del self.items[:cut]

    def pick(self, rng: random.Random, today: date, min_age: int, max_age: int) -> Any | None:
        lo = bisect.bisect_left(self.items, today - timedelta(days=max_age), key=lambda r: r.day)
        hi = bisect.bisect_right(self.items, today - timedelta(days=min_age), key=lambda r: r.day)
        return self.items[rng.randrange(lo, hi)] if hi > lo else None


class JsonlOut:
    """A JSON Lines file written one record at a time."""

    def __init__(self, path: Path) -> None:
        self.fh: TextIO = open(path, "w", encoding="utf-8", newline="\n")
        self.count = 0

    def write(self, record: dict[str, Any]) -> None:
        self.fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.count += 1

    def close(self) -> None:
        self.fh.close()


def world_days() -> Iterator[date]:
    d = START
    while d <= END:
        yield d
        d += timedelta(days=1)
