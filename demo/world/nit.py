"""Notice Inviting Tender (NIT) PDFs attached to the demo world's tender mails.

Three layouts after Indian public procurement: the CPPP eProcurement "Tender Details"
sheet, the GeM "Bid Document", and a state PSU's prose "Notice Inviting Tender". A notice is
written either with a text layer or as a scan (page images with skew, blur, noise and JPEG
artefacts, no text layer).

Invariants:
- Everything is drawn from the `random.Random` the caller passes; the world derives it
  from the message id, so attaching notices never moves the world's main random stream.
- `Nit.truth()` holds exactly the values the PDF shows, in the reader's shape
  (ml/tender: ISO datetimes in IST, amounts in rupees, normalised units).
- Same notice + same random state -> byte-identical PDF.
"""

from __future__ import annotations

import hashlib
import io
import random
import re
import textwrap
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from demo.world.catalogue import PRODUCTS, Product
from demo.world.pdf import Placed, image_pdf, text_pdf
from ml.indian_numbers import indian_grouping

#: Share of tender mails that carry the notice (NIT) as a PDF attachment.
NIT_SHARE = 0.4
FORMATS = ("cppp", "gem", "psu")
REGISTRATIONS = ("MSME", "NSIC", "GST", "BIS", "ISO 9001", "PESO")
FONT_DIR = "/usr/share/fonts/truetype/dejavu"
SCAN_DPI = 150

_FIRST = ("R. K.", "S. N.", "Anil", "Meena", "P. V.", "Suresh", "Kavita", "A. K.", "Deepak")
_LAST = ("Sharma", "Iyer", "Patel", "Reddy", "Nair", "Verma", "Kulkarni", "Das", "Menon")
_DESIG = ("Dy. Manager (MM)", "Senior Manager (C&P)", "Executive Engineer", "Purchase Officer")
_VENUES = (
    "Conference Hall, Materials Department",
    "Committee Room, Administrative Building",
    "Board Room, 2nd Floor, Head Office",
)


@dataclass
class NitItem:
    description: str
    quantity: float
    unit: str  # normalised: MT, KG, KL, BAGS, DRUMS
    product: str | None
    shown_unit: str = ""


@dataclass
class Nit:
    """One notice: what it says, in typed form."""

    fmt: str
    tender_no: str
    organisation: str
    department: str
    city: str
    items: list[NitItem]
    published: date
    bid_start: datetime
    bid_end: datetime
    bid_opening: datetime
    estimated_value: float | None = None
    emd: float | None = None
    emd_form: str | None = None
    tender_fee: float | None = None
    pre_bid: datetime | None = None
    pre_bid_venue: str | None = None
    turnover: float | None = None
    experience: int | None = None
    registrations: list[str] = field(default_factory=list)
    contact_name: str = ""
    contact_desig: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    shown: dict[str, str] = field(default_factory=dict)  # how amounts are written

    def truth(self) -> dict[str, Any]:
        """The fields as the reader should return them (absent fields left out)."""
        out: dict[str, Any] = {
            "tender_no": self.tender_no,
            "organisation": self.organisation,
            "items": [
                {
                    "description": it.description,
                    "quantity": it.quantity,
                    "unit": it.unit,
                    "product": it.product,
                }
                for it in self.items
            ],
            "bid_start": _iso(self.bid_start),
            "bid_end": _iso(self.bid_end),
            "bid_opening": _iso(self.bid_opening),
        }
        for name, value in (
            ("estimated_value_inr", self.estimated_value),
            ("emd_amount_inr", self.emd),
            ("emd_form", self.emd_form),
            ("tender_fee_inr", self.tender_fee),
        ):
            if value is not None:
                out[name] = value
        if self.pre_bid is not None:
            venue = f"{self.pre_bid_venue}, {self.city}" if self.pre_bid_venue else None
            out["pre_bid_meeting"] = {"at": _iso(self.pre_bid), "venue": venue}
        if self.turnover is not None or self.experience is not None or self.registrations:
            out["eligibility"] = {
                "turnover_inr": self.turnover,
                "experience_years": self.experience,
                "registrations": sorted(self.registrations),
            }
        out["contact"] = {
            "name": self.contact_name,
            "email": self.contact_email,
            "phone": self.contact_phone,
        }
        return out


