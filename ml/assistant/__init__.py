"""Ask Pebble: a chat assistant whose tools read the warehouse's marts and write events.

``ask(conn, user, question)`` answers with the LLM's tool calls when ``PEBBLE_LLM_BASE_URL``
and ``PEBBLE_LLM_MODEL`` are set, else with the offline router (the entity extractor over
the stock master). Reads are checked against the user's role in the tool layer
(:data:`ml.assistant.roles.TOOL_ROLES`); writes (a task, a deal moved) are only proposed,
and :func:`confirm` appends them under the user's name after the user confirmed. Every
number of an answer must come from a tool result (the reply drafts' grounding check).
See docs/assistant.md.
"""

from __future__ import annotations

from ml.assistant.answer import Answer, ask, ask_offline, confirm
from ml.assistant.results import Proposal, ToolResult
from ml.assistant.roles import TOOL_ROLES

__all__ = ["TOOL_ROLES", "Answer", "Proposal", "ToolResult", "ask", "ask_offline", "confirm"]
