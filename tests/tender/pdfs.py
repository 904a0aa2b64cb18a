"""PDFs for the reader's tests, built here byte by byte so that each bad shape is exactly one."""

from __future__ import annotations

from pathlib import Path

from demo.world.pdf import _stream, _write_pdf, text_pdf

NIT_DIR = Path(__file__).resolve().parents[1] / "data" / "nit"


def zero_page_pdf() -> bytes:
    return _write_pdf(
        [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
    )


def huge_blank_pdf(side_pt: int = 14400) -> bytes:
    """One blank page of 200 x 200 inches (the PDF maximum): no text layer, so it is OCR'd."""
    return _write_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {side_pt} {side_pt}] "
            "/Contents 4 0 R >>".encode(),
            _stream(b"0.9 g 100 100 200 200 re f"),
        ]
    )


def devanagari_pdf() -> bytes:
    """A text layer whose every character maps (ToUnicode) to Devanagari: a Hindi-only NIT."""
    hindi = "निविदा सूचना दिल्ली जल बोर्ड आपूर्ति कास्टिक सोडा बयाना राशि अंतिम तिथि"
    chars = sorted(set(hindi.replace(" ", "")))
    codes = {ch: 0x41 + i for i, ch in enumerate(chars)}  # 'A'.. as glyph codes
    cmap_lines = "\n".join(f"<{codes[ch]:02X}> <{ord(ch):04X}>" for ch in chars)
    cmap = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        "/CMapName /Hindi def /CMapType 2 def\n"
        "1 begincodespacerange <00> <FF> endcodespacerange\n"
        f"{len(chars) + 1} beginbfchar\n<20> <0020>\n{cmap_lines}\nendbfchar\n"
        "endcmap CMapName currentdict /CMap defineresource pop end end"
    ).encode()
    shown = "".join(" " if ch == " " else chr(codes[ch]) for ch in hindi)
    content = f"BT /F1 12 Tf 50 780 Td ({shown}) Tj ET".encode()
    return _write_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>",
            _stream(content),
            _stream(cmap),
        ]
    )


def small_notice_pdf() -> bytes:
    lines = [
        "NOTICE INVITING TENDER",
        "NIT No.: ABC/MM/2025/0042 Dated: 01.09.2025",
        "Earnest Money Deposit (EMD): Rs. 25,000/- by Demand Draft",
        "Last date and time for submission of bids: 15/09/2025 at 3:00 PM",
    ]
    return text_pdf([[(50, 780 - 16 * i, line, 10, False) for i, line in enumerate(lines)]])
