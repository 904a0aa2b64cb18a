"""The assistant's tool layer: the registry (:data:`TOOLS`, the schemas the LLM sees and the
router calls), :func:`call`, which runs a tool for a user, and :func:`execute`, which
appends a proposal the user confirmed. Both check the user's role
(:mod:`ml.assistant.roles`), so the page and the CLI cannot get around it.

The tools themselves: reads in :mod:`ml.assistant.read_tools` (a :class:`ToolResult`),
writes in :mod:`ml.assistant.write_tools` (a :class:`Proposal`, never a write); the types in
:mod:`ml.assistant.results`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from ml.assistant.read_tools import (
    find_company,
    last_prices,
    open_orders,
    qc_batch,
    receivables,
    stock,
    waiting_cards,
)
from ml.assistant.results import Proposal, ToolError, ToolResult
from ml.assistant.roles import TOOL_ROLES, WRITE_TOOLS, allowed, check, refusal
from ml.assistant.write_tools import propose_deal_move, propose_task
from pebble import events
from pebble.auth import NotAllowed, User


def execute(conn: psycopg.Connection, user: User, proposal: Proposal) -> events.Recorded:
    """Append a confirmed proposal's event under the user's name (the role checked again).
    A deal changed since the proposal raises :class:`pebble.events.VersionConflict`."""
    check(user, proposal.tool)
    event = events.new_event(
        proposal.event_type,
        proposal.entity_id,
        actor=user.name,
        payload=proposal.payload,
        company_key=proposal.company_key,
        event_id=proposal.event_id,
    )
    return events.append(conn, event, expected_version=proposal.expected_version)


# --- the registry (for the LLM and the router) ---------------------------------------------


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]
    run: Callable[..., Any]

    @property
    def writes(self) -> bool:
        return self.name in WRITE_TOOLS

    def schema(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


def _obj(required: Sequence[str], **props: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {k: {"type": "string", "description": v} for k, v in props.items()},
        "required": list(required),
        "additionalProperties": False,
    }


COMPANY = "The company: its name, key, Focus customer code, GSTIN, PAN or e-mail domain."
TOOLS: dict[str, Tool] = {
    t.name: t
    for t in (
        Tool("find_company", "Find a company by name, GSTIN, PAN, CIN or e-mail domain.",
             _obj(["query"], query=COMPANY), find_company),
        Tool("open_orders", "A company's open sales orders (or one order by its number).",
             _obj(["company"], company=COMPANY, order_no="A sales order number, optional."),
             open_orders),
        Tool("receivables", "A company's outstanding and overdue invoices.",
             _obj(["company"], company=COMPANY), receivables),
        Tool("last_prices", "A company's last price per product (optionally one product).",
             _obj(["company"], company=COMPANY, product="A product name or alias, optional."),
             last_prices),
        Tool("stock", "Stock on hand of a product (name or alias).",
             _obj(["product"], product="A product name or alias."), stock),
        Tool("waiting_cards", "Mail cards waiting on a customer (optionally one company's).",
             _obj([], company=COMPANY + " Optional."), waiting_cards),
        Tool("qc_batch", "QC results of a batch by its batch number.",
             _obj(["batch_no"], batch_no="The batch number."), qc_batch),
        Tool("create_task", "Propose a task (the user confirms before it is created).",
             _obj(["title", "due_on"], title="What to do.", due_on="Due day, YYYY-MM-DD.",
                  owner="User name of the owner; default the asking user.",
                  company=COMPANY + " Optional."), propose_task),
        Tool("move_deal", "Propose moving a deal to another open stage (the user confirms).",
             _obj(["to"], deal="The deal id or deal key.", to="The stage to move to.",
                  company=COMPANY + " Optional, when the deal id is not known."),
             propose_deal_move),
    )
}  # fmt: skip
if set(TOOLS) != set(TOOL_ROLES):
    raise RuntimeError("every tool needs its roles")


def call(conn: psycopg.Connection, user: User, name: str, args: dict[str, Any]) -> Any:
    """Run tool ``name`` for ``user``: a ToolResult (reads) or a Proposal (writes).

    A role that may not use the tool, or arguments it cannot use, give a ToolResult with
    ``ok`` False and the reason (never an exception), so an answer can say why."""
    tool = TOOLS.get(name)
    if tool is None:
        return ToolResult(name, dict(args), ok=False, message=f"unknown tool {name!r}")
    if not allowed(user, name):
        return ToolResult(name, dict(args), ok=False, refused=True, message=refusal(user, name))
    wanted = tool.parameters["properties"]
    clean = {k: v for k, v in args.items() if k in wanted and v not in (None, "")}
    missing = [k for k in tool.parameters["required"] if k not in clean]
    if missing:
        return ToolResult(name, clean, ok=False, message=f"{name} needs {', '.join(missing)}")
    try:
        return tool.run(conn, user, **{k: str(v) for k, v in clean.items()})
    except NotAllowed as exc:
        return ToolResult(name, clean, ok=False, refused=True, message=str(exc))
    except ToolError as exc:
        return ToolResult(name, clean, ok=False, message=str(exc))
