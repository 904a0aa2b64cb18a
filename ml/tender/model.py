"""The reader's result types: one field's value with its evidence, and a whole notice."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldValue:
    """One field: its value (JSON-serialisable), the exact text it was read from
    (`NoticeReading.text[start:end] == evidence`) and a confidence in 0..1."""

    value: Any
    evidence: str
    start: int
    end: int
    confidence: float


@dataclass(frozen=True)
class NoticeReading:
    """What was read from one NIT PDF. `method` is "text_layer" when every page had a text
    layer, "ocr" when any page was OCR'd, "none" when nothing could be read (`error` says why)."""

    text: str
    method: str
    pages: int
    ocr_seconds: float | None
    fields: dict[str, FieldValue] = field(default_factory=dict)
    error: str | None = None

    def fields_json(self) -> dict[str, dict[str, Any]]:
        """`{name: {"value", "evidence", "start", "end", "confidence"}}` for storage."""
        return {
            name: {
                "value": fv.value,
                "evidence": fv.evidence,
                "start": fv.start,
                "end": fv.end,
                "confidence": fv.confidence,
            }
            for name, fv in self.fields.items()
        }
