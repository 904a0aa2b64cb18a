"""Tiny, valid one-page PDFs (purchase orders, COAs) for demo mail attachments."""

from __future__ import annotations


def _escape(line: str) -> str:
    text = line.replace("₹", "Rs.").encode("latin-1", "replace").decode("latin-1")
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def tiny_pdf(title: str, lines: list[str]) -> bytes:
    """A one-page PDF 1.4 showing `title` and `lines` in Helvetica, with a correct xref table."""
    ops = ["BT", "/F1 14 Tf", "50 790 Td", f"({_escape(title)}) Tj", "/F1 10 Tf", "16 TL", "T*"]
    for line in lines[:45]:
        ops.append(f"({_escape(line)}) '")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode()
    out += b"0000000000 65535 f \n"
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


# --- multi-page notices: positioned text, or page images (scans) ----------------------------

#: One piece of text on a page: x and y in points from the bottom-left, size, bold.
Placed = tuple[float, float, str, float, bool]


def _write_pdf(objects: list[bytes]) -> bytes:
    """Serialise numbered objects (object 1 is the catalog) with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode()
    out += b"0000000000 65535 f \n"
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return (
        b"<< /Length " + str(len(data)).encode() + extra + b" >>\nstream\n" + data + b"\nendstream"
    )


def text_pdf(pages: list[list[Placed]], width: float = 595, height: float = 842) -> bytes:
    """A multi-page PDF with a text layer: every piece placed where the layout says,
    Helvetica (bold: Helvetica-Bold), text in Latin-1 (₹ is written as Rs.)."""
    n = len(pages)
    # objects: 1 catalog, 2 pages, 3 font, 4 bold font, then (page, content) per page
    kids = " ".join(f"{5 + 2 * i} 0 R" for i in range(n))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
    ]
    for i, placed in enumerate(pages):
        ops = []
        for x, y, text, size, bold in placed:
            font = "/F2" if bold else "/F1"
            ops.append(f"BT {font} {size:g} Tf {x:.1f} {y:.1f} Td ({_escape(text)}) Tj ET")
        stream = "\n".join(ops).encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width:g} {height:g}] "
            f"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {6 + 2 * i} 0 R >>".encode()
        )
        objects.append(_stream(stream))
    return _write_pdf(objects)


def image_pdf(
    pages: list[tuple[bytes, int, int]], width: float = 595, height: float = 842
) -> bytes:
    """An image-only PDF (a scan): one grayscale JPEG (bytes, pixel width, pixel height)
    filling each page, no text layer."""
    if not pages:
        raise ValueError("a PDF needs at least one page")
    n = len(pages)
    kids = " ".join(f"{3 + 3 * i} 0 R" for i in range(n))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode(),
    ]
    for i, (jpeg, w, h) in enumerate(pages):
        content, image = 4 + 3 * i, 5 + 3 * i  # the page itself is object 3 + 3 * i
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width:g} {height:g}] "
            f"/Resources << /XObject << /Im0 {image} 0 R >> >> /Contents {content} 0 R >>".encode()
        )
        objects.append(_stream(f"q {width:g} 0 0 {height:g} 0 0 cm /Im0 Do Q".encode()))
        objects.append(
            _stream(
                jpeg,
                f" /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /DeviceGray"
                " /BitsPerComponent 8 /Filter /DCTDecode".encode(),
            )
        )
    return _write_pdf(objects)
