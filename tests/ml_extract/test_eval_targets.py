"""The extraction contract: entity-level F1 targets on the hand-written evaluation set.

The set (tests/data/eval/handwritten_emails.jsonl) is held out: rules are tuned on the
generated world and unit examples, never on its wording. Scores match on label plus
normalised value, per email (see ml.extract.evaluate).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ml.extract.evaluate import evaluate, load_examples

EVAL_SET = Path(__file__).resolve().parents[1] / "data" / "eval" / "handwritten_emails.jsonl"
TARGETS = {
    "GSTIN": 0.97,
    "PAN": 0.97,
    "CIN": 0.97,
    "ORDER_NO": 0.97,
    "INVOICE_NO": 0.97,
    "PRODUCT": 0.90,
    "QUANTITY": 0.85,
}


@pytest.fixture(scope="module")
def report(extractor):
    if not EVAL_SET.is_file():
        pytest.fail(f"evaluation set missing: {EVAL_SET}")
    examples = load_examples(EVAL_SET)
    assert len(examples) >= 50, "the evaluation set should hold at least 50 emails"
    return evaluate(examples, extractor)


@pytest.mark.parametrize(("label", "target"), sorted(TARGETS.items()))
def test_f1_target(report, label, target):
    score = report.labels[label]
    assert score.support > 0, f"no gold {label} entities in the evaluation set"
    assert score.f1 >= target, f"{label} F1 {score.f1:.3f} < {target}\n{report.table()}"
