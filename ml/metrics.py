"""Evaluation measures shared by training, the CLI and the benchmark."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np


def expected_calibration_error(
    confidence: Sequence[float], correct: Sequence[bool], bins: int = 10
) -> float:
    """ECE: the mean |accuracy - confidence| over equal-width confidence bins, weighted by
    how many predictions fall in each bin."""
    conf = np.asarray(confidence, dtype=np.float64)
    hit = np.asarray(correct, dtype=np.float64)
    if conf.size == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = idx == b
        if mask.any():
            total += mask.sum() * abs(hit[mask].mean() - conf[mask].mean())
    return float(total / conf.size)


def reliability_bins(
    confidence: Sequence[float], correct: Sequence[bool], bins: int = 5
) -> list[dict[str, float]]:
    """Per confidence bin: its range, count, mean confidence and accuracy (empty bins omitted)."""
    conf = np.asarray(confidence, dtype=np.float64)
    hit = np.asarray(correct, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    rows = []
    for b in range(bins):
        mask = idx == b
        if mask.any():
            rows.append(
                {
                    "low": float(edges[b]),
                    "high": float(edges[b + 1]),
                    "n": int(mask.sum()),
                    "confidence": float(conf[mask].mean()),
                    "accuracy": float(hit[mask].mean()),
                }
            )
    return rows


def classification_report(
    true_streams: Sequence[str],
    true_intents: Sequence[str],
    pred_streams: Sequence[str],
    pred_intents: Sequence[str],
    confidence: Sequence[float],
) -> dict[str, object]:
    """Macro-F1 of streams and intents, intent accuracy, ECE and per-intent F1."""
    from sklearn.metrics import f1_score

    intent_labels = sorted(set(true_intents))
    stream_labels = sorted(set(true_streams))
    per_intent = f1_score(
        true_intents, pred_intents, labels=intent_labels, average=None, zero_division=0
    )
    correct = [t == p for t, p in zip(true_intents, pred_intents, strict=True)]
    return {
        "n": len(true_intents),
        "stream_macro_f1": round(
            float(
                f1_score(
                    true_streams,
                    pred_streams,
                    labels=stream_labels,
                    average="macro",
                    zero_division=0,
                )
            ),
            4,
        ),
        "intent_macro_f1": round(
            float(
                f1_score(
                    true_intents,
                    pred_intents,
                    labels=intent_labels,
                    average="macro",
                    zero_division=0,
                )
            ),
            4,
        ),
        "intent_accuracy": round(float(np.mean(correct)) if correct else 0.0, 4),
        "ece": round(expected_calibration_error(confidence, correct), 4),
        "per_intent_f1": {
            k: round(float(v), 4) for k, v in zip(intent_labels, per_intent, strict=True)
        },
    }


def _word_ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def split_overlap(
    train_texts: Sequence[str],
    test_texts: Sequence[str],
    train_subjects: Sequence[str],
    test_subjects: Sequence[str],
    n: int = 5,
) -> dict[str, float | int]:
    """How much of a test split's text the training split already holds: the share of the
    test emails' distinct word `n`-grams (per email) found in training, and how many test
    subjects occur verbatim in training. High values mean a split measures template fit."""
    seen: set[tuple[str, ...]] = set()
    for text in train_texts:
        seen |= _word_ngrams(text, n)
    grams = [_word_ngrams(text, n) for text in test_texts]
    total = sum(len(g) for g in grams)
    shared = sum(len(g & seen) for g in grams)
    known = set(train_subjects)
    return {
        f"test_{n}grams_in_train": round(shared / total, 4) if total else 0.0,
        "test_subjects_in_train": sum(1 for s in test_subjects if s in known),
    }