def _iso(dt: datetime) -> str:
    return dt.replace(tzinfo=None).isoformat(timespec="minutes") + ":00+05:30"


def _initials(org: str) -> str:
    return "".join(w[0] for w in org.split() if w[0].isupper())[:5] or "ORG"


# --- what a notice says ------------------------------------------------------------------------


def _item(rng: random.Random, p: Product, qty_kg: float) -> NitItem:
    desc = rng.choice((p.name, f"{p.name} ({p.grade})", f"{p.name}, {p.grade}"))
    if qty_kg >= 5000:
        qty = round(qty_kg / 1000, 1 if qty_kg % 1000 else 0)
        unit, shown = "MT", rng.choice(("MT", "MT", "M.T.", "Metric Ton"))
    elif p.pack_size_kg in (25.0, 50.0) and rng.random() < 0.3:
        qty, unit, shown = round(qty_kg / p.pack_size_kg), "BAGS", "Bags"
        desc = f"{desc} in {int(p.pack_size_kg)} kg bags"
    else:
        qty, unit, shown = round(qty_kg), "KG", rng.choice(("Kg", "KG", "Kgs"))
    return NitItem(desc, float(qty), unit, p.name, shown)


def make_nit(
    rng: random.Random,
    *,
    tender_no: str,
    organisation: str,
    city: str,
    product: Product,
    qty_kg: float,
    published: date,
    bid_end: datetime,
    fmt: str | None = None,
) -> Nit:
    """A notice for `product` (plus 0-3 more catalogue items) closing at `bid_end`."""
    fmt = fmt or rng.choice(FORMATS)
    items = [_item(rng, product, qty_kg)]
    others = [p for p in PRODUCTS if p.name != product.name]
    for p in rng.sample(others, rng.choice((0, 0, 1, 2, 3))):
        kg = p.pack_size_kg * rng.randint(20, 400)
        items.append(_item(rng, p, float(round(kg / 1000) * 1000 or kg)))
    value = sum(
        (it.quantity * (1000 if it.unit == "MT" else 1) * (_pack(it) if it.unit == "BAGS" else 1))
        * (_price(it.product) * rng.uniform(0.95, 1.15))
        for it in items
    )
    value = max(value, 50000.0)
    shown: dict[str, str] = {}
    est: float | None = None
    if rng.random() < 0.85:
        if rng.random() < 0.4:
            lakh = round(value / 1e5, 2)
            est = round(lakh * 1e5, 2)
            shown["est"] = f"{lakh:.2f} Lakh"
        else:
            est = float(round(value))
            shown["est"] = indian_grouping(est) + rng.choice(("", ".00", "/-"))
    emd = float(round(value * 0.02, -2) or 1000)
    emd_form = rng.choice(("bank guarantee", "DD", "online", "exempt for MSME"))
    fee = rng.choice((None, 500.0, 1000.0, 1180.0, 2360.0, 5000.0))
    start = datetime.combine(published + timedelta(days=rng.randint(0, 2)), datetime.min.time())
    start = start.replace(hour=rng.choice((9, 10, 11, 17)), minute=rng.choice((0, 0, 30)))
    if bid_end <= start + timedelta(days=3):
        bid_end = start + timedelta(days=rng.randint(7, 21), hours=5)
    opening = bid_end + rng.choice((timedelta(minutes=30), timedelta(days=1, hours=-4)))
    pre_bid = venue = None
    if rng.random() < 0.5:
        pre_bid = (start + timedelta(days=rng.randint(2, 5))).replace(hour=11, minute=0)
        if pre_bid >= bid_end:
            pre_bid = start + timedelta(days=1)
        venue = rng.choice(_VENUES) if fmt != "cppp" or rng.random() < 0.7 else None
    turnover = rng.choice((None, 10e5, 25e5, 50e5, 100e5, 200e5)) if rng.random() < 0.8 else None
    experience = rng.choice((None, 2, 3, 5)) if rng.random() < 0.8 else None
    regs = sorted(rng.sample(REGISTRATIONS, rng.randint(0, 3)))
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    domain = re.sub(r"[^a-z]", "", organisation.lower().split(" ltd")[0].split(" limited")[0])
    domain = (_initials(organisation).lower() if len(domain) > 12 else domain) + ".co.in"
    email = f"{re.sub(r'[^a-z]', '', first.lower())[:6]}.{last.lower()}@{domain}"
    phone = rng.choice(
        (
            f"0{rng.randint(11, 99)}-{rng.randint(2000000, 2999999)}",
            f"+91 {rng.randint(70000, 99999)} {rng.randint(10000, 99999)}",
            f"{rng.randint(70000, 99999)}{rng.randint(10000, 99999)}",
        )
    )
    return Nit(
        fmt=fmt,
        tender_no=tender_no,
        organisation=organisation,
        department=rng.choice(("Materials Management", "Contracts & Procurement", "Stores")),
        city=city,
        items=items,
        published=published,
        bid_start=start,
        bid_end=bid_end,
        bid_opening=opening,
        estimated_value=est,
        emd=emd,
        emd_form=emd_form,
        tender_fee=fee,
        pre_bid=pre_bid,
        pre_bid_venue=venue,
        turnover=turnover,
        experience=experience,
        registrations=regs,
        contact_name=f"{first} {last}",
        contact_desig=rng.choice(_DESIG),
        contact_email=email,
        contact_phone=phone,
        shown=shown,
    )


