"""Answering a question: route it (offline) or let the LLM call tools, then check that every
number in the answer comes from a tool result.

``ask(conn, user, question)`` returns an :class:`Answer`: the text, the tool results with
their sources (table and key), the writes proposed (never executed here: the page's Confirm
button or the CLI's ``--yes`` runs :func:`confirm`), and ``flags`` when the answer stated
figures no tool returned. The check is the reply drafts' check
(:func:`ml.drafts.verify.ungrounded`) over the tool results' facts: quantities, prices,
amounts, dates, document numbers and any other number must equal a fact. An LLM answer that
fails it is not shown; the tool results are, with the flags saying why.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import psycopg

from ml.assistant import read_tools, tools
from ml.assistant.results import Proposal, ToolResult
from pebble.auth import User

log = logging.getLogger(__name__)

NOT_GROUNDED = (
    "The model's answer stated figures that no warehouse result holds, so it is not shown; "
    "these are the results it was given:"
)


@dataclass
class Answer:
    question: str
    user: str
    role: str
    mode: str  # "offline" or "llm"
    text: str = ""
    results: list[ToolResult] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)
    #: Figures the answer stated that no tool result backs (the answer was replaced).
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return any(r.refused for r in self.results)

    @property
    def grounded(self) -> bool:
        return not self.flags

    def facts(self) -> list[Any]:
        return [f for r in self.results for f in r.facts]

    def sources(self) -> list[dict[str, str]]:
        seen: dict[tuple[str, str], None] = {}
        for r in self.results:
            for s in r.sources():
                seen.setdefault((s["table"], s["key"]))
        return [{"table": t, "key": k} for t, k in seen]

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "user": self.user,
            "role": self.role,
            "mode": self.mode,
            "text": self.text,
            "grounded": self.grounded,
            "refused": self.refused,
            "flags": self.flags,
            "notes": self.notes,
            "tools": [r.to_dict() for r in self.results],
            "proposals": [p.to_dict() for p in self.proposals],
            "sources": self.sources(),
        }


def render(results: list[ToolResult], proposals: list[Proposal]) -> str:
    """The answer written from the tool results alone (each line names its source)."""
    out: list[str] = []
    for r in results:
        if r.ok:
            out.extend(r.lines)
        else:
            out.append(r.message or f"{r.tool} found nothing")
    for p in proposals:
        out.append(f"Proposed (needs your confirmation): {p.summary}")
    return "\n".join(out)


def ungrounded(text: str, results: list[ToolResult], products: tuple[Any, ...] = ()) -> list[str]:
    """What ``text`` states that no tool result's facts back (the drafts' check)."""
    from ml.drafts.verify import ungrounded as check

    facts = [f for r in results for f in r.facts]
    problems = check(_without_sources(text, results), facts, products=products or None)
    # the check reads "1.56" as a time (1:56); a measured value written so is a number
    numbers = [float(f.value) for f in facts if isinstance(f.value, int | float)]
    return [p for p in problems if not _is_fact_number(p, numbers)]


def _is_fact_number(problem: str, numbers: list[float]) -> bool:
    m = re.fullmatch(r"time '(\d{1,2}\.\d{2})'", problem)
    return bool(m) and any(abs(float(m.group(1)) - n) < 0.006 for n in numbers)


def _without_sources(text: str, results: list[ToolResult]) -> str:
    """``text`` with the tool results' own source references (``marts.x KEY``, table names)
    taken out: a key is checked as the source it names, not as a figure."""
    names = {s for r in results for f in r.facts for s in (f.source, *f.source.split(" + "))}
    refs = {f"{f.source} {f.ref}" for r in results for f in r.facts if f.ref}
    for needle in sorted(refs | names, key=len, reverse=True):
        text = text.replace(needle, " ")
    return text


def _grounding_text(results: list[ToolResult]) -> str:
    """The part of an offline answer made of warehouse figures (messages are our own words
    and the user's)."""
    return "\n".join(line for r in results if r.ok for line in r.lines)


def run_calls(
    conn: psycopg.Connection, user: User, calls: list[tuple[str, dict[str, Any]]]
) -> tuple[list[ToolResult], list[Proposal]]:
    results: list[ToolResult] = []
    proposals: list[Proposal] = []
    for name, args in calls:
        out = tools.call(conn, user, name, args)
        if isinstance(out, Proposal):
            proposals.append(out)
        else:
            results.append(out)
    return results, proposals


def ask_offline(
    conn: psycopg.Connection, user: User, question: str, *, today: date | None = None
) -> Answer:
    from ml.assistant.router import Router

    products = read_tools.stock_master(conn)
    route = Router(products).route(question, today=today)
    answer = Answer(question, user.name, user.role, "offline")
    if route.clarify:
        answer.text = route.clarify
        return answer
    answer.results, answer.proposals = run_calls(conn, user, route.calls)
    answer.text = render(answer.results, answer.proposals)
    answer.flags = ungrounded(_grounding_text(answer.results), answer.results, products)
    return answer


def ask(
    conn: psycopg.Connection,
    user: User,
    question: str,
    *,
    offline: bool | None = None,
    today: date | None = None,
) -> Answer:
    """Answer ``question`` for ``user``: with the LLM when one is configured (and
    ``offline`` is not True), else with the offline router."""
    from ml.drafts.llm import get_llm_settings

    settings = get_llm_settings()
    if offline or (offline is None and not settings.configured):
        return ask_offline(conn, user, question, today=today)
    from ml.assistant.llm import LLMError, ask_llm

    try:
        return ask_llm(conn, user, question, settings, today=today)
    except LLMError as exc:
        answer = ask_offline(conn, user, question, today=today)
        answer.notes.append(f"The LLM could not answer ({exc}); answered without it.")
        return answer


def confirm(conn: psycopg.Connection, user: User, proposal: Proposal) -> Any:
    """Append a proposal the user confirmed, as the user (see :func:`tools.execute`)."""
    return tools.execute(conn, user, proposal)
