"""Writes the NIT fixture PDFs of this folder (run once; the PDFs are committed).

    .venv/bin/python tests/data/nit/make_fixtures.py

Generated notices (demo/world/nit.py) in both kinds, plus notices in layouts the generator
does not write (HAND below). truth.json is NOT written here: it was typed by reading the PDFs,
so re-running this (which rewrites the PDFs) means typing the truth again.
"""

from __future__ import annotations

import random
from datetime import date, datetime
from pathlib import Path

from demo.world.catalogue import PRODUCTS
from demo.world.nit import make_nit, nit_pdf, scan_page
from demo.world.pdf import image_pdf, text_pdf

HERE = Path(__file__).resolve().parent

BUYERS = (
    ("NTPC Limited", "Noida", "NTPC/CS/MM/4471/25-26"),
    ("Delhi Jal Board", "Delhi", "2025_DJB_287731_1"),
    ("Bharat Petroleum Corporation Ltd", "Mumbai", "GEM/2025/B/6418820"),
    ("Kerala Water Authority", "Kochi", "KWA/PH/CHEM/1182/2025"),
    ("Steel Authority of India Ltd", "Bhilai", "GEM/2025/B/6530017"),
    ("Central Railway", "Mumbai", "CR/STORES/T-2025/0931"),
    ("Indian Oil Corporation Ltd", "Panipat", "2025_IOCL_554012_1"),
    ("Chennai Metropolitan Water Supply", "Chennai", "CMWSSB/CHEM/77/2025-26"),
)


def generated(kind: str, n: int) -> None:
    formats = ("cppp", "gem", "psu")
    made = 0
    seed = 100 if kind == "text" else 500
    while made < n:
        rng = random.Random(seed)
        seed += 1
        buyer, city, tno = BUYERS[(seed + made) % len(BUYERS)]
        p = PRODUCTS[(seed * 7) % len(PRODUCTS)]
        nit = make_nit(
            rng,
            tender_no=tno,
            organisation=buyer,
            city=city,
            product=p,
            qty_kg=rng.choice((500.0, 2000.0, 24000.0, 60000.0)),
            published=date(2025, 7, 1) + (date(2025, 7, 2) - date(2025, 7, 1)) * (seed % 60),
            bid_end=datetime(2025, 9, 15, 15, 0),
            fmt=formats[made % 3],
        )
        pdf = nit_pdf(nit, rng, scanned=kind == "scanned")
        if kind == "scanned" and pdf.count(b"/Type /Page ") > 2:
            continue  # keep the committed scans small
        made += 1
        (HERE / f"{kind}_{made:02d}_{nit.fmt}.pdf").write_bytes(pdf)