def _pack(it: NitItem) -> float:
    p = next((p for p in PRODUCTS if p.name == it.product), None)
    return p.pack_size_kg if p else 25.0


def _price(name: str | None) -> float:
    p = next((p for p in PRODUCTS if p.name == name), None)
    return p.base_price_per_kg if p else 50.0


# --- how each layout writes it -----------------------------------------------------------------

# A layout line: ("h", text) heading, ("t", text) paragraph, ("kv", key, value),
# ("row", cells, xs, bold), ("gap",), ("page",)
Line = tuple[Any, ...]


def _rs(rng: random.Random, amount: float, scanned: bool) -> str:
    body = indian_grouping(amount)
    style = rng.choice(("Rs. {}", "Rs.{}/-", "INR {}", "Rs. {}/-") + (("₹ {}",) if scanned else ()))
    return style.format(body)


def _lakh(amount: float) -> str:
    return f"{amount / 1e5:g} Lakh"


def _emd_form_text(form: str) -> str:
    return {
        "bank guarantee": "Bank Guarantee from a scheduled bank",
        "DD": "Demand Draft in favour of the Accounts Officer",
        "online": "Online payment through the e-procurement portal",
        "exempt for MSME": "Exempted for MSE / MSME bidders (Udyam certificate required)",
    }[form]


def _dt(rng: random.Random, dt: datetime, fmt: str) -> str:
    if fmt == "cppp":
        return dt.strftime("%d-%b-%Y %I:%M %p")
    if fmt == "gem":
        return dt.strftime("%d-%m-%Y %H:%M:%S")
    style = rng.choice(("slash_pm", "dot_hrs", "dash_hrs"))
    if style == "slash_pm":
        return dt.strftime("%d/%m/%Y at ") + dt.strftime("%I:%M %p").lstrip("0")
    if style == "dot_hrs":
        return dt.strftime("%d.%m.%Y at %H:%M hrs")
    return dt.strftime("%d-%m-%Y, %H:%M hrs")


