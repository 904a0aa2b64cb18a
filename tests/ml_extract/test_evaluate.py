"""Per-label precision/recall/F1 scoring."""

from __future__ import annotations

import json

import pytest

from ml.extract import Entity
from ml.extract.evaluate import load_examples, normalise_value, score


def test_scores_count_matches_on_label_and_value():
    predicted = [
        [Entity("PRODUCT", "ZnO", "Zinc Oxide", 0, 3), Entity("QUANTITY", "5 MT", 5000.0, 4, 8)],
        [Entity("PRICE", "Rs 45", 45.0, 0, 5)],
    ]
    gold = [
        [{"label": "PRODUCT", "value": "zinc  oxide"}, {"label": "QUANTITY", "value": 500}],
        [{"label": "PRICE", "value": 45}, {"label": "GSTIN", "value": "27AAPFU0939F1ZV"}],
    ]
    report = score(predicted, gold)
    assert (report.labels["PRODUCT"].tp, report.labels["PRODUCT"].f1) == (1, 1.0)
    q = report.labels["QUANTITY"]
    assert (q.tp, q.fp, q.fn) == (0, 1, 1)
    assert q.f1 == 0.0
    assert report.labels["PRICE"].f1 == 1.0
    assert report.labels["GSTIN"].recall == 0.0
    assert (1, "GSTIN", "27aapfu0939f1zv") in report.missed
    assert (0, "QUANTITY", 5000.0) in report.spurious
    assert "QUANTITY" in report.table()


def test_repeated_mentions_count_once_per_text():
    predicted = [[Entity("PRODUCT", "ZnO", "Zinc Oxide", 0, 3)] * 3]
    gold = [[{"label": "PRODUCT", "value": "Zinc Oxide"}]]
    assert score(predicted, gold).labels["PRODUCT"].precision == 1.0


def test_numbers_compare_with_tolerance():
    assert normalise_value("PRICE", 45) == normalise_value("PRICE", 45.0001)
    assert normalise_value("QUANTITY", "1,00,000") == 100000.0
    assert normalise_value("PRICE", 248.0) != normalise_value("PRICE", 248.5)


def test_mismatched_lengths_are_an_error():
    with pytest.raises(ValueError, match="2 predictions for 1"):
        score([[], []], [[]])


def test_load_examples_joins_subject_and_body(tmp_path):
    path = tmp_path / "set.jsonl"
    rows = [
        {
            "subject": "rate",
            "body": "ZnO 5 MT",
            "entities": [{"label": "PRODUCT", "value": "Zinc Oxide"}],
        },
        {"text": "plain", "entities": []},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    examples = load_examples(path)
    assert examples[0][0] == "rate\n\nZnO 5 MT"
    assert examples[1] == ("plain", [])
    path.write_text("{broken\n", encoding="utf-8")
    with pytest.raises(ValueError, match=":1: not JSON"):
        load_examples(path)