# Notices in layouts of their own, written by hand (not by the generator).
HAND: dict[str, list] = {
    "hand_01_municipal": [
        ("c", "PUNE MUNICIPAL CORPORATION", 13, True),
        ("c", "Water Supply Department", 11, False),
        ("c", "e-TENDER NOTICE No. 117 for the year 2025-26", 11, True),
        ("g",),
        ("t", "Online e-tenders are invited from manufacturers / authorised dealers for the"),
        ("t", "supply of water treatment chemicals to Parvati Water Works as per details below."),
        ("g",),
        ("r", ("Sr.", "Particulars", "Details"), (50, 80, 290), True),
        ("r", ("1", "Tender No.", "PMC/WS/2025-26/117"), (50, 80, 290), False),
        ("r", ("2", "Estimated cost of the tender", "Rs. 38,60,000/-"), (50, 80, 290), False),
        ("r", ("3", "Earnest Money Deposit", "Rs. 38,600/- (online only)"), (50, 80, 290), False),
        ("r", ("4", "Tender document fee", "Rs. 2,360/- (incl. GST)"), (50, 80, 290), False),
        ("r", ("5", "Online sale start date", "21/07/2025 from 10:00 hrs"), (50, 80, 290), False),
        (
            "r",
            ("6", "Last date for submission of bids", "11/08/2025 upto 17:00 hrs"),
            (50, 80, 290),
            False,
        ),
        (
            "r",
            ("7", "Opening date of technical bids", "13/08/2025 at 11:00 hrs"),
            (50, 80, 290),
            False,
        ),
        ("g",),
        ("t", "Schedule of quantities", 10, True),
        ("r", ("No.", "Item Description", "Quantity", "Unit"), (50, 80, 360, 430), True),
        (
            "r",
            ("1", "Poly Aluminium Chloride (PAC) liquid 10%", "180", "MT"),
            (50, 80, 360, 430),
            False,
        ),
        ("r", ("2", "Liquid Chlorine in tonners", "96", "MT"), (50, 80, 360, 430), False),
        ("r", ("3", "Hydrated Lime", "40", "MT"), (50, 80, 360, 430), False),
        ("g",),
        ("t", "Qualification criteria: the bidder should have an average annual turnover of"),
        ("t", "Rs. 1.15 Crore in the last three years and should have supplied similar chemicals"),
        (
            "t",
            "to any municipal body for 5 years. Valid GST and ISO 9001 certificates are required.",
        ),
        ("g",),
        ("t", "Contact Officer: Shri Vivek Kharade, Executive Engineer (Water Supply)"),
        ("t", "Tel: 020-25501234   e-mail: ee.watersupply@punecorporation.org"),
        ("g",),
        ("t", "City Engineer, Pune Municipal Corporation", 10, True),
    ],
    "hand_02_enquiry": [
        ("t", "Ref: STE/WTP/CHEM/88/2025", 10, False),
        ("t", "Date: 02/08/2025", 10, False),
        ("g",),
        ("c", "SHORT TENDER ENQUIRY", 13, True),
        ("g",),
        ("t", "To: All prospective suppliers"),
        ("t", "Sub: Supply of water treatment chemicals for the Bokaro Steel Plant WTP"),
        ("g",),
        (
            "t",
            "Bokaro Steel Plant (Steel Authority of India Ltd) invites sealed quotations for the",
        ),
        ("t", "following material. Tender No. BSL/WTP/STE/0088 dated 02.08.2025."),
        ("g",),
        ("r", ("Item", "Specification", "Qty. Reqd.", "UoM"), (50, 200, 400, 470), True),
        ("r", ("Aluminium Sulphate", "Non-ferric, IS 299", "60", "MT"), (50, 200, 400, 470), False),
        ("r", ("Bleaching Powder", "Stable, 34% Cl", "12,000", "Kg"), (50, 200, 400, 470), False),
        ("g",),
        ("t", "Earnest money: Rs. 15,000 by Demand Draft drawn on any scheduled bank."),
        ("t", "Closing date: 18.08.2025 at 2:30 PM. Quotations will be opened on 19.08.2025 at"),
        ("t", "11:00 AM in the presence of bidders who wish to attend."),
        ("g",),
        ("t", "Bidders registered with NSIC are exempted from payment of earnest money."),
        ("g",),
        ("t", "For any clarification contact: Ms. Ritu Prasad, AGM (Purchase)"),
        ("t", "Mobile: 94311 22870   Email: ritu.prasad@sail-bokaro.in"),
    ],
    "hand_03_ifb": [
        ("c", "MAHARASHTRA STATE POWER GENERATION CO. LTD.", 12, True),
        ("c", "Koradi Thermal Power Station", 10, False),
        ("c", "INVITATION FOR BIDS (IFB)", 12, True),
        ("g",),
        ("t", "Bid Ref: MSPGCL/KTPS/CHEM/2025/3302"),
        (
            "t",
            "Name of work: Supply of Hydrochloric Acid 33% and Caustic Soda Lye 48% for DM plant",
        ),
        ("g",),
        ("t", "Quantity required:", 10, True),
        ("r", ("a)", "Hydrochloric Acid 33% (IS 265)", "450 MT"), (60, 80, 380), False),
        ("r", ("b)", "Caustic Soda Lye 48% (IS 252)", "300 MT"), (60, 80, 380), False),
        ("g",),
        ("t", "Estimated value: Rs. 52.40 Lakh"),
        ("t", "Bid security (EMD): Rs. 52,400 in the form of Bank Guarantee valid for 180 days"),
        ("t", "Cost of bid document: Rs. 5,900/- (non refundable)"),
        ("t", "Bid due date & time: 28-08-2025 15:30 Hrs"),
        ("t", "Date & time of bid opening: 29-08-2025 16:00 Hrs"),
        ("t", "Pre-bid conference: 14-08-2025 at 11:30 Hrs, Conference Room, KTPS Admin Building."),
        ("g",),
        ("t", "Pre-qualification requirements", 10, True),
        (
            "t",
            "(i) Bidder shall have experience of minimum 3 years in supply of bulk acids/alkalis.",
        ),
        ("t", "(ii) Bidder shall have valid PESO licence and GST registration."),
        ("g",),
        ("t", "Address for communication: Chief Engineer (O&M), KTPS, Koradi, Nagpur - 441111"),
        ("t", "Phone: 07109-262122"),
        ("t", "Email: ce.koradi@mahagenco.in"),
    ],
    "hand_04_dairy": [
        ("c", "BANAS DAIRY", 13, True),
        (
            "c",
            "The Banaskantha District Co-operative Milk Producers' Union Ltd., Palanpur",
            9,
            False,
        ),
        ("g",),
        ("c", "TENDER NOTICE", 12, True),
        ("t", "Tender No: BD/ENGG/CHEM/25-26/014"),
        ("t", "Sealed tenders are invited for the supply of the following cleaning chemicals:"),
        ("g",),
        ("r", ("Sl.No.", "Material", "Qty", "Unit"), (50, 100, 380, 440), True),
        ("r", ("1", "Caustic Soda Flakes 98%", "20", "MT"), (50, 100, 380, 440), False),
        ("r", ("2", "Nitric Acid 60%", "8,500", "Kg"), (50, 100, 380, 440), False),
        ("r", ("3", "Sodium Hypochlorite 10%", "150", "Drums"), (50, 100, 380, 440), False),
        ("g",),
        ("t", "EMD: Rs.50,000/- (DD)      Tender Fee: Rs. 1,000/-"),
        ("t", "Tender forms available from: 01.09.2025 (11:00 AM)"),
        ("t", "Last Date: 25.09.2025 (5:00 PM)"),
        ("t", "Tender opening: 26.09.2025 (3:00 PM)"),
        ("g",),
        ("t", "Only MSME / Udyam registered manufacturers with BIS certification may apply."),
        ("g",),
        ("t", "Contact: Mr. J. B. Chaudhary, Purchase Manager, Ph. 02742-253881,"),
        ("t", "purchase@banasdairy.coop"),
    ],
}


