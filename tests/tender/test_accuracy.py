"""Measured accuracy on the hand-typed truth (real PDFs, real tesseract), and evidence spans.

Text notices: all of them. Scanned notices: every other generated scan plus one scan of a
hand-written layout, to keep the suite short; bench/bench_tender.py measures the full set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ml.tender import NoticeReading, read_notice
from ml.tender.evaluate import catalogue_names, evaluate, fixture_truth

SCANNED_SUBSET = (
    "scanned_01_cppp.pdf",
    "scanned_03_psu.pdf",
    "scanned_05_gem.pdf",
    "scanned_07_cppp.pdf",
    "scanned_09_psu.pdf",
    "scanned_11_gem.pdf",
    "scanned_hand_02_enquiry.pdf",
)


@pytest.fixture(scope="module")
def readings(nit_dir: Path) -> dict[str, tuple[dict[str, Any], NoticeReading]]:
    truth = fixture_truth(nit_dir)
    names = [n for n, t in truth.items() if t["kind"] == "text"] + list(SCANNED_SUBSET)
    products = catalogue_names()
    return {
        name: (truth[name], read_notice((nit_dir / name).read_bytes(), products=products))
        for name in names
    }


@pytest.fixture(scope="module")
def report(readings) -> dict[str, Any]:
    rows = [
        (name, t["kind"], t["fields"], {k: v.value for k, v in r.fields.items()})
        for name, (t, r) in readings.items()
    ]
    return evaluate(rows)


def test_truth_covers_both_kinds_and_hand_layouts(nit_dir: Path) -> None:
    truth = fixture_truth(nit_dir)
    kinds = [t["kind"] for t in truth.values()]
    assert kinds.count("text") >= 12 and kinds.count("scanned") >= 12
    assert sum(t["layout"] == "hand" for t in truth.values()) >= 4
    for name in truth:
        assert (nit_dir / name).is_file(), name


def test_text_f1_at_least_0_90(report) -> None:
    text = report["text"]
    assert text["notices"] >= 16
    assert text["f1"] >= 0.90, (text, report["mistakes"])


def test_scanned_f1_at_least_0_80(report) -> None:
    scanned = report["scanned"]
    assert scanned["notices"] == len(SCANNED_SUBSET)
    assert scanned["f1"] >= 0.80, (scanned, report["mistakes"])


def test_methods_match_the_kind(readings) -> None:
    for name, (truth, reading) in readings.items():
        assert reading.error is None, name
        want = "ocr" if truth["kind"] == "scanned" else "text_layer"
        assert reading.method == want, name
        assert (reading.ocr_seconds is not None) == (want == "ocr")


def test_every_evidence_is_its_span_of_the_text(readings) -> None:
    checked = 0
    for _, reading in readings.values():
        for fv in reading.fields.values():
            assert reading.text[fv.start : fv.end] == fv.evidence
            assert fv.evidence.strip()
            assert 0.0 < fv.confidence <= 1.0
            checked += 1
    assert checked > 200


def test_scores_count_wrong_and_missing_values() -> None:
    truth = {
        "tender_no": "A/1",
        "emd_amount_inr": 1000.0,
        "items": [{"description": "Methanol", "quantity": 5.0, "unit": "MT", "product": None}],
        "contact": {"name": "Shri R. K. Sharma", "email": None, "phone": "+91 98200 12345"},
    }
    pred = {
        "tender_no": "A/1",
        "emd_amount_inr": 2000.0,
        "tender_fee_inr": 500.0,
        "items": [{"description": "methanol", "quantity": 5.0, "unit": "KG", "product": None}],
        "contact": {"name": "R. K. Sharma", "email": None, "phone": "9820012345"},
    }
    text = evaluate([("x", "text", truth, pred)])["text"]
    # tp: tender_no, contact.name, contact.phone; fp: emd (wrong), fee, item; fn: emd, item
    assert (text["tp"], text["fp"], text["fn"]) == (3, 3, 2)
