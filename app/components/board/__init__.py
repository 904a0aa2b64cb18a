"""The drag-and-drop Kanban board: a small Streamlit component of our own, in plain
JavaScript served from ``frontend/`` (no build step, nothing fetched from a CDN).

Card text reaches the browser as JSON and is set with ``textContent`` only. The component
returns what the person did last: ``{"card_id", "to", "version", "nonce"}`` for a move (a
drop on another column, or the card's "Move to" menu), ``{"open", "nonce"}`` for "Open";
the nonce tells a new action from the same value returned again on a rerun. It decides nothing: the page records the move with
``app.board.move_card``, which checks the role again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit.components.v1 as components

FRONTEND = Path(__file__).resolve().parent / "frontend"

_board = components.declare_component("pebble_board", path=str(FRONTEND))


def kanban_board(
    columns: list[dict[str, Any]],
    *,
    can_move: bool,
    targets: list[tuple[str, str]],
    key: str,
) -> dict[str, Any] | None:
    """Draw the board; ``columns`` are ``{key, heading, total, target, cards: [{card_id,
    subject, lines, tags, status, column, version}]}``. Returns the last action, or None."""
    value = _board(
        columns=columns,
        can_move=can_move,
        targets=[list(t) for t in targets],
        key=key,
        default=None,
    )
    return value if isinstance(value, dict) else None
