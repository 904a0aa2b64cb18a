"""Generate the demo world: masters, six months of ERP documents and mail, prelead batches.

The world is simulated one day at a time. Orders, invoices, QC records and mail are written
to disk as they happen; only masters and a sliding window of recent documents (which mail
refers to) stay in memory, so scale 100 runs in bounded memory.
"""

from __future__ import annotations

import bisect
import json
import math
import random
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from demo.world import identity, masters, prelead
from demo.world.catalogue import PRODUCTS, Product, catalogue_records, product_by_code
from demo.world.mail import IST, Item, Mailroom, MailWriter, Slots
from demo.world.pdf import tiny_pdf

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
PO_MAIL_SHARE = 0.33
TENDER_BUYERS = (
    ("NTPC Limited", "Noida"),
    ("Bharat Petroleum Corporation Ltd", "Mumbai"),
    ("Delhi Jal Board", "Delhi"),
    ("Municipal Corporation of Greater Mumbai", "Mumbai"),
    ("Central Railway", "Mumbai"),
    ("Oil and Natural Gas Corporation Ltd", "Vadodara"),
    ("Bharat Heavy Electricals Ltd", "Bhopal"),
    ("Kerala Water Authority", "Kochi"),
    ("Gujarat Water Supply and Sewerage Board", "Gandhinagar"),
    ("Hindustan Aeronautics Ltd", "Bengaluru"),
    ("Indian Oil Corporation Ltd", "Panipat"),
    ("Chennai Metropolitan Water Supply", "Chennai"),
    ("Steel Authority of India Ltd", "Bhilai"),
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


def _days() -> Iterator[date]:
    d = START
    while d <= END:
        yield d
        d += timedelta(days=1)


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


class World:
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

    # -- ERP -----------------------------------------------------------------------------

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

    # -- mail ----------------------------------------------------------------------------

    def contact_for(self, company: masters.Company, role: str) -> masters.Contact:
        fitting = [c for c in company.contacts if c.role == role]
        if fitting and self.rng_mail.random() < 0.8:
            return self.rng_mail.choice(fitting)
        return self.rng_mail.choice(company.contacts)

    def day_mail(self, day: date, room: Mailroom, new_orders: list[OrderRef]) -> None:
        rng = self.rng_mail
        midnight = datetime(day.year, day.month, day.day, tzinfo=IST)
        quiet = 0.15 if day.weekday() == 6 else 1.0
        s = self.scale * quiet
        for order in new_orders:
            if rng.random() < PO_MAIL_SHARE:
                self.po_mail(order, midnight, room)
        for intent in ("price_enquiry", "sample_request", "new_business"):
            for _ in range(poisson(rng, DAILY[intent] * s)):
                self.crm_mail(intent, midnight, room)
        for _ in range(poisson(rng, DAILY["order_status"] * s)):
            order = self.recent_orders.pick(rng, day, 1, 20)
            if order is not None:
                self.erp_mail("order_status", midnight, room, order, None)
        for intent, ages in (
            ("invoice_payment", (5, 70)),
            ("coa_request", (0, 12)),
            ("quality_complaint", (1, 25)),
        ):
            for _ in range(poisson(rng, DAILY[intent] * s)):
                inv = self.recent_invoices.pick(rng, day, *ages)
                if inv is not None:
                    self.erp_mail(intent, midnight, room, inv.order, inv)
        for _ in range(poisson(rng, DAILY["tender_notice"] * self.scale)):
            self.tender_mail(midnight, room)
        for _ in range(poisson(rng, DAILY["newsletter_spam"] * self.scale)):
            mailbox = rng.choices(("sales", "accounts", "tenders", "qc"), weights=(5, 2, 2, 1))[0]
            room.bulk(
                midnight + timedelta(minutes=rng.randrange(24 * 60)),
                mailbox,
                rng.sample(PRODUCTS, rng.choice((1, 1, 1, 2, 3))),
            )
        for _ in range(poisson(rng, DAILY["auto_ack"] * s)):
            self.auto_ack_mail(midnight, room)
        for _ in range(poisson(rng, DAILY["bounce"] * s)):
            company = self.companies[rng.randrange(len(self.companies))]
            contact = rng.choice(company.contacts)
            local, _, domain = contact.email.partition("@")
            bad = (
                f"{local[:-1] or local}x@{domain}"
                if rng.random() < 0.6
                else f"{local}@{domain.replace('.', '', 1)}.in"
            )
            room.bounce(
                room.business_time(midnight),
                rng.choices(("sales", "accounts"), weights=(7, 3))[0],
                bad,
                rng.choice(
                    (
                        "Quotation",
                        "Outstanding statement",
                        "Price revision w.e.f. 1st",
                        "Diwali greetings",
                        "Dispatch details",
                    )
                ),
            )

    def auto_ack_mail(self, midnight: datetime, room: Mailroom) -> None:
        """An automatic answer from a customer's mail system to one of our outgoing mails."""
        rng = self.rng_mail
        inv = self.recent_invoices.pick(rng, midnight.date(), 0, 20) if rng.random() < 0.6 else None
        if inv is not None:
            order = inv.order
            company = order.company
            slots = Slots(
                items=order.items, order=order.doc_no, invoice=inv.doc_no, po=order.po_ref
            )
        else:
            company = self.pick_company()
            slots = Slots(
                items=[
                    Item(p, 0.0, p.base_price_per_kg)
                    for p in map(product_by_code, company.products[:1])
                ]
            )
        contact = self.contact_for(company, "accounts" if inv is not None else "purchase")
        room.auto_ack(
            room.business_time(midnight),
            rng.choices(("sales", "accounts"), weights=(6, 4))[0],
            company,
            contact,
            slots,
        )

    def po_mail(self, order: OrderRef, midnight: datetime, room: Mailroom) -> None:
        rng = self.rng_mail
        company = order.company
        contact = self.contact_for(company, "purchase")
        amount = sum(it.qty_kg * it.rate for it in order.items)
        gstin = (order.reg.gstin, True)
        if rng.random() < 0.08:
            gstin = (identity.mistype_gstin(rng, order.reg.gstin), False)
        slots = Slots(
            items=order.items,
            po=order.po_ref,
            amount=amount,
            gstin=gstin,
            city=order.reg.city,
            company=company.name,
            date=(order.day + timedelta(days=rng.randint(2, 8))).strftime(
                rng.choice(("%d.%m.%Y", "%d/%m/%y", "%d %b", "%d-%m-%Y"))
            ),
        )
        attachments = None
        if rng.random() < 0.45:
            lines = [
                company.name,
                order.reg.address,
                f"GSTIN: {order.reg.gstin}",
                f"PO No: {order.po_ref}",
                f"Date: {order.day.strftime('%d.%m.%Y')}",
                "",
                "To: Pebble Demo Chemicals Pvt Ltd, Mumbai",
                "",
            ]
            lines += [
                f"{i}. {it.product.name}  {it.qty_kg:g} kg  @ Rs {it.rate:.2f}/kg"
                for i, it in enumerate(order.items, 1)
            ]
            name = rng.choice(
                (
                    f"PO_{order.po_ref.replace('/', '_')}.pdf",
                    "PO.pdf",
                    "Purchase Order.pdf",
                    "scan0001.pdf",
                    f"PO {order.po_ref.replace('/', '-')} (2).pdf",
                )
            )
            attachments = [(name, tiny_pdf("PURCHASE ORDER", lines), "application/pdf")]
        when = room.business_time(midnight, early=True)
        room.customer_mail(
            intent="purchase_order",
            when=when,
            company=company,
            contact=contact,
            reg=order.reg,
            slots=slots,
            company_id=company.company_id,
            attachments=attachments,
        )

    def crm_mail(self, intent: str, midnight: datetime, room: Mailroom) -> None:
        rng = self.rng_mail
        prospect_share = {"price_enquiry": 0.3, "sample_request": 0.35, "new_business": 0.85}[
            intent
        ]
        if rng.random() < prospect_share:
            ident = masters.make_identity(rng)
            company = masters.Company(
                "",
                ident.name,
                None,
                ident.pan,
                ident.cin,
                ident.industry,
                ident.domain,
                ident.registrations,
                products=ident.products,
            )
            role = "owner" if intent == "new_business" and rng.random() < 0.5 else "purchase"
            contact = masters.make_contact(rng, ident, "", "", role, set())
            company.contacts.append(contact)
            company_id = None
        else:
            company = self.pick_company()
            contact = self.contact_for(
                company, "qc" if intent == "sample_request" and rng.random() < 0.3 else "purchase"
            )
            company_id = company.company_id
        reg = company.registrations[0]
        day = midnight.date()
        codes = rng.sample(
            company.products, k=min(len(company.products), rng.choices((1, 2, 3), (60, 28, 12))[0])
        )
        from demo.world.formats import pick_pack_count

        items = [
            Item(p, pick_pack_count(rng, p) * p.pack_size_kg, self.rate(p, day))
            for p in map(product_by_code, codes)
        ]
        gstin_valid = rng.random() > 0.1
        slots = Slots(
            items=items,
            city=reg.city,
            company=company.name,
            industry=company.industry,
            gstin=(
                reg.gstin if gstin_valid else identity.mistype_gstin(rng, reg.gstin),
                gstin_valid,
            ),
            days=str(rng.choice((3, 5, 7, 10, 15))),
        )
        room.customer_mail(
            intent=intent,
            when=room.business_time(midnight),
            company=company,
            contact=contact,
            reg=reg,
            slots=slots,
            company_id=company_id,
        )

    def erp_mail(
        self,
        intent: str,
        midnight: datetime,
        room: Mailroom,
        order: OrderRef,
        inv: InvoiceRef | None,
    ) -> None:
        rng = self.rng_mail
        company = order.company
        role = {
            "order_status": "purchase",
            "invoice_payment": "accounts",
            "coa_request": "qc",
            "quality_complaint": "qc",
        }[intent]
        contact = self.contact_for(company, role)
        items = order.items
        if intent == "quality_complaint":
            it = rng.choice(order.items)
            part = max(1, int(it.qty_kg / it.product.pack_size_kg * rng.uniform(0.1, 0.6)))
            items = [Item(it.product, part * it.product.pack_size_kg, it.rate)]
        elif intent == "coa_request":
            items = [rng.choice(order.items)]
        batch = ""
        if inv is not None:
            idx = order.items.index(items[0]) if items[0] in order.items else 0
            batch = inv.batches[min(idx, len(inv.batches) - 1)]
        amount = inv.total if inv is not None else sum(it.qty_kg * it.rate for it in order.items)
        if intent == "invoice_payment" and rng.random() < 0.2:
            amount = round(amount * 0.99, 2)  # paid net of TDS
        slots = Slots(
            items=items,
            order=order.doc_no,
            invoice=inv.doc_no if inv else None,
            po=order.po_ref,
            amount=amount,
            gstin=(order.reg.gstin, True),
            batch=batch,
            city=order.reg.city,
            company=company.name,
            date=(midnight.date() + timedelta(days=rng.randint(-3, 4))).strftime(
                rng.choice(("%d.%m.%Y", "%d/%m/%y", "%d %b", "%d-%m-%Y"))
            ),
            utr=f"{rng.choice(('HDFCR', 'SBIN', 'ICICR', 'UTIBR'))}{rng.randrange(10**11, 10**12)}",
        )
        attachments = None
        if intent == "invoice_payment" and rng.random() < 0.2:
            attachments = [
                (
                    "Payment_Advice.pdf",
                    tiny_pdf("PAYMENT ADVICE", [company.name, f"Amount: {amount:.2f}"]),
                    "application/pdf",
                )
            ]
        if intent == "quality_complaint" and rng.random() < 0.15:
            attachments = [
                (
                    "../../photos/IMG_2041.pdf",
                    tiny_pdf("REJECTION NOTE", [company.name, batch]),
                    "application/pdf",
                )
            ]
        room.customer_mail(
            intent=intent,
            when=room.business_time(midnight),
            company=company,
            contact=contact,
            reg=order.reg,
            slots=slots,
            company_id=company.company_id,
            attachments=attachments,
        )

    def tender_mail(self, midnight: datetime, room: Mailroom) -> None:
        rng = self.rng_mail
        buyer, city = rng.choice(TENDER_BUYERS)
        p = rng.choice(PRODUCTS)
        qty = (
            p.pack_size_kg * rng.randint(20, 400)
            if p.pack_size_kg < 1000
            else p.pack_size_kg * rng.randint(2, 30)
        )
        qty = round(qty / 1000) * 1000 or qty
        tender_id = rng.choice(
            (
                f"GEM/2025/B/{rng.randrange(6000000, 6999999)}",
                f"2025_{''.join(w[0] for w in buyer.split()[:3]).upper()}_{rng.randrange(100000, 999999)}_1",
                f"{''.join(w[0] for w in buyer.split()[:3]).upper()}/MM/{rng.randrange(1000, 9999)}/25-26",
            )
        )
        due = midnight + timedelta(days=rng.randint(7, 28))
        slots = Slots(
            items=[Item(p, float(qty), p.base_price_per_kg)],
            company=buyer,
            city=city,
            tender_id=tender_id,
            due_date=due.strftime(rng.choice(("%d-%m-%Y %H:%M", "%d.%m.%Y", "%d %B %Y"))),
            amount=float(round(qty * p.base_price_per_kg * 0.02, -3) or 5000),
        )
        room.tender(midnight + timedelta(minutes=rng.randrange(24 * 60)), slots)

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
            for day in _days():
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
