"""read_notice on good and bad PDFs: a clear error or method, never an exception."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader, PdfWriter

from ml.tender import EXTRACTOR_VERSION, NoticeReading, read_notice
from tests.tender.pdfs import devanagari_pdf, huge_blank_pdf, small_notice_pdf, zero_page_pdf


def _encrypted(pdf: bytes, user_password: str) -> bytes:
    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        writer.add_page(page)
    writer.encrypt(user_password=user_password, owner_password="owner-secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_text_notice_reads_from_its_text_layer() -> None:
    r = read_notice(small_notice_pdf())
    assert r.error is None and r.method == "text_layer" and r.pages == 1
    assert r.ocr_seconds is None
    assert r.fields["tender_no"].value == "ABC/MM/2025/0042"
    assert r.fields["emd_amount_inr"].value == 25000.0
    assert r.fields["emd_form"].value == "DD"
    assert r.fields["bid_end"].value == "2025-09-15T15:00:00+05:30"
    stored = r.fields_json()
    assert stored["tender_no"] == {
        "value": "ABC/MM/2025/0042",
        "evidence": r.fields["tender_no"].evidence,
        "start": r.fields["tender_no"].start,
        "end": r.fields["tender_no"].end,
        "confidence": r.fields["tender_no"].confidence,
    }
    assert EXTRACTOR_VERSION


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "empty"),
        (b"PK\x03\x04 this is a zip, not a pdf", "not a PDF"),
        (b"%PDF-1.4\n" + bytes(range(256)) * 20, "not a readable PDF"),
        (small_notice_pdf()[:300], "not a readable PDF"),
        (zero_page_pdf(), "no pages"),
    ],
    ids=["empty", "not-pdf", "garbage-after-header", "truncated", "zero-pages"],
)
def test_bad_inputs_give_a_clear_error(data: bytes, needle: str) -> None:
    r = read_notice(data)
    assert isinstance(r, NoticeReading)
    assert r.method == "none" and r.fields == {}
    assert needle in (r.error or "")


def test_encrypted_pdf_needing_a_password_is_refused_clearly() -> None:
    r = read_notice(_encrypted(small_notice_pdf(), "secret"))
    assert r.method == "none"
    assert "encrypted" in r.error


def test_encrypted_pdf_with_empty_user_password_is_read() -> None:
    r = read_notice(_encrypted(small_notice_pdf(), ""))
    assert r.error is None and r.method == "text_layer"
    assert r.fields["tender_no"].value == "ABC/MM/2025/0042"


def test_huge_page_is_rendered_within_the_pixel_cap() -> None:
    r = read_notice(huge_blank_pdf())
    assert r.pages == 1
    assert r.method == "none" and "no text" in r.error  # blank: OCR ran, found nothing
    assert r.ocr_seconds is not None


def test_devanagari_only_notice_is_flagged_not_misread() -> None:
    r = read_notice(devanagari_pdf())
    assert r.method == "text_layer"
    assert "निविदा" in r.text
    assert r.fields == {}
    assert "Devanagari" in r.error


def test_ocr_off_on_a_scan_says_so(nit_dir) -> None:
    r = read_notice((nit_dir / "scanned_05_gem.pdf").read_bytes(), ocr=False)
    assert r.method == "none" and "OCR is off" in r.error


def test_max_pages_limits_what_is_read(nit_dir) -> None:
    pdf = (nit_dir / "text_04_cppp.pdf").read_bytes()
    full, first = read_notice(pdf), read_notice(pdf, max_pages=1)
    assert full.pages == first.pages == 2
    assert len(first.text) < len(full.text)
