"""Serving a trained classifier: stream and intent with a calibrated confidence.

The head is a linear layer over the sentence embedding, its logits divided by a
temperature fitted on held-out predictions, so that a confidence of 0.8 means right
about 80% of the time. Intents are predicted jointly; a stream's probability is the
sum of its intents', the stream is chosen first and the intent within it, so the two
can never disagree.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ml.encoder import EncoderConfig, get_encoder
from ml.settings import LEAD_REVIEW_FLOOR, get_ml_settings
from ml.store import resolve
from ml.taxonomy import OTHER, STREAMS, stream_of
from ml.text import classification_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Classification:
    """The classifier's answer for one email."""

    stream: str
    intent: str
    #: Calibrated probability that the intent (and hence the stream) is right.
    confidence: float
    #: Calibrated probability that the stream is right (at least `confidence`).
    stream_confidence: float
    requires_review: bool


@dataclass(frozen=True)
class Head:
    """Linear head + temperature over embeddings; pure numpy at serving time."""

    intents: tuple[str, ...]
    coef: np.ndarray  # (n_intents, dim)
    intercept: np.ndarray  # (n_intents,)
    temperature: float = 1.0

    def logits(self, embeddings: np.ndarray) -> np.ndarray:
        return embeddings @ self.coef.T + self.intercept

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        """Calibrated intent probabilities, shape (n, n_intents)."""
        return softmax(self.logits(embeddings) / self.temperature)

    def save(self, path: Path) -> None:
        np.savez(
            path,
            coef=self.coef.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
            temperature=np.float32(self.temperature),
        )

    @classmethod
    def load(cls, path: Path, intents: tuple[str, ...]) -> Head:
        with np.load(path, allow_pickle=False) as data:
            coef, intercept = data["coef"], data["intercept"]
            temperature = float(data["temperature"])
        if coef.shape[0] != len(intents):
            raise ValueError(f"{path}: {coef.shape[0]} rows for {len(intents)} intents")
        return cls(intents, coef, intercept, temperature)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def decide(
    probabilities: np.ndarray,
    intents: tuple[str, ...],
    threshold: float,
    lead_floor: float = LEAD_REVIEW_FLOOR,
) -> list[Classification]:
    """Stream = most probable stream (sum over its intents); intent = best within it.

    `requires_review` when the confidence is below `threshold`, or when the mail goes to
    `other` while the business streams together hold at least `lead_floor`.
    """
    streams = [s for s in STREAMS if any(stream_of(i) == s for i in intents)]
    member = np.array([[stream_of(i) == s for i in intents] for s in streams], dtype=np.float64)
    stream_probs = probabilities @ member.T
    results = []
    for row, srow in zip(probabilities, stream_probs, strict=True):
        s = int(np.argmax(srow))
        masked = np.where(member[s] > 0, row, -1.0)
        i = int(np.argmax(masked))
        # Flag on the confidence as reported, so what users see and what is flagged agree.
        confidence = round(float(row[i]), 4)
        stream_confidence = round(float(srow[s]), 4)
        maybe_business = streams[s] == OTHER and 1.0 - stream_confidence >= lead_floor
        results.append(
            Classification(
                stream=streams[s],
                intent=intents[i],
                confidence=confidence,
                stream_confidence=stream_confidence,
                requires_review=confidence < threshold or maybe_business,
            )
        )
    return results


class EmailClassifier:
    """A loaded classifier version with its encoder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.version = path.name
        labels = json.loads((path / "labels.json").read_text(encoding="utf-8"))
        self.intents: tuple[str, ...] = tuple(labels["intents"])
        identity = json.loads((path / "encoder.json").read_text(encoding="utf-8"))
        self.encoder_config = EncoderConfig(
            max_length=int(identity["max_length"]),
            int8=bool(identity["int8"]),
            # artifacts from before bfloat16 serving were calibrated on int8 vectors
            bf16=bool(identity.get("bf16", False)),
        )
        self.head = Head.load(path / "head.npz", self.intents)
        weights = identity.get("weights_file")
        self.encoder = get_encoder(self.encoder_config, path / weights if weights else None)
        calibrated_as = identity.get("precision")
        if calibrated_as and calibrated_as != self.encoder.precision:
            log.warning(
                "classifier %s was calibrated on %s encodings but this CPU serves it in %s: "
                "confidences may be less well calibrated (retrain here to recalibrate)",
                self.version,
                calibrated_as,
                self.encoder.precision,
            )

    @property
    def metrics(self) -> dict[str, Any]:
        return json.loads((self.path / "metrics.json").read_text(encoding="utf-8"))

    def classify_texts(
        self, texts: list[str], threshold: float | None = None
    ) -> tuple[list[Classification], np.ndarray]:
        """Classifications and embeddings of prepared texts (see :func:`classification_text`),
        from a single encoder pass."""
        settings = get_ml_settings()
        if threshold is None:
            threshold = settings.review_threshold
        embeddings = self.encoder.encode(texts)
        probs = self.head.probabilities(embeddings)
        return decide(probs, self.intents, threshold, settings.lead_review_floor), embeddings

    def classify(
        self, emails: list[tuple[str, str]], threshold: float | None = None
    ) -> list[Classification]:
        """Classify `(subject, body)` pairs."""
        texts = [classification_text(subject, body) for subject, body in emails]
        return self.classify_texts(texts, threshold)[0]


_loaded: dict[Path, EmailClassifier] = {}


def load_classifier(version: str | None = None, home: Path | None = None) -> EmailClassifier:
    """The classifier `version` (default: latest) from the model store, cached per process.

    Raises :class:`ml.store.ModelNotFoundError` when none has been trained.
    """
    path = resolve(version, home)
    if path not in _loaded:
        _loaded[path] = EmailClassifier(path)
    return _loaded[path]