def _eligibility_lines(rng: random.Random, nit: Nit) -> list[str]:
    lines = []
    if nit.turnover is not None:
        lines.append(
            "Minimum average annual turnover of "
            + "Rs. "
            + rng.choice((_lakh(nit.turnover), indian_grouping(nit.turnover)))
            + " during the last three financial years."
        )
    if nit.experience is not None:
        lines.append(
            f"The bidder shall have at least {nit.experience} years of experience in supply of"
            " similar chemicals to Government / PSU buyers."
        )
    names = {
        "MSME": "MSME (Udyam) registration",
        "NSIC": "NSIC registration",
        "GST": "valid GST registration",
        "BIS": "BIS licence for the offered material",
        "ISO 9001": "ISO 9001 certification",
        "PESO": "PESO licence for storage",
    }
    for reg in nit.registrations:
        lines.append(f"Bidder must hold {names[reg]}.")
    return lines


def _items_table(nit: Nit) -> list[Line]:
    xs = (50, 90, 390, 470)
    lines: list[Line] = [("row", ("Sl.", "Description of Material", "Quantity", "Unit"), xs, True)]
    for i, it in enumerate(nit.items, start=1):
        q = f"{it.quantity:.1f}".removesuffix(".0")
        lines.append(("row", (str(i), it.description, q, it.shown_unit), xs, False))
    return lines


