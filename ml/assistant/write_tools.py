"""The assistant's write tools, which never write: :func:`propose_task` and
:func:`propose_deal_move` validate the event a confirmation would append (``TaskCreated``,
``DealMoved``) and return it as a :class:`Proposal`, at the entity's version now;
:func:`ml.assistant.tools.execute` appends it under the user's name only after the user
confirmed it.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import psycopg

from ml.assistant.read_tools import _company_or_error, _rows
from ml.assistant.results import Proposal, ToolError
from ml.assistant.roles import check
from pebble import deals as crm_deals
from pebble import events
from pebble.auth import User

#: The default sales pipeline's open stages (ops.pipelines overrides it when configured).
DEFAULT_STAGES: tuple[str, ...] = crm_deals.DEFAULT_PIPELINE.stages


def propose_task(
    conn: psycopg.Connection,
    user: User,
    title: str,
    due_on: str | date,
    owner: str | None = None,
    company: str | None = None,
) -> Proposal:
    """The TaskCreated event a confirmation would append (validated now, written never)."""
    check(user, "create_task")
    found = _company_or_error(conn, company) if company else None
    payload: dict[str, Any] = {
        "title": (title or "").strip()[:2000],
        "due_on": due_on.isoformat() if isinstance(due_on, date) else str(due_on),
        "owner": (owner or user.name).strip(),
    }
    if found is not None:
        payload |= {"linked_type": "company", "linked_id": found.company_key}
    task_id = f"task-{uuid.uuid4().hex[:12]}"
    try:
        event = events.new_event(
            "TaskCreated", task_id, actor=user.name, payload=payload,
            company_key=found.company_key if found else None,
        )  # fmt: skip
    except events.EventError as exc:
        raise ToolError(str(exc)) from None
    where = f" about {found.name} ({found.company_key})" if found else ""
    return Proposal(
        tool="create_task",
        event_type="TaskCreated",
        entity_id=task_id,
        payload=event.payload,
        company_key=event.company_key,
        expected_version=0,
        summary=f"Create task {payload['title']!r} for {payload['owner']}, due "
        f"{event.payload['due_on']}{where}",
    )


def pipeline_stages(conn: psycopg.Connection, pipeline_id: str = "sales") -> tuple[str, ...]:
    """The pipeline's open stages, as the pipeline board has them (``pebble.deals``)."""
    try:
        return crm_deals.get_pipeline(conn, pipeline_id).stages
    except crm_deals.DealError as exc:
        raise ToolError(str(exc)) from None


def find_deals(conn: psycopg.Connection, deal: str) -> list[dict[str, Any]]:
    """Deals by id (a hand-made deal or an inferred deal_key) or by company."""
    deal = (deal or "").strip()[:200]
    by_id = _rows(
        conn,
        "SELECT deal_id, company_key, stage, pipeline_id, title FROM ops.deal_state"
        " WHERE deal_id = %s",
        (deal,),
    ) or _rows(
        conn,
        "SELECT deal_key AS deal_id, company_key, stage, 'sales' AS pipeline_id,"
        " product AS title FROM marts.deal_pipeline WHERE deal_key = %s",
        (deal,),
    )
    return by_id


def propose_deal_move(
    conn: psycopg.Connection, user: User, deal: str, to: str, company: str | None = None
) -> Proposal:
    """The DealMoved event a confirmation would append, at the deal's version now."""
    check(user, "move_deal")
    to = (to or "").strip().lower().replace(" ", "_")
    deals = find_deals(conn, deal) if deal else []
    if not deals and company:
        found = _company_or_error(conn, company)
        deals = [
            d for d in _rows(
                conn,
                "SELECT deal_id, company_key, stage, pipeline_id, title FROM ops.deal_state"
                " WHERE company_key = %(k)s AND NOT coalesce(is_closed, false)"
                " UNION ALL SELECT deal_key, company_key, stage, 'sales', product"
                " FROM marts.deal_pipeline WHERE company_key = %(k)s AND is_open"
                " AND deal_key NOT IN (SELECT deal_id FROM ops.deal_state)",
                {"k": found.company_key},
            )
        ]  # fmt: skip
        if len(deals) > 1:
            ids = ", ".join(d["deal_id"] for d in deals[:5])
            raise ToolError(f"{found.name} has {len(deals)} open deals ({ids}): name one")
    if not deals:
        raise ToolError(f"no deal found for {deal or company!r}")
    d = deals[0]
    stages = pipeline_stages(conn, d["pipeline_id"] or "sales")
    if to not in stages:
        raise ToolError(
            f"{to!r} is not an open stage of the {d['pipeline_id'] or 'sales'} pipeline "
            f"({', '.join(stages)}); won and lost close a deal on the pipeline board"
        )
    payload: dict[str, Any] = {"to": to}
    seen = crm_deals.INFERRED_STAGE.get(
        d["stage"], d["stage"]
    )  # the warehouse's "sample" is sample_sent
    if seen in stages:
        payload["from_stage"] = seen
    try:
        event = events.new_event(
            "DealMoved", d["deal_id"], actor=user.name, payload=payload,
            company_key=d["company_key"],
        )  # fmt: skip
    except events.EventError as exc:
        raise ToolError(str(exc)) from None
    version = events.current_version(conn, "deal", d["deal_id"])
    return Proposal(
        tool="move_deal",
        event_type="DealMoved",
        entity_id=d["deal_id"],
        payload=event.payload,
        company_key=d["company_key"],
        expected_version=version,
        summary=f"Move deal {d['deal_id']} ({d['title'] or 'untitled'}) from "
        f"{d['stage'] or 'no stage'} to {to}",
    )
