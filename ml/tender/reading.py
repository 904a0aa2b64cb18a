"""Reading a NIT PDF: text layer first, OCR for pages without one, then the fields.

Invariants:
- never raises for bad input: a corrupt, encrypted or non-PDF file gives method "none" and
  a clear `error`; a Devanagari-only notice gives its text and an `error` saying so;
- at most `max_pages` pages are read; page renders are capped at `MAX_RENDER_PIXELS`
  (a huge MediaBox is rendered at a lower resolution, never allocated whole);
- OCR runs tesseract on up to `OCR_WORKERS` pages at once, one thread each, so a 2-core
  machine is kept busy without oversubscription.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import subprocess
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from ml.tender.fields import extract_fields
from ml.tender.model import NoticeReading

log = logging.getLogger(__name__)

EXTRACTOR_VERSION = "tender-1.0"

OCR_DPI = 200
OCR_PSM = 6  # one uniform block: keeps a label and its value (two columns) on one line
OCR_WORKERS = 2
OCR_TIMEOUT_S = 60
MAX_RENDER_PIXELS = 16_000_000
MAX_RENDER_SIDE = 6000
MIN_PAGE_CHARS = 20  # fewer alphanumerics than this: the page has no usable text layer
TEXT_CONFIDENCE = 0.9
OCR_CONFIDENCE = 0.75

_DEVANAGARI = re.compile(r"[\u0900-\u097F]")
_LATIN = re.compile(r"[A-Za-z]")


def _fail(error: str, pages: int = 0) -> NoticeReading:
    return NoticeReading(
        text="", method="none", pages=pages, ocr_seconds=None, fields={}, error=error
    )


def _meaningful(text: str) -> bool:
    return sum(c.isalnum() for c in text) >= MIN_PAGE_CHARS


def tesseract_path() -> str | None:
    return shutil.which("tesseract")


def ocr_image(gray, dpi: int = OCR_DPI, psm: int = OCR_PSM, extra: Sequence[str] = ()) -> str:
    """Text of a grayscale PIL image by tesseract (English), one thread."""
    header = f"P5\n{gray.width} {gray.height}\n255\n".encode()
    cmd = [tesseract_path() or "tesseract", "stdin", "stdout", "-l", "eng", "--dpi", str(dpi)]
    if psm:
        cmd += ["--psm", str(psm)]
    cmd += list(extra)
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    done = subprocess.run(
        cmd,
        input=header + gray.tobytes(),
        capture_output=True,
        timeout=OCR_TIMEOUT_S,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"tesseract failed: {done.stderr.decode(errors='replace')[-200:]}")
    return done.stdout.decode("utf-8", errors="replace")


def render_page(doc, index: int, dpi: int = OCR_DPI):
    """Page `index` of a pypdfium2 document as a grayscale PIL image, at `dpi` or lower when
    the page is so large that the render would exceed the pixel caps."""
    page = doc[index]
    try:
        w_pt, h_pt = page.get_size()
        scale = dpi / 72
        if w_pt * h_pt * scale * scale > MAX_RENDER_PIXELS:
            scale = (MAX_RENDER_PIXELS / max(w_pt * h_pt, 1.0)) ** 0.5
        scale = min(scale, MAX_RENDER_SIDE / max(w_pt, h_pt, 1.0))
        bitmap = page.render(scale=scale, grayscale=True)
        image = bitmap.to_pil().convert("L")
    finally:
        page.close()
    return image


def _text_layer(pdf: bytes, max_pages: int) -> tuple[list[str], int]:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        total = len(doc.pages)
        texts = []
        for page in doc.pages[:max_pages]:
            try:
                texts.append(page.extract_text() or "")
            except Exception as exc:  # a damaged content stream: treat as no text layer
                log.debug("text layer of a page failed: %s", exc)
                texts.append("")
            page.close()
    return texts, total


def _ocr_pages(pdf: bytes, indexes: list[int], dpi: int, psm: int) -> dict[int, str]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf, password="")
    out: dict[int, str] = {}
    try:
        with ThreadPoolExecutor(max_workers=OCR_WORKERS) as pool:
            futures = {}
            for i in indexes:  # rendering is not thread-safe in pdfium; tesseract runs aside
                futures[i] = pool.submit(ocr_image, render_page(doc, i, dpi), dpi, psm)
            for i, fut in futures.items():
                out[i] = fut.result()
    finally:
        doc.close()
    return out


def _classify_open_error(exc: BaseException) -> str:
    """A reader's message for why the PDF would not open (pdfplumber wraps pdfminer's error)."""
    chain: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and len(chain) < 5:
        chain.append(cur)
        cur = (
            cur.__cause__
            or cur.__context__
            or next((a for a in getattr(cur, "args", ()) if isinstance(a, BaseException)), None)
        )
    for e in chain:
        text = f"{type(e).__name__} {e}".lower()
        if "password" in text or "encrypt" in text:
            return "encrypted PDF: it needs a password to open"
    last = chain[-1]
    return f"not a readable PDF ({type(last).__name__}: {str(last)[:120]})"


def read_notice(
    pdf: bytes,
    *,
    ocr: bool = True,
    max_pages: int = 30,
    products: Sequence[str] = (),
    dpi: int = OCR_DPI,
    psm: int = OCR_PSM,
) -> NoticeReading:
    """Read a NIT PDF's text (text layer, else OCR) and its fields. Never raises for bad input."""
    if not isinstance(pdf, bytes | bytearray) or not pdf:
        return _fail("empty input: no bytes")
    if b"%PDF-" not in bytes(pdf[:1024]):
        return _fail("not a PDF: no %PDF- header")
    try:
        texts, total = _text_layer(bytes(pdf), max_pages)
    except Exception as exc:
        return _fail(_classify_open_error(exc))
    if total == 0:
        return _fail("the PDF has no pages")
    need = [i for i, t in enumerate(texts) if not _meaningful(t)]
    method = "text_layer"
    ocr_seconds = None
    error = None
    if need and ocr:
        if tesseract_path() is None:
            error = "OCR needed but tesseract is not installed"
        else:
            started = time.perf_counter()
            try:
                for i, t in _ocr_pages(bytes(pdf), need, dpi, psm).items():
                    texts[i] = t
                method = "ocr"
            except Exception as exc:
                error = f"OCR failed: {type(exc).__name__}: {str(exc)[:160]}"
            ocr_seconds = round(time.perf_counter() - started, 3)
    elif need and len(need) == len(texts):
        return NoticeReading("", "none", total, None, {}, "no text layer and OCR is off")
    text = "\n\n".join(t.strip("\n") for t in texts)
    if not text.strip():
        return NoticeReading(text, "none", total, ocr_seconds, {}, error or "no text on any page")
    if _DEVANAGARI.search(text) and len(_LATIN.findall(text)) < 20:
        error = "the notice is in Devanagari script only; fields are read from English text"
        return NoticeReading(text, method, total, ocr_seconds, {}, error)
    base = OCR_CONFIDENCE if method == "ocr" else TEXT_CONFIDENCE
    fields = extract_fields(text, products, base=base)
    return NoticeReading(text, method, total, ocr_seconds, fields, error)