def notice_lines(rng: random.Random, nit: Nit, scanned: bool) -> list[Line]:
    """The notice as layout lines, in the style of its format."""
    fee = None if nit.tender_fee is None else _rs(rng, nit.tender_fee, scanned)
    est = nit.shown.get("est")
    if est is not None and not est.endswith("Lakh"):
        est = rng.choice(("Rs. ", "INR ") + (("₹ ",) if scanned else ())) + est
    elif est is not None:
        est = "Rs. " + est
    emd = _rs(rng, nit.emd, scanned) if nit.emd is not None else None
    contact = f"{nit.contact_name}, {nit.contact_desig}"
    L: list[Line] = []
    if nit.fmt == "cppp":
        L += [
            ("h", "Government of India - Central Public Procurement Portal"),
            ("h", "Tender Details"),
            ("gap",),
            ("kv", "Organisation Chain", f"{nit.organisation}||{nit.department}||{nit.city}"),
            ("kv", "Tender Reference Number", nit.tender_no),
            ("kv", "Tender Type", "Open Tender"),
            ("kv", "Title", f"Supply of {nit.items[0].description}"),
        ]
        if est:
            L.append(("kv", "Tender Value in Rs.", est.replace("Rs. ", "").replace("INR ", "")))
        L += [("kv", "EMD Amount in Rs.", emd.split(" ", 1)[-1] if emd else "NA")]
        L += [("kv", "EMD Payment Mode", _emd_form_text(nit.emd_form or "online"))]
        if fee:
            L.append(("kv", "Tender Fee in Rs.", fee.split(" ", 1)[-1] if " " in fee else fee))
        L += [
            ("gap",),
            ("h", "Critical Dates"),
            ("kv", "Published Date", nit.published.strftime("%d-%b-%Y") + " 06:00 PM"),
            ("kv", "Bid Submission Start Date", _dt(rng, nit.bid_start, "cppp")),
            ("kv", "Bid Submission End Date", _dt(rng, nit.bid_end, "cppp")),
            ("kv", "Bid Opening Date", _dt(rng, nit.bid_opening, "cppp")),
        ]
        if nit.pre_bid:
            L.append(("kv", "Pre Bid Meeting Date", _dt(rng, nit.pre_bid, "cppp")))
            if nit.pre_bid_venue:
                L.append(("kv", "Pre Bid Meeting Place", f"{nit.pre_bid_venue}, {nit.city}"))
        L += [("gap",), ("h", "Work Item Details / BOQ")] + _items_table(nit)
        elig = _eligibility_lines(rng, nit)
        if elig:
            L += [("gap",), ("h", "Eligibility Criteria")]
            L += [("t", f"{i}. {e}") for i, e in enumerate(elig, start=1)]
        L += [
            ("gap",),
            ("h", "Tender Inviting Authority"),
            ("kv", "Name", contact),
            ("kv", "Address", f"{nit.department}, {nit.organisation}, {nit.city}"),
            ("kv", "Email", nit.contact_email),
            ("kv", "Phone", nit.contact_phone),
        ]
    elif nit.fmt == "gem":
        L += [
            ("h", "Government e Marketplace"),
            ("h", "Bid Document"),
            ("gap",),
            ("h", "Bid Details"),
            ("kv", "Bid Number", nit.tender_no),
            ("kv", "Dated", nit.published.strftime("%d-%m-%Y")),
            ("kv", "Bid Start Date/Time", _dt(rng, nit.bid_start, "gem")),
            ("kv", "Bid End Date/Time", _dt(rng, nit.bid_end, "gem")),
            ("kv", "Bid Opening Date/Time", _dt(rng, nit.bid_opening, "gem")),
            ("kv", "Bid Offer Validity (From End Date)", "90 (Days)"),
            ("kv", "Organisation Name", nit.organisation),
            ("kv", "Department Name", nit.department),
            ("kv", "Office Name", nit.city),
            ("kv", "Item Category", nit.items[0].description),
        ]
        if nit.turnover is not None:
            L.append(
                (
                    "kv",
                    "Minimum Average Annual Turnover of the bidder (For 3 Years)",
                    f"{nit.turnover / 1e5:g} Lakh (s)",
                )
            )
        if nit.experience is not None:
            L.append(("kv", "Years of Past Experience Required", f"{nit.experience} Year (s)"))
        if nit.registrations:
            L.append(("kv", "Registrations required", ", ".join(nit.registrations)))
        if est:
            L.append(("kv", "Estimated Bid Value", est))
        if nit.pre_bid:
            L.append(("kv", "Pre-Bid Date and Time", _dt(rng, nit.pre_bid, "gem")))
            if nit.pre_bid_venue:
                L.append(("kv", "Pre-Bid Venue", f"{nit.pre_bid_venue}, {nit.city}"))
        L += [
            ("gap",),
            ("h", "EMD Detail"),
            ("kv", "EMD Amount", f"{nit.emd:.0f}" if nit.emd else "NA"),
            ("kv", "EMD Mode", _emd_form_text(nit.emd_form or "online")),
        ]
        if fee:
            L.append(("kv", "Document Cost", fee))
        L += [("gap",), ("h", "Schedule of Requirement")] + _items_table(nit)
        L += [
            ("gap",),
            ("h", "Buyer Contact"),
            ("kv", "Contact Person", contact),
            ("kv", "Email", nit.contact_email),
            ("kv", "Phone", nit.contact_phone),
        ]
    else:
        L += [
            ("h", nit.organisation.upper()),
            ("t", f"{nit.department} Department, {nit.city}"),
            ("gap",),
            ("h", "NOTICE INVITING TENDER"),
            ("t", f"NIT No.: {nit.tender_no}    Dated: {nit.published.strftime('%d.%m.%Y')}"),
            ("gap",),
            (
                "t",
                f"{nit.organisation} invites sealed bids under the two-bid system from eligible"
                " bidders for the following work:",
            ),
            ("t", f"Name of Work: Supply of {nit.items[0].description} to {nit.city} stores"),
            ("gap",),
        ]
        L += _items_table(nit) + [("gap",)]
        if est:
            L.append(("t", f"Estimated Cost: {est}"))
        if emd:
            L.append(
                (
                    "t",
                    f"Earnest Money Deposit (EMD): {emd} by {_emd_form_text(nit.emd_form or 'DD')}",
                )
            )
        if fee:
            L.append(("t", f"Cost of Tender Document: {fee} (non-refundable)"))
        L += [
            (
                "t",
                f"Date of sale / download of bid documents: from {_dt(rng, nit.bid_start, 'psu')}",
            ),
            ("t", f"Last date and time for submission of bids: {_dt(rng, nit.bid_end, 'psu')}"),
            (
                "t",
                f"Date and time of opening of technical bids: {_dt(rng, nit.bid_opening, 'psu')}",
            ),
        ]
        if nit.pre_bid:
            venue = f" in the {nit.pre_bid_venue}, {nit.city}" if nit.pre_bid_venue else ""
            L.append(("t", f"Pre-bid meeting: {_dt(rng, nit.pre_bid, 'psu')}{venue}."))
        elig = _eligibility_lines(rng, nit)
        if elig:
            L += [("gap",), ("h", "Eligibility Criteria")]
            L += [("t", f"({chr(97 + i)}) {e}") for i, e in enumerate(elig)]
        L += [
            ("gap",),
            ("t", f"For further details contact: Shri/Smt. {contact}"),
            ("t", f"Phone: {nit.contact_phone}    Email: {nit.contact_email}"),
            ("gap",),
            ("t", f"Sd/- {nit.department} Department"),
        ]
    clauses = rng.sample(_CLAUSES, rng.choice((0, 2, 4, 8, len(_CLAUSES))))
    if clauses:
        L += [("page",) if rng.random() < 0.5 else ("gap",), ("h", "General Terms and Conditions")]
        L += [("t", f"{i}. {c}") for i, c in enumerate(clauses, start=1)]
    return L


