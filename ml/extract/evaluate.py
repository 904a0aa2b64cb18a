"""Entity-level precision, recall and F1 per label, matched on label plus normalised value.

Each text is scored as a set of (label, normalised value) pairs on both sides, so a product
named three times in one email counts once whether or not the gold data lists every mention.
Values are compared case- and spacing-insensitively for text and to 0.01 (relative 1e-4)
for numbers, so 45.0 and 45 agree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ml.extract.entities import LABELS, Entity, ProductRef, as_product_refs


@dataclass
class LabelScore:
    """Counts and scores for one label."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def support(self) -> int:
        return self.tp + self.fn


@dataclass
class Report:
    """Per-label scores plus the misses and false alarms, for reading what went wrong."""

    labels: dict[str, LabelScore] = field(default_factory=dict)
    missed: list[tuple[int, str, Any]] = field(default_factory=list)
    spurious: list[tuple[int, str, Any]] = field(default_factory=list)

    def f1(self, label: str) -> float:
        return self.labels.get(label, LabelScore()).f1

    def table(self) -> str:
        """A plain-text table: label, support, precision, recall, F1."""
        lines = [f"{'label':<11} {'gold':>5} {'prec':>6} {'rec':>6} {'f1':>6}"]
        for label, s in self.labels.items():
            lines.append(
                f"{label:<11} {s.support:>5} {s.precision:>6.3f} {s.recall:>6.3f} {s.f1:>6.3f}"
            )
        return "\n".join(lines)


def normalise_value(label: str, value: Any) -> Any:
    """The comparison key for a value: rounded number or case-folded, space-collapsed text."""
    if value is None:
        return None
    if label in ("QUANTITY", "PRICE") or isinstance(value, int | float):
        try:
            number = float(str(value).replace(",", "")) if isinstance(value, str) else value
        except ValueError:
            return " ".join(str(value).split()).casefold()
        # Relative rounding keeps large totals and small rates comparable.
        return float(f"{float(number):.4g}") if abs(number) >= 100 else round(float(number), 2)
    return " ".join(str(value).split()).casefold()


def _pairs(entities: Iterable[Entity | Mapping[str, Any]]) -> set[tuple[str, Any]]:
    pairs: set[tuple[str, Any]] = set()
    for e in entities:
        if isinstance(e, Entity):
            label, value = e.label, e.value
        else:
            label, value = str(e["label"]), e.get("value")
        pairs.add((label, normalise_value(label, value)))
    return pairs


def score(
    predicted: Sequence[Iterable[Entity | Mapping[str, Any]]],
    gold: Sequence[Iterable[Entity | Mapping[str, Any]]],
    labels: Sequence[str] = LABELS,
) -> Report:
    """Score predicted against gold entities, one list per text, in the same order."""
    if len(predicted) != len(gold):
        raise ValueError(f"{len(predicted)} predictions for {len(gold)} gold texts")
    report = Report(labels={label: LabelScore() for label in labels})
    for index, (pred, ref) in enumerate(zip(predicted, gold, strict=True)):
        p, g = _pairs(pred), _pairs(ref)
        for label, value in p | g:
            if label not in report.labels:
                continue
            s = report.labels[label]
            if (label, value) in p and (label, value) in g:
                s.tp += 1
            elif (label, value) in p:
                s.fp += 1
                report.spurious.append((index, label, value))
            else:
                s.fn += 1
                report.missed.append((index, label, value))
    return report


def evaluate(
    examples: Iterable[tuple[str, Iterable[Entity | Mapping[str, Any]]]],
    extractor: Any | None = None,
    labels: Sequence[str] = LABELS,
) -> Report:
    """Run `extractor` (default: the shared one, without a stock master) over (text, gold
    entities) pairs and score it."""
    if extractor is None:
        from ml.extract import get_extractor

        extractor = get_extractor()
    texts: list[str] = []
    gold: list[list[Entity | Mapping[str, Any]]] = []
    for text, entities in examples:
        texts.append(text)
        gold.append(list(entities))
    predicted = extractor.extract_many(texts)
    return score(predicted, gold, labels)


def load_examples(path: Path | str) -> list[tuple[str, list[dict[str, Any]]]]:
    """(text, gold entities) pairs from a JSON Lines file of `{"text", "entities"}` records.

    A record may hold `subject` and `body` instead of `text`; they are joined by a blank line.
    """
    examples: list[tuple[str, list[dict[str, Any]]]] = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON: {exc}") from exc
            examples.append((example_text(record), list(record.get("entities") or [])))
    return examples


def example_text(record: Mapping[str, Any]) -> str:
    """The text an example's labels refer to."""
    if "text" in record:
        return str(record["text"])
    parts = [str(record[k]) for k in ("subject", "body") if record.get(k)]
    if not parts:
        raise ValueError(f"example without text: {sorted(record)}")
    return "\n\n".join(parts)


def world_examples(world: Path | str, limit: int | None = None) -> list[tuple[str, list[dict]]]:
    """(subject + body text, truth entities) for the messages of a generated demo world.

    Reads `<world>/mail/truth.jsonl` and parses each message file with the mail parser, so
    the text is what the ingestion pipeline stores (HTML-only mail turned into text). The
    world does not label forwarded bodies: score it with `Extractor(keep_forwarded=False)`.
    """
    from ingest.mail.parse import parse_email

    root = Path(world)
    examples: list[tuple[str, list[dict]]] = []
    with open(root / "mail" / "truth.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            truth = json.loads(line)
            parsed = parse_email((root / truth["file"]).read_bytes())
            parts = [p for p in (parsed.subject, parsed.body_text) if p]
            examples.append(("\n\n".join(parts), list(truth.get("entities") or [])))
            if limit is not None and len(examples) >= limit:
                break
    return examples


def world_products(world: Path | str) -> tuple[ProductRef, ...]:
    """The stock master of a generated world (`<world>/catalogue.json`: the items its Tally
    holds, with their aliases and packs), for measuring the extractor on that world."""
    records = json.loads((Path(world) / "catalogue.json").read_text(encoding="utf-8"))
    return tuple(
        as_product_refs(
            ProductRef(
                name=str(r["name"]),
                aliases=tuple(str(a) for a in r.get("aliases") or ()),
                pack_size_kg=float(r["pack_size_kg"]) if r.get("pack_size_kg") else None,
                pack=str(r["pack"]) if r.get("pack") else None,
            )
            for r in records
        )
    )
