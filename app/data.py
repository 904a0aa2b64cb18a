"""The lines the screens write about a card: its classification and its thread.

The Kanban board's queries (the user's streams, filters, pages per column) and its move
command are in ``app.board``, the card page's in ``app.card``."""

from __future__ import annotations

import pandas as pd


def classification_line(
    stream: str | None,
    intent: str | None,
    confidence: float | None,
    requires_review: bool,
    reclassified: bool = False,
) -> str:
    """How a card states what the model (or a person) made of it: "erp · order status · 93%"."""
    if reclassified and intent is not None:
        return f"{stream} · {intent.replace('_', ' ')} · set by a person"
    if intent is None or confidence is None or pd.isna(confidence):
        return f"{stream or 'unrouted'} · not classified yet"
    line = f"{stream} · {intent.replace('_', ' ')} · {confidence:.0%}"
    return f"{line} · needs review" if requires_review else line


def thread_line(message_count: int, assignee: str | None) -> str | None:
    """What a card says about its thread and owner: "3 messages · assigned to priya"; None
    for a lone unassigned message."""
    parts = []
    if message_count and message_count > 1:
        parts.append(f"{message_count} messages")
    if assignee:
        parts.append(f"assigned to {assignee}")
    return " · ".join(parts) or None