_CLAUSES = (
    "Bids shall be submitted online only; no physical bid will be accepted.",
    "The rates quoted shall be firm till complete execution of the order, inclusive of all"
    " taxes and freight up to the consignee's stores.",
    "Material shall be supplied with a manufacturer's test certificate for every batch.",
    "The purchaser reserves the right to accept or reject any or all bids without assigning"
    " any reason.",
    "Delivery shall be completed within 30 days from the date of the purchase order.",
    "Liquidated damages at 0.5% per week of delay, subject to a maximum of 10% of the order"
    " value, shall be levied.",
    "Payment: 100% within 30 days of receipt and acceptance of material at site.",
    "Samples may be drawn at the consignee's end and tested at a NABL accredited laboratory.",
    "Conditional bids and bids received after the due date and time shall be rejected.",
    "Any dispute shall be subject to the jurisdiction of the courts at the purchaser's city.",
    "Bidders shall upload scanned copies of all documents in support of eligibility.",
    "Performance security of 5% of the order value shall be furnished by the successful bidder.",
)


# --- pages: text layer or scan ---------------------------------------------------------------


def layout(lines: list[Line], rng: random.Random) -> list[list[Placed]]:
    """Place lines on A4 pages (points, origin bottom-left); long text wraps."""
    pages: list[list[Placed]] = [[]]
    y = 842 - 60
    size = 10.0
    for line in lines:
        kind = line[0]
        if kind == "page" or y < 70:
            pages.append([])
            y = 842 - 60
            if kind == "page":
                continue
        if kind == "gap":
            y -= 8
            continue
        if kind == "h":
            pages[-1].append((50, y, line[1], 12.0, True))
            y -= 18
        elif kind == "t":
            for part in textwrap.wrap(line[1], 92):
                pages[-1].append((50, y, part, size, False))
                y -= 14
        elif kind == "kv":
            parts = textwrap.wrap(line[2], 52) or [""]
            pages[-1].append((50, y, line[1], size, True))
            if len(line[1]) >= 40:
                y -= 14
            for part in parts:
                pages[-1].append((260, y, part, size, False))
                y -= 14
        elif kind == "row":
            _, cells, xs, bold = line
            wrapped = textwrap.wrap(cells[1], 55) or [""]
            for col, (x, cell) in enumerate(zip(xs, cells, strict=True)):
                pages[-1].append((x, y, wrapped[0] if col == 1 else cell, size, bold))
            y -= 14
            for more in wrapped[1:]:
                pages[-1].append((xs[1], y, more, size, bold))
                y -= 14
    return [p for p in pages if p]


@lru_cache(maxsize=4)
def _font(size_px: int, bold: bool) -> Any:
    from PIL import ImageFont

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(f"{FONT_DIR}/{name}", size_px)


