"""ERP documents of the demo world: sales orders, invoices, QC records."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from demo.world import masters
from demo.world.catalogue import PRODUCTS, Product, product_by_code
from demo.world.mail import Item
from demo.world.timeline import END, FY, START, InvoiceRef, JsonlOut, OrderRef, Recent


def _po_formatter(company: masters.Company) -> Callable[[int], str]:
    abbr = "".join(w[0] for w in company.name.split()[:3] if w[0].isalpha()).upper() or "PO"
    style = int(company.company_id[1:]) % 6
    return (
        lambda n: f"45000{n:05d}",
        lambda n: f"PO/{FY}/{n:04d}",
        lambda n: f"{abbr}/PUR/{n:03d}/{FY}",
        lambda n: f"PO-{n}",
        lambda n: f"{n + 100000:06d}",
        lambda n: f"{abbr}/PO/2025/{n:04d}",
    )[style]


class ErpDays:
    """Sales orders, invoices with their batches, and QC records, one day at a time.

    Mixed into `demo.world.generate.World`, which owns the counters and the writers.
    """

    rng: random.Random
    companies: list[masters.Company]
    cum_weights: list[float]
    so_seq: int
    inv_seq: int
    qc_seq: int
    po_counters: dict[str, int]
    batch_seq: dict[tuple[str, str], int]
    pending_invoices: list[tuple[date, int, OrderRef]]
    recent_orders: Recent
    recent_invoices: Recent
    price_phase: dict[str, float]

    def rate(self, p: Product, day: date) -> float:
        drift = 1 + 0.06 * math.sin(self.price_phase[p.code] + (day - START).days / 29)
        return round(p.base_price_per_kg * drift * self.rng.uniform(0.96, 1.05), 2)

    def next_po(self, company: masters.Company) -> str:
        n = self.po_counters.get(company.company_id)
        if n is None:
            n = self.rng.randrange(20, 900)
        n += self.rng.randint(1, 4)
        self.po_counters[company.company_id] = n
        return _po_formatter(company)(n)

    def pick_company(self) -> masters.Company:
        return self.rng.choices(self.companies, cum_weights=self.cum_weights)[0]

    def new_order(self, day: date, so_out: JsonlOut) -> tuple[OrderRef, bool]:
        rng = self.rng
        company = self.pick_company()
        reg = company.registrations[0] if rng.random() < 0.7 else rng.choice(company.registrations)
        n_lines = rng.choices((1, 2, 3), weights=(70, 22, 8))[0]
        pool = list(company.products) if rng.random() < 0.9 else [p.code for p in PRODUCTS]
        codes = rng.sample(pool, k=min(n_lines, len(pool)))
        from demo.world.formats import pick_pack_count

        items = []
        for code in codes:
            p = product_by_code(code)
            items.append(Item(p, pick_pack_count(rng, p) * p.pack_size_kg, self.rate(p, day)))
        self.so_seq += 1
        doc_no = f"SO/{FY}/{self.so_seq:05d}"
        lead = rng.choices((1, 2, 3, 4, 5, 7, 10), weights=(20, 25, 20, 12, 10, 8, 5))[0]
        inv_day = day + timedelta(days=lead)
        if inv_day.weekday() == 6:
            inv_day += timedelta(days=1)
        if rng.random() < 0.03:
            status = "cancelled"
        elif inv_day <= END:
            status = "invoiced"
        elif inv_day - timedelta(days=2) <= END:
            status = "dispatched"
        else:
            status = "open"
        order = OrderRef(doc_no, day, company, reg, self.next_po(company), items, status)
        so_out.write(
            {
                "doc_no": doc_no,
                "date": day.isoformat(),
                "company_id": company.company_id,
                "customer_name": company.name,
                "gstin": reg.gstin,
                "po_ref": order.po_ref,
                "status": status,
                "lines": [self.line(it) for it in items],
            }
        )
        if status == "invoiced":
            self.pending_invoices.append((inv_day, self.so_seq, order))
        if status != "cancelled":
            self.recent_orders.add(order)
        return order, status != "cancelled"

    @staticmethod
    def line(it: Item) -> dict[str, Any]:
        return {
            "product_code": it.product.code,
            "product_name": it.product.name,
            "qty_kg": it.qty_kg,
            "unit": "kg",
            "rate": it.rate,
            "amount": round(it.qty_kg * it.rate, 2),
        }

    def batch_no(self, p: Product, day: date) -> str:
        key = (p.code, day.strftime("%y%m"))
        n = self.batch_seq.get(key, self.rng.randrange(1, 30)) + self.rng.randint(1, 3)
        self.batch_seq[key] = n
        return f"{p.code}{day.strftime('%y%m')}-{n:04d}"

    def qc_record(
        self, day: date, p: Product, batch: str, order_no: str | None, qc_out: JsonlOut
    ) -> str:
        rng = self.rng
        fail_param = rng.randrange(len(p.specs)) if rng.random() < 0.05 else None
        params = []
        for i, spec in enumerate(p.specs):
            lo = spec.min if spec.min is not None else (spec.max or 1) * 0.2
            hi = spec.max if spec.max is not None else lo * 1.012 + 0.1
            if spec.min is not None and spec.max is None and lo > 90:
                hi = min(100.0, lo + (100 - lo) * 0.9)
            value = rng.uniform(lo, hi)
            if i == fail_param:
                value = (spec.min * 0.985) if spec.min is not None else (spec.max or 1) * 1.2
            value = round(value, 3)
            ok = (spec.min is None or value >= spec.min) and (spec.max is None or value <= spec.max)
            params.append(
                {
                    "name": spec.name,
                    "unit": spec.unit,
                    "min": spec.min,
                    "max": spec.max,
                    "result": value,
                    "pass": ok,
                }
            )
        passed = all(x["pass"] for x in params)
        if not passed:
            coa = "withheld"
        else:
            coa = "pending" if (END - day).days < 3 or rng.random() < 0.06 else "issued"
        self.qc_seq += 1
        qc_out.write(
            {
                "doc_no": f"QC/{FY}/{self.qc_seq:05d}",
                "date": day.isoformat(),
                "batch_no": batch,
                "product_code": p.code,
                "product_name": p.name,
                "order_no": order_no,
                "params": params,
                "result": "pass" if passed else "fail",
                "coa_status": coa,
            }
        )
        return batch

    def invoice_due(self, day: date, inv_out: JsonlOut, qc_out: JsonlOut) -> None:
        rng = self.rng
        due = [x for x in self.pending_invoices if x[0] <= day]
        if not due:
            return
        self.pending_invoices = [x for x in self.pending_invoices if x[0] > day]
        for _, _, order in sorted(due, key=lambda x: (x[0], x[1])):
            self.inv_seq += 1
            doc_no = f"INV/{FY}/{self.inv_seq:05d}"
            lines = [self.line(it) for it in order.items]
            taxable = round(sum(x["amount"] for x in lines), 2)
            gst = round(
                sum(
                    x["amount"] * it.product.gst_rate / 100
                    for x, it in zip(lines, order.items, strict=True)
                ),
                2,
            )
            ref = InvoiceRef(doc_no, day, order, round(taxable + gst, 2))
            for it in order.items:
                ref.batches.append(
                    self.qc_record(
                        day - timedelta(days=rng.randint(0, 2)),
                        it.product,
                        self.batch_no(it.product, day),
                        order.doc_no,
                        qc_out,
                    )
                )
            vehicle = f"{rng.choice(('MH', 'MH', 'GJ', 'MH', 'DD'))}{rng.randint(1, 48):02d}{rng.choice('ABCDEGHJKLMNPRTUVXYZ')}{rng.choice('ABCDEGHJKLMNPRTUVXYZ')}{rng.randrange(1, 9999):04d}"
            inv_out.write(
                {
                    "doc_no": doc_no,
                    "date": day.isoformat(),
                    "order_no": order.doc_no,
                    "company_id": order.company.company_id,
                    "customer_name": order.company.name,
                    "gstin": order.reg.gstin,
                    "vehicle_no": vehicle,
                    "lr_no": f"LR{rng.randrange(100000, 999999)}",
                    "lines": lines,
                    "taxable_value": taxable,
                    "gst_amount": gst,
                    "total": ref.total,
                }
            )
            self.recent_invoices.add(ref)
