"""Prelead batches: lead lists as marketing receives them (expos, portals, referrals), dirt included.

Dirt on purpose: GSTINs with wrong check characters, blank fields, rows repeated within a
batch, rows for companies that are already customers (spelled differently), formula-like
cells (`=HYPERLINK(...)`), CSVs in UTF-8 with BOM or Windows-1252, title rows above the
header in spreadsheets. `prelead/truth.jsonl` says, per data row, what the dirt is.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from demo.world import identity, masters
from demo.world.catalogue import product_by_code

HEADERS = {
    "company": ("Company Name", "Firm Name", "Company", "Party Name", "Name of Company"),
    "contact": ("Contact Person", "Name", "Contact Name", "Person"),
    "mobile": ("Mobile", "Mobile No.", "Phone", "Contact No"),
    "email": ("Email", "E-mail ID", "Email Address", "Mail"),
    "city": ("City", "Location"),
    "state": ("State",),
    "gstin": ("GSTIN", "GST No", "GSTIN/UIN", "GST Number"),
    "product": ("Product", "Requirement", "Interested In", "Product Interest"),
    "remarks": ("Remarks", "Notes", "Comment"),
}
SOURCES = (
    "IndiaMART",
    "TradeIndia",
    "ChemExpo 2025",
    "Justdial",
    "Referral",
    "Website",
    "Cold call list",
)
REMARKS = (
    "Call after Diwali",
    "Interested, send rates",
    "Existing supplier from Gujarat",
    "Not picking call",
    "Sample sent",
    "Monthly requirement 5 MT",
    "Price sensitive",
    "",
    "",
    "",
)
CP1252_REMARKS = (
    "Customer’s requirement – urgent",
    "Visited stall — keen on samples",
    "“Hot” lead",
    "Contact via Mr. D’Souza",
    "Café chain supplier – bulk",
)
INJECTIONS = (
    '=HYPERLINK("http://bit.ly/3xYz","Click for catalogue")',
    "=1+2",
    "@SUM(A1:A9)",
    '=cmd|" /C calc"!A0',
    "-2+3+cmd",
    "+91 98200 12345",
)
FIXED_TIME = (2025, 11, 30, 18, 0, 0)


def _respell(rng: random.Random, name: str) -> str:
    """The same company name as another person types it."""
    variants = [
        name.replace("Pvt Ltd", "Private Limited").replace("Pvt. Ltd.", "Pvt Ltd"),
        name.replace("Private Limited", "Pvt. Ltd."),
        name.upper(),
        name.lower(),
        "M/s. " + name,
        name.replace("&", "and"),
        re.sub(r"\s+", "  ", name),
        name.replace(" ", "", 1),
        name + ".",
    ]
    out = rng.choice(variants)
    return out if out != name else name.upper()


def _row_for(
    rng: random.Random,
    ident: masters.Identity | masters.Company,
    contact: masters.Contact | None,
    reg: masters.Registration,
) -> dict[str, str]:
    first, last = identity.person_name(rng)
    name = contact.name if contact else f"{first} {last}"
    phone = contact.phone if contact else identity.mobile(rng)
    email = contact.email if contact else f"{first.lower()}@{ident.domain}"
    products = ", ".join(product_by_code(c).name for c in ident.products[:2])
    return {
        "company": ident.name,
        "contact": name,
        "mobile": identity.format_phone(rng, phone),
        "email": email,
        "city": reg.city,
        "state": reg.state.name,
        "gstin": reg.gstin,
        "product": products,
        "remarks": rng.choice(REMARKS),
    }


def _fixed_xlsx(data: bytes) -> bytes:
    """The XLSX with fixed document timestamps and zip entry times, so output is reproducible."""
    stamp = "2025-11-30T18:00:00Z"
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)",
                    rb"\g<1>" + stamp.encode() + rb"\2",
                    body,
                )
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, body)
    return buf.getvalue()


def write_batches(
    rng: random.Random, out: Path, customers: list[masters.Company], scale: float
) -> dict[str, int]:
    """Write prelead batch files and their truth; return counts for the manifest."""
    from openpyxl import Workbook

    out.mkdir(parents=True, exist_ok=True)
    n_batches = max(4, round(12 * scale))
    truth = open(out / "truth.jsonl", "w", encoding="utf-8", newline="\n")
    counts = {
        "prelead_batches": 0,
        "prelead_rows": 0,
        "prelead_invalid_gstin": 0,
        "prelead_duplicates": 0,
        "prelead_existing": 0,
    }
    try:
        for b in range(1, n_batches + 1):
            fmt = "xlsx" if b % 2 == 0 else "csv"
            encoding = "utf-8"
            if fmt == "csv":
                encoding = rng.choices(("utf-8", "utf-8-sig", "cp1252"), weights=(4, 3, 3))[0]
            fields = [
                "company",
                "contact",
                "mobile",
                "email",
                "city",
                "state",
                "gstin",
                "product",
                "remarks",
            ]
            if rng.random() < 0.3:
                fields.remove("state")
            if rng.random() < 0.3:
                fields.remove("remarks")
            if rng.random() < 0.3:
                i, j = rng.sample(range(1, len(fields)), 2)
                fields[i], fields[j] = fields[j], fields[i]
            header = [rng.choice(HEADERS[f]) for f in fields]
            source = rng.choice(SOURCES)
            rows: list[dict[str, str]] = []
            row_truth: list[dict[str, Any]] = []
            for _ in range(rng.randint(40, 150)):
                kind = rng.choices(("new", "existing", "duplicate"), weights=(76, 14, 10))[0]
                if kind == "duplicate" and not rows:
                    kind = "new"
                company_id = None
                dup_of = None
                if kind == "new":
                    ident = masters.make_identity(rng)
                    row = _row_for(rng, ident, None, ident.registrations[0])
                elif kind == "existing":
                    company = rng.choice(customers)
                    reg = rng.choice(company.registrations)
                    row = _row_for(rng, company, rng.choice(company.contacts), reg)
                    row["company"] = _respell(rng, company.name)
                    company_id = company.company_id
                else:
                    dup_of = rng.randrange(len(rows))
                    row = dict(rows[dup_of])
                    if rng.random() < 0.5:
                        row["company"] = _respell(rng, row["company"])
                    if rng.random() < 0.3:
                        row["remarks"] = rng.choice(REMARKS)
                    company_id = row_truth[dup_of]["company_id"]
                gstin_valid: bool | None = True
                if kind != "duplicate":
                    x = rng.random()
                    if x < 0.2:
                        row["gstin"] = ""
                    elif x < 0.3:
                        row["gstin"] = identity.mistype_gstin(rng, row["gstin"])
                    elif x < 0.34:
                        g = row["gstin"]
                        row["gstin"] = (
                            f"{g[:2]} {g[2:12]} {g[12:]}".lower()
                            if rng.random() < 0.5
                            else g.lower()
                        )
                    for f in ("contact", "mobile", "email", "city", "product"):
                        if rng.random() < 0.08:
                            row[f] = ""
                    formula = rng.random() < 0.04
                    if formula:
                        row[rng.choice(("remarks", "company", "mobile"))] = rng.choice(INJECTIONS)
                    if encoding == "cp1252" and rng.random() < 0.25:
                        row["remarks"] = rng.choice(CP1252_REMARKS)
                clean = re.sub(r"\s", "", row["gstin"]).upper()
                if not clean:
                    gstin_valid = None
                else:
                    from stdnum.in_ import gstin as gstin_mod

                    gstin_valid = gstin_mod.is_valid(clean)
                formula_cell = any(
                    str(row.get(f, "")).startswith(("=", "@", "+", "-")) for f in fields
                )
                rows.append(row)
                row_truth.append(
                    {
                        "kind": kind,
                        "company_id": company_id,
                        "duplicate_of_row": None if dup_of is None else dup_of + 1,
                        "gstin": row["gstin"],
                        "gstin_valid": gstin_valid,
                        "formula_cell": formula_cell,
                    }
                )
            name = f"batch_{b:03d}.{fmt}"
            if fmt == "csv":
                delim = ";" if rng.random() < 0.2 else ","
                buf = io.StringIO(newline="")
                w = csv.writer(
                    buf, delimiter=delim, lineterminator="\r\n" if rng.random() < 0.6 else "\n"
                )
                w.writerow(header)
                for row in rows:
                    w.writerow([row.get(f, "") for f in fields])
                (out / name).write_bytes(buf.getvalue().encode(encoding, errors="replace"))
            else:
                wb = Workbook()
                ws = wb.active
                ws.title = rng.choice(("Leads", "Sheet1", "Data"))
                header_row = 1
                if rng.random() < 0.4:
                    ws.append(
                        [
                            f"{source} leads - {rng.choice(('June', 'August', 'October', 'November'))} 2025"
                        ]
                    )
                    ws.append([])
                    header_row = 3
                ws.append(header)
                for row in rows:
                    ws.append([row.get(f, "") for f in fields])
                # openpyxl would treat strings starting with "=" as formulas; leads carry them as text
                for line in ws.iter_rows(min_row=header_row + 1):
                    for cell in line:
                        if isinstance(cell.value, str) and cell.value.startswith("="):
                            cell.data_type = "s"
                fixed = datetime(*FIXED_TIME)
                wb.properties.created = fixed
                wb.properties.modified = fixed
                wb.properties.creator = "Marketing"
                buf = io.BytesIO()
                wb.save(buf)
                (out / name).write_bytes(_fixed_xlsx(buf.getvalue()))
            for i, t in enumerate(row_truth, start=1):
                truth.write(
                    json.dumps(
                        {
                            "file": f"prelead/{name}",
                            "row": i,
                            "source": source,
                            "encoding": encoding if fmt == "csv" else None,
                            **t,
                        },
                        ensure_ascii=False,
                    )
                    + "\n"
                )
                counts["prelead_invalid_gstin"] += t["gstin_valid"] is False
                counts["prelead_duplicates"] += t["kind"] == "duplicate"
                counts["prelead_existing"] += t["kind"] == "existing"
            counts["prelead_batches"] += 1
            counts["prelead_rows"] += len(rows)
    finally:
        truth.close()
    return counts