def scan_page(
    placed: list[Placed], rng: random.Random, dpi: int = SCAN_DPI
) -> tuple[bytes, int, int]:
    """A page as a photocopier would scan it: grayscale, skewed 0.5-2 degrees, sometimes a
    little blurred, with a grainy background and dark specks, saved as a low-quality JPEG."""
    from PIL import Image, ImageChops, ImageDraw, ImageFilter

    scale = dpi / 72
    w, h = round(595 * scale), round(842 * scale)
    img = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(img)
    ink = rng.randint(10, 60)
    for x, y, text, size, bold in placed:
        font = _font(round(size * scale), bold)
        draw.text((x * scale, (842 - y - size) * scale), text, fill=ink, font=font)
    for _ in range(300):
        draw.point((rng.randrange(w), rng.randrange(h)), fill=rng.randrange(0, 120))
    angle = rng.uniform(0.5, 2.0) * rng.choice((-1, 1))
    img = img.rotate(angle, resample=Image.Resampling.NEAREST, fillcolor=255)
    if rng.random() < 0.3:
        img = img.filter(ImageFilter.BoxBlur(0.5))
    # grain: a coarse random field (6x6 pixel cells) darkening the page by up to 14 levels
    gw, gh = (w + 5) // 6, (h + 5) // 6
    grain = Image.frombytes("L", (gw, gh), rng.randbytes(gw * gh)).point(lambda v: v * 15 // 256)
    img = ImageChops.subtract(img, grain.resize((w, h), Image.Resampling.NEAREST))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=rng.randint(30, 50))
    return buf.getvalue(), w, h


def nit_pdf(nit: Nit, rng: random.Random, scanned: bool) -> bytes:
    """The notice as a PDF: text layer, or (scanned) page images only."""
    pages = layout(notice_lines(rng, nit, scanned), rng)
    if not scanned:
        return text_pdf(pages)
    return image_pdf([scan_page(p, rng) for p in pages])


def nit_filename(nit: Nit) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "_", nit.tender_no).strip("_")[:40]
    return f"NIT_{slug}.pdf"


# --- attaching a notice to a tender mail -----------------------------------------------------


def notice_rng(message_id: str) -> random.Random:
    """The notice's own random stream, derived from its mail's message id."""
    return random.Random(int.from_bytes(hashlib.sha256(f"nit|{message_id}".encode()).digest()[:8]))


def due_datetime(text: str) -> datetime | None:
    """The bid due date as the mail writes it (`05-01-2026 15:00`, `05.01.2026`,
    `5 January 2026`); a date without a time closes at 15:00."""
    for fmt in ("%d-%m-%Y %H:%M", "%d.%m.%Y", "%d %B %Y"):
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed if fmt.endswith("%M") else parsed.replace(hour=15)
    return None


def attach_notice(
    raw: bytes,
    rng: random.Random,
    *,
    tender_no: str,
    organisation: str,
    city: str,
    product: Product,
    qty_kg: float,
    when: datetime,
    due_text: str,
) -> tuple[bytes, dict[str, Any]]:
    """The mail `raw` with a NIT PDF attached (text layer or scan, about half each), and the
    notice's truth for the world's truth file. MIME boundaries come from `rng` too."""
    from email import message_from_bytes
    from email.policy import default as default_policy

    notice = make_nit(
        rng,
        tender_no=tender_no,
        organisation=organisation,
        city=city,
        product=product,
        qty_kg=qty_kg,
        published=when.date(),
        bid_end=due_datetime(due_text) or when.replace(tzinfo=None),
    )
    scanned = rng.random() < 0.5
    pdf = nit_pdf(notice, rng, scanned=scanned)
    filename = nit_filename(notice)
    msg = message_from_bytes(raw, policy=default_policy)
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
    for part in msg.walk():
        if part.is_multipart():
            token = "".join(rng.choice("0123456789abcdef") for _ in range(24))
            part.set_boundary(f"----=_Part_{token}")
    truth = {
        "filename": filename,
        "kind": "scanned" if scanned else "text",
        "format": notice.fmt,
        "fields": notice.truth(),
    }
    return msg.as_bytes(), truth
