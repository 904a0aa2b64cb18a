"""Tender mail for the Tender IQ tests: NIT PDFs written here (a text-layer notice with
fpdf2, a scanned one as a page image with Pillow, a corrupt one), attached to .eml files
landed through the mail loader, and the scoring's answer for them in ml.email_predictions.

Dates are relative to today in IST, so the due-date rules are exercised whatever day the
tests run.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql

IST = ZoneInfo("Asia/Kolkata")
ORGANISATION = "Bharat Petroleum Corporation Limited"
STOCK_ITEMS = ("Caustic Soda Flakes", "Soda Ash Light", "Hydrogen Peroxide 50%")
MODELS = Path(__file__).resolve().parents[2] / "dbt" / "models"


def today() -> date:
    return datetime.now(IST).date()


@dataclass(frozen=True)
class Notice:
    """What a notice says (the values the reader should find)."""

    tender_no: str
    organisation: str
    bid_end: datetime
    emd_inr: int
    estimated_value_inr: int
    items: tuple[tuple[str, int, str], ...]

    def lines(self) -> list[str]:
        end = self.bid_end.strftime("%d.%m.%Y %H:%M")
        opening = (self.bid_end + timedelta(days=1)).strftime("%d.%m.%Y %H:%M")
        start = (self.bid_end - timedelta(days=20)).strftime("%d.%m.%Y %H:%M")
        rows = [f"{i}. {d} {q} {u}" for i, (d, q, u) in enumerate(self.items, 1)]
        return [
            "NOTICE INVITING TENDER",
            f"Organisation Name: {self.organisation}",
            f"Tender Reference Number: {self.tender_no}",
            f"Bid Submission Start Date: {start}",
            f"Bid Submission End Date: {end}",
            f"Bid Opening Date: {opening}",
            f"Earnest Money Deposit: Rs. {self.emd_inr:,}",
            f"Estimated Value: Rs. {self.estimated_value_inr:,}",
            "",
            "Sl. Description of Item Quantity",
            *rows,
            "",
            "Contact: Purchase Officer, tenders@bpcl.example, 022-22714000",
        ]


def notice(tender_no: str, days_to_bid_end: int, items=(("Caustic Soda Flakes", 20, "MT"),),
           organisation: str = ORGANISATION) -> Notice:  # fmt: skip
    end = datetime.combine(today() + timedelta(days=days_to_bid_end), datetime.min.time(), IST)
    return Notice(tender_no, organisation, end.replace(hour=15), 37_000, 18_50_000, tuple(items))


def text_pdf(n: Notice) -> bytes:
    """The notice with a text layer."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in n.lines():
        pdf.cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def scanned_pdf(n: Notice) -> bytes:
    """The notice as a scan: one page image, no text layer."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 30)
    page = Image.new("L", (1654, 2339), 255)  # A4 at 200 dpi
    draw = ImageDraw.Draw(page)
    for i, line in enumerate(n.lines()):
        draw.text((120, 150 + i * 52), line, fill=0, font=font)
    out = io.BytesIO()
    page.save(out, format="PDF", resolution=200.0)
    return out.getvalue()


CORRUPT_PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nstream\x00\xff garbage"


def eml(folder: Path, name: str, subject: str, attachments: dict[str, bytes],
        mailbox: str = "tenders@pebbledemo.in", day: int = 0) -> Path:  # fmt: skip
    """An .eml from a buyer with ``attachments`` (file name -> bytes)."""
    message = EmailMessage()
    message["From"] = "Purchase Officer <purchase@bpcl.example>"
    message["To"] = mailbox
    message["Subject"] = subject
    sent = datetime(2026, 11, 2, 10, 0, tzinfo=IST) + timedelta(days=day)
    message["Date"] = sent.strftime("%a, %d %b %Y %H:%M:%S %z")
    message["Message-ID"] = f"<{name}@bpcl.example>"
    message.set_content("Please find the tender notice attached.\n\nPurchase Officer")
    for filename, data in attachments.items():
        maintype, subtype = (
            ("application", "pdf") if filename.endswith(".pdf") else ("text", "plain")
        )
        if maintype == "text":
            message.add_attachment(data.decode(), subtype=subtype, filename=filename)
        else:
            message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.eml"
    path.write_bytes(bytes(message))
    return path


def land(conn: psycopg.Connection, paths: list[Path]) -> None:
    from ingest.mail.sync import sync

    report = sync(conn, paths)
    assert report.landed == len(paths), report


def email_key(conn: psycopg.Connection, subject: str) -> str:
    row = conn.execute("SELECT email_key FROM raw.emails WHERE subject = %s", (subject,)).fetchone()
    assert row is not None, subject
    return row[0]


def predict(conn: psycopg.Connection, subject: str, stream: str) -> str:
    """The scoring's answer for the mail with ``subject`` (what ml/email_predictions writes)."""
    key = email_key(conn, subject)
    intent = {"tender": "tender_notice", "crm": "price_enquiry"}[stream]
    conn.execute(
        "INSERT INTO ml.email_predictions (email_key, model_version, stream, intent, confidence,"
        " stream_confidence, requires_review) VALUES (%s, 'test-model', %s, %s, 0.93, 0.95,"
        " false)",
        (key, stream, intent),
    )
    return key


def stock_master(conn: psycopg.Connection, names=STOCK_ITEMS) -> None:
    """marts.stock_levels with the columns and types of its contract, holding ``names``."""
    import yaml

    (yml,) = MODELS.glob("marts/**/stock_levels.yml")
    (model,) = [m for m in yaml.safe_load(yml.read_text())["models"] if m["name"] == "stock_levels"]
    columns = [
        sql.SQL("{} {}").format(sql.Identifier(c["name"]), sql.SQL(c["data_type"]))
        for c in model["columns"]
    ]
    conn.execute("CREATE SCHEMA IF NOT EXISTS marts")
    conn.execute(
        sql.SQL("CREATE TABLE marts.stock_levels ({})").format(sql.SQL(", ").join(columns))
    )
    for i, name in enumerate(names, 1):
        conn.execute(
            "INSERT INTO marts.stock_levels (stock_item_guid, product_name, master_id)"
            " VALUES (%s, %s, %s)",
            (f"guid-{i}", name, i),
        )
