"""Reading NIT PDFs: throughput, peak memory and accuracy of Tender IQ's reader.

    .venv/bin/python bench/bench_tender.py [--json bench/tender.json] [--skip-naive]

Inputs: the committed fixtures (tests/data/nit: text-layer and scanned notices with
hand-typed truth). Each path runs in a child process of its own, its process tree's peak RSS
sampled (tesseract included):
- ours: `read_notice` (text layer first; OCR only pages without one, 200 dpi, --psm 6, two
  tesseract processes at once, one thread each);
- naive: every page of every PDF rendered at 300 dpi and OCR'd with tesseract's default
  settings, one page after another, even when a text layer exists; fields then read from
  that text with the same rules.
Also: seconds to read a 10-page scanned NIT (target < 30 s on 2 cores), and field-level
F1 for text and scanned notices on the hand-typed truth (the naive F1 in the note).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

NIT_DIR = ROOT / "tests" / "data" / "nit"


def ten_page_scan() -> bytes:
    """A 10-page scanned notice: the pages of several generated notices, each scanned."""
    from datetime import date, datetime

    from demo.world.catalogue import PRODUCTS
    from demo.world.nit import layout, make_nit, notice_lines, scan_page
    from demo.world.pdf import image_pdf

    rng = random.Random(10)
    pages = []
    while len(pages) < 10:
        nit = make_nit(
            rng,
            tender_no=f"BENCH/{len(pages)}/2025",
            organisation="NTPC Limited",
            city="Noida",
            product=rng.choice(PRODUCTS),
            qty_kg=24000.0,
            published=date(2025, 8, 1),
            bid_end=datetime(2025, 9, 1, 15, 0),
        )
        for placed in layout(notice_lines(rng, nit, True), rng):
            pages.append(scan_page(placed, rng))
    return image_pdf(pages[:10])


# --- children ---------------------------------------------------------------------------------


def naive_read(pdf: bytes) -> str:
    """Every page at 300 dpi through tesseract with its defaults (pytesseract's plain call)."""
    import pypdfium2 as pdfium
    import pytesseract

    doc = pdfium.PdfDocument(pdf)
    texts = []
    try:
        for i in range(len(doc)):
            image = doc[i].render(scale=300 / 72).to_pil()
            texts.append(pytesseract.image_to_string(image))
    finally:
        doc.close()
    return "\n\n".join(texts)


def child(path: str, out: str) -> None:
    from ml.tender import extract_fields, read_notice
    from ml.tender.evaluate import catalogue_names, evaluate, fixture_truth

    truth = fixture_truth(NIT_DIR)
    products = catalogue_names()
    rows, pages = [], 0
    started = time.perf_counter()
    for name in sorted(truth):
        pdf = (NIT_DIR / name).read_bytes()
        if path == "ours":
            reading = read_notice(pdf, products=products)
            fields, pages = reading.fields, pages + reading.pages
        else:
            fields = extract_fields(naive_read(pdf), products)
        rows.append(
            (
                name,
                truth[name]["kind"],
                truth[name]["fields"],
                {k: v.value for k, v in fields.items()},
            )
        )
    seconds = time.perf_counter() - started
    report = evaluate(rows)
    result = {
        "n": len(rows),
        "seconds": round(seconds, 2),
        "f1": {k: report[k]["f1"] for k in ("text", "scanned")},
        "by_kind": {
            k: {x: report[k][x] for x in ("notices", "precision", "recall", "f1")}
            for k in ("text", "scanned")
        },
    }
    if path == "ours":
        scan = ten_page_scan()
        t = time.perf_counter()
        reading = read_notice(scan, products=products)
        result["ocr_10_page_s"] = round(time.perf_counter() - t, 2)
        result["ocr_10_page_method"] = reading.method
        result["ocr_10_page_pages"] = reading.pages
    Path(out).write_text(json.dumps(result))


# --- parent ------------------------------------------------------------------------------------


def run(path: str, work: Path) -> tuple[dict, float, float]:
    from measure import run_measured

    out = work / f"{path}.json"
    measured = run_measured(
        [sys.executable, str(Path(__file__).resolve()), "--child", path, "--out", str(out)],
        env=dict(os.environ),
        timeout=1800,
        log=work / f"{path}.log",
    )
    if measured.code != 0:
        raise SystemExit(f"{path} failed:\n{measured.output}")
    return json.loads(out.read_text()), measured.wall_s, measured.peak_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures here (report format)")
    parser.add_argument("--skip-naive", action="store_true", help="measure ours only")
    parser.add_argument("--child", choices=("ours", "naive"), help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.out)
        return

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ours, ours_wall, ours_peak = run("ours", work)
        naive = naive_wall = naive_peak = None
        if not args.skip_naive:
            naive, naive_wall, naive_peak = run("naive", work)
    n = ours["n"]
    stage = {
        "stage": "tender_read",
        "n": n,
        "unit": "NIT PDFs",
        "ours_s": ours["seconds"],
        "naive_s": naive["seconds"] if naive else None,
        "ours_per_s": round(n / ours["seconds"], 3),
        "naive_per_s": round(n / naive["seconds"], 3) if naive else None,
        "ratio": round(naive["seconds"] / ours["seconds"], 2) if naive else None,
        "ours_peak_mb": round(ours_peak, 1),
        "naive_peak_mb": round(naive_peak, 1) if naive else None,
        "load_1m": round(os.getloadavg()[0], 2),
        "note": (
            f"{n} fixture NITs ({ours['by_kind']['text']['notices']} text, "
            f"{ours['by_kind']['scanned']['notices']} scanned); ours: text layer first, OCR "
            "200 dpi --psm 6, 2 tesseract processes; naive: OCR every page at 300 dpi, "
            "tesseract defaults, sequential"
            + (
                f"; naive F1 text {naive['f1']['text']}, scanned {naive['f1']['scanned']}"
                if naive
                else ""
            )
            + f"; child wall s: ours {ours_wall:.1f}"
            + (f", naive {naive_wall:.1f}" if naive else "")
        ),
    }
    data = {
        "stages": [stage],
        "f1": ours["f1"],
        "ocr_10_page_s": ours["ocr_10_page_s"],
        "by_kind": ours["by_kind"],
        "naive_f1": naive["f1"] if naive else None,
    }
    print(json.dumps(data, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main()