def hand_pages(spec: list) -> list:
    placed, y = [], 842 - 60
    for entry in spec:
        kind = entry[0]
        if kind == "g":
            y -= 10
            continue
        if kind == "c":
            _, text, size, bold = entry
            placed.append((max(40, 297 - len(text) * size * 0.26), y, text, size, bold))
            y -= size + 7
        elif kind == "t":
            text, size, bold = (
                entry[1],
                (entry[2] if len(entry) > 2 else 10),
                (entry[3] if len(entry) > 3 else False),
            )
            placed.append((50, y, text, size, bold))
            y -= size + 5
        elif kind == "r":
            _, cells, xs, bold = entry
            for x, cell in zip(xs, cells, strict=True):
                placed.append((x, y, cell, 10, bold))
            y -= 15
    return [placed]


def main() -> None:
    for old in HERE.glob("*.pdf"):
        old.unlink()
    generated("text", 12)
    generated("scanned", 12)
    for name, spec in HAND.items():
        pages = hand_pages(spec)
        (HERE / f"text_{name}.pdf").write_bytes(text_pdf(pages))
    for name in ("hand_02_enquiry", "hand_04_dairy"):
        rng = random.Random(name)
        pages = hand_pages(HAND[name])
        (HERE / f"scanned_{name}.pdf").write_bytes(image_pdf([scan_page(p, rng) for p in pages]))


if __name__ == "__main__":
    main()
