"""What the assistant's tools give back: a :class:`ToolResult` for a read (rows, one-line
summaries and the :class:`ml.drafts.grounding.Fact` values every number of an answer must
come from, each fact naming its table in ``source`` and the row's key in ``ref``), a
:class:`Proposal` for a write (the event it would append, at the entity's version now), and
:class:`ToolError` for arguments a tool cannot work with.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ml.drafts.grounding import Fact


class ToolError(ValueError):
    """Arguments a tool cannot work with (unknown company, product, batch ...)."""


@dataclass
class ToolResult:
    """What one tool call found: rows, summary lines, facts (with their sources)."""

    tool: str
    args: dict[str, Any]
    ok: bool = True
    #: One line per thing found, the numbers written from ``facts``.
    lines: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    #: Why nothing could be answered (refused, not found), for the user.
    message: str | None = None
    refused: bool = False

    def sources(self) -> list[dict[str, str]]:
        seen: dict[tuple[str, str], None] = {}
        for fact in self.facts:
            seen.setdefault((fact.source, str(fact.ref or "")))
        return [{"table": t, "key": k} for t, k in seen]

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "args": self.args,
            "ok": self.ok,
            "refused": self.refused,
            "message": self.message,
            "lines": self.lines,
            "rows": [{k: _jsonable(v) for k, v in r.items()} for r in self.rows],
            "facts": [f.to_dict() for f in self.facts],
            "sources": self.sources(),
        }


@dataclass
class Proposal:
    """A write the user must confirm: the event it appends and the version it expects."""

    tool: str
    event_type: str
    entity_id: str
    payload: dict[str, Any]
    company_key: str | None
    expected_version: int
    summary: str
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "event_type": self.event_type,
            "entity_id": self.entity_id,
            "payload": self.payload,
            "company_key": self.company_key,
            "expected_version": self.expected_version,
            "summary": self.summary,
            "event_id": self.event_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Proposal:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)
