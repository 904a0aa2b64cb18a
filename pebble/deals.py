"""The CRM's deals, pipelines and tasks: what the pipeline board and "My tasks" read, and the
commands that change them (each one event, appended at the version the person saw).

Invariants:

- A pipeline is its open stages in order, then ``won`` and ``lost``. The default one
  (:data:`DEFAULT_PIPELINE`, id ``sales``) needs no event; an admin's ``PipelineConfigured``
  (``ops.pipelines``) overrides it, or adds another pipeline.
- The board is the deals the warehouse inferred (``marts.deal_pipeline``, its stages mapped
  by :data:`INFERRED_STAGE`: ``sample`` is ``sample_sent``) with people's events
  (``ops.deal_state``) laid over them, plus the deals made by hand. A person's move or
  close wins over the inference, except an order: when the warehouse saw the deal ordered
  or won *after* the person's last change, that newer fact shows. A stage that is no longer
  in the pipeline (an admin removed it) shows in the nearest earlier stage that is.
- Every command checks the user's role here, on the server (:func:`pebble.auth.require`),
  whatever the page showed; a manager reads everything and changes nothing; only an admin
  configures a pipeline. A move to a stage the pipeline does not have is a
  :class:`DealError` naming the stages it has. Someone else's change since the person read
  the deal or task raises :class:`pebble.events.VersionConflict` (see
  :func:`conflict_message`); nothing is overwritten.
- Tasks (``ops.tasks``) are changed by their owner or their creator only.

No Streamlit here: the pages (``app/pages/pipeline.py``, ``app/pages/tasks.py``) stay thin.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

import polars as pl
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from pebble import event_payloads, events
from pebble.auth import NotAllowed, User, require

# --- who may do what ------------------------------------------------------------------------

#: Roles that read the pipeline board; of them, ``DEAL_WRITERS`` create, move and close deals.
BOARD_READERS: tuple[str, ...] = ("sales", "ops", "manager", "admin")
DEAL_WRITERS: tuple[str, ...] = ("sales", "ops")
#: Only an admin changes a pipeline's stages.
PIPELINE_ADMINS: tuple[str, ...] = ("admin",)
#: Roles that read tasks (a manager everyone's); of them, ``TASK_WRITERS`` change them.
TASK_READERS: tuple[str, ...] = ("sales", "ops", "qc", "marketing", "manager")
TASK_WRITERS: tuple[str, ...] = ("sales", "ops", "qc", "marketing")
#: What a task can be about (the ``linked_type`` of ``TaskCreated``).
LINK_TYPES: tuple[str, ...] = ("company", "contact", "card", "deal", "tender")

# --- pipelines ------------------------------------------------------------------------------

DEFAULT_PIPELINE_ID = "sales"
CLOSED_STAGES: tuple[str, ...] = event_payloads.CLOSED_STAGES
#: The warehouse's inferred stages (marts.deal_pipeline) -> the default pipeline's stages.
INFERRED_STAGE: dict[str, str] = {
    "enquiry": "enquiry",
    "quoted": "quoted",
    "sample": "sample_sent",
    "ordered": "ordered",
    "won": "won",
    "lost": "lost",
}


class DealError(ValueError):
    """A deal, task or pipeline change that cannot be made as asked (the message says why)."""


@dataclass(frozen=True)
class Pipeline:
    """A pipeline's open stages in order (``won`` and ``lost`` follow) and its version."""

    pipeline_id: str
    name: str
    stages: tuple[str, ...]
    version: int = 0
    updated_by: str | None = None

    @property
    def all_stages(self) -> tuple[str, ...]:
        return (*self.stages, *CLOSED_STAGES)

    def place(self, stage: str | None) -> str:
        """The stage of this pipeline a deal at ``stage`` shows in: the stage itself, else
        (a stage an admin removed) the nearest earlier stage of the default order that the
        pipeline has, else its first stage."""
        if stage in self.all_stages:
            return stage
        order = DEFAULT_PIPELINE.stages
        if stage in order:
            for earlier in reversed(order[: order.index(stage)]):
                if earlier in self.stages:
                    return earlier
        return self.stages[0]


DEFAULT_PIPELINE = Pipeline(
    DEFAULT_PIPELINE_ID, "Sales", ("enquiry", "quoted", "sample_sent", "negotiation", "ordered")
)


def stage_label(stage: str) -> str:
    """``sample_sent`` -> ``Sample sent``."""
    return stage.replace("_", " ").capitalize()


def pipelines(conn: psycopg.Connection) -> dict[str, Pipeline]:
    """Every pipeline by id: the configured ones (``ops.pipelines``) and the default one,
    which a ``PipelineConfigured`` of id ``sales`` overrides."""
    out = {DEFAULT_PIPELINE_ID: DEFAULT_PIPELINE}
    rows = conn.execute(
        "SELECT pipeline_id, name, stages, version, updated_by FROM ops.pipelines"
        " ORDER BY pipeline_id"
    ).fetchall()
    for pipeline_id, name, stages, version, updated_by in rows:
        out[pipeline_id] = Pipeline(pipeline_id, name, tuple(stages), int(version), updated_by)
    return out


def get_pipeline(conn: psycopg.Connection, pipeline_id: str = DEFAULT_PIPELINE_ID) -> Pipeline:
    found = pipelines(conn).get(pipeline_id)
    if found is None:
        raise DealError(f"no pipeline {pipeline_id!r}")
    return found


def configure_pipeline(
    conn: psycopg.Connection,
    user: User | None,
    pipeline_id: str,
    name: str,
    stages: Sequence[str],
    expected_version: int,
) -> events.Recorded:
    """Record an admin's stages for ``pipeline_id`` (open stages in order; won and lost
    follow). Deals in a removed stage show in the nearest earlier stage (:meth:`place`)."""
    require(user, *PIPELINE_ADMINS, action="change a pipeline's stages")
    cleaned = [s.strip().lower().replace(" ", "_") for s in stages if s and s.strip()]
    event = _event(
        "PipelineConfigured",
        pipeline_id.strip(),
        user,
        {"name": name, "stages": cleaned},
    )
    return events.append(conn, event, expected_version)


# --- the board ------------------------------------------------------------------------------


def _exists(conn: psycopg.Connection, table: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()[0]


# The inferred deals with people's events over them, and the hand-made deals. Slots:
# {inferred} (marts.deal_pipeline, or an empty relation of its shape), {names} (the CRM
# master's names, or none). An inferred deal's events name no title; a deal the warehouse
# no longer infers (its thread changed) is left out unless it was made by hand.
_BOARD = """
WITH inferred AS ({inferred}),
names AS ({names}),
combined AS (
    SELECT
        coalesce(i.deal_key, s.deal_id)                         AS deal_id,
        coalesce(s.created_by_hand, false)                      AS created_by_hand,
        coalesce(s.pipeline_id, %(default_pipeline)s)           AS pipeline_id,
        s.title,
        coalesce(i.thread_key, s.thread_key)                    AS thread_key,
        coalesce(i.company_key, s.company_key)                  AS company_key,
        coalesce(i.company_name, n.name)                        AS company_name,
        coalesce(s.product, i.product)                          AS product,
        coalesce(s.owner, i.owner)                              AS owner,
        coalesce(s.value_inr, i.value_inr)::double precision    AS value_inr,
        i.value_inr::double precision                           AS inferred_value,
        i.stage                                                 AS inferred_stage,
        i.stage_at                                              AS inferred_at,
        i.days_in_stage                                         AS inferred_days,
        i.lost_reason,
        s.stage                                                 AS event_stage,
        s.stage_changed_at                                      AS event_at,
        s.close_reason,
        coalesce(s.version, 0)                                  AS version,
        s.updated_by,
        s.updated_at
    FROM inferred AS i
    FULL JOIN ops.deal_state AS s ON s.deal_id = i.deal_key
    LEFT JOIN names AS n ON n.company_key = coalesce(i.company_key, s.company_key)
    WHERE i.deal_key IS NOT NULL OR s.created_by_hand
)
SELECT * FROM combined
WHERE (%(pipeline_id)s::text IS NULL OR pipeline_id = %(pipeline_id)s)
  AND (%(deal_id)s::text IS NULL OR deal_id = %(deal_id)s)
  AND (%(owner)s::text IS NULL OR owner = %(owner)s)
  AND (%(company)s::text IS NULL
       OR strpos(lower(coalesce(company_name, '') || ' ' || coalesce(company_key, '')),
                 %(company)s) > 0)
"""
_INFERRED = """
SELECT deal_key, thread_key, company_key, company_name, product, owner, value_inr, stage,
       CASE stage WHEN 'ordered' THEN ordered_at WHEN 'won' THEN closed_at END AS stage_at,
       days_in_stage, lost_reason
FROM marts.deal_pipeline
"""
_NO_INFERRED = """
SELECT NULL::text AS deal_key, NULL::text AS thread_key, NULL::text AS company_key,
       NULL::text AS company_name, NULL::text AS product, NULL::text AS owner,
       NULL::numeric AS value_inr, NULL::text AS stage, NULL::timestamptz AS stage_at,
       NULL::integer AS days_in_stage, NULL::text AS lost_reason
WHERE false
"""

DEAL_SCHEMA: dict[str, Any] = {
    "deal_id": pl.String,
    "title": pl.String,
    "company_key": pl.String,
    "company_name": pl.String,
    "product": pl.String,
    "owner": pl.String,
    "value_inr": pl.Float64,
    "stage": pl.String,
    "stage_source": pl.String,
    "days_in_stage": pl.Int64,
    "close_reason": pl.String,
    "thread_key": pl.String,
    "created_by_hand": pl.Boolean,
    "version": pl.Int64,
    "updated_by": pl.String,
}


@dataclass(frozen=True)
class StageTotal:
    stage: str
    count: int
    value_inr: float


@dataclass(frozen=True)
class Board:
    """The pipeline's deals (one row each, in the stage they show in) and per stage the
    number of deals and their total value; ``inferred`` says whether the warehouse's mart
    was there to read."""

    pipeline: Pipeline
    deals: pl.DataFrame
    inferred: bool

    def stage(self, stage: str) -> pl.DataFrame:
        return self.deals.filter(pl.col("stage") == stage)

    @property
    def totals(self) -> dict[str, StageTotal]:
        out = {}
        for stage in self.pipeline.all_stages:
            rows = self.stage(stage)
            value = rows["value_inr"].sum() if rows.height else 0.0
            out[stage] = StageTotal(stage, rows.height, float(value or 0.0))
        return out


def fetch_board(
    conn: psycopg.Connection,
    pipeline_id: str = DEFAULT_PIPELINE_ID,
    *,
    owner: str | None = None,
    company: str | None = None,
    today: date | None = None,
    tz: tzinfo | None = None,
) -> Board:
    """The board of ``pipeline_id``, narrowed to an owner and to companies whose name or key
    contains ``company`` (case-insensitive). ``today`` (default: today in ``tz``) counts the
    days a deal has been in a stage a person moved it to."""
    pipeline = get_pipeline(conn, pipeline_id)
    rows, inferred = _board_rows(
        conn, pipeline_id=pipeline.pipeline_id, owner=owner, company=company
    )
    today = today or datetime.now(tz).date()
    deals = [_deal(row, pipeline, today, tz) for row in rows]
    deals.sort(key=lambda d: (-(d["value_inr"] or 0.0), d["deal_id"]))
    frame = pl.DataFrame(deals, schema=DEAL_SCHEMA, orient="row")
    return Board(pipeline=pipeline, deals=frame, inferred=inferred)


def _board_rows(
    conn: psycopg.Connection,
    *,
    pipeline_id: str | None = None,
    deal_id: str | None = None,
    owner: str | None = None,
    company: str | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    inferred = _exists(conn, "marts.deal_pipeline")
    names = (
        "SELECT company_key, name FROM marts.crm_companies"
        if _exists(conn, "marts.crm_companies")
        else "SELECT NULL::text AS company_key, NULL::text AS name WHERE false"
    )
    query = sql.SQL(_BOARD).format(
        inferred=sql.SQL(_INFERRED if inferred else _NO_INFERRED), names=sql.SQL(names)
    )
    params = {
        "default_pipeline": DEFAULT_PIPELINE_ID,
        "pipeline_id": pipeline_id,
        "deal_id": deal_id,
        "owner": owner or None,
        "company": company.strip().lower() if company and company.strip() else None,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall(), inferred


def _deal(row: dict[str, Any], pipeline: Pipeline, today: date, tz: tzinfo | None) -> dict:
    """One board row: the person's stage unless the warehouse saw an order after it."""
    inferred = INFERRED_STAGE.get(row["inferred_stage"]) if row["inferred_stage"] else None
    by_person = row["event_stage"] is not None
    if by_person and inferred in ("ordered", "won") and row["inferred_at"] and row["event_at"]:
        by_person = row["inferred_at"] <= row["event_at"]
    if by_person:
        stage, source = row["event_stage"], "person"
        days = (today - row["event_at"].astimezone(tz).date()).days if row["event_at"] else None
    else:
        stage, source, days = inferred or pipeline.stages[0], "inferred", row["inferred_days"]
    # an order seen after the person's change brings its own value
    value = row["value_inr"] if by_person or row["event_stage"] is None else row["inferred_value"]
    reason = row["close_reason"] if by_person else row["lost_reason"]
    return {
        "deal_id": row["deal_id"],
        "title": row["title"],
        "company_key": row["company_key"],
        "company_name": row["company_name"],
        "product": row["product"],
        "owner": row["owner"],
        "value_inr": value,
        "stage": pipeline.place(stage),
        "stage_source": source,
        "days_in_stage": days,
        "close_reason": reason if stage == "lost" else None,
        "thread_key": row["thread_key"],
        "created_by_hand": row["created_by_hand"],
        "version": int(row["version"]),
        "updated_by": row["updated_by"],
    }


def find_deal(
    conn: psycopg.Connection, deal_id: str, *, tz: tzinfo | None = None
) -> dict[str, Any] | None:
    """One deal as the board shows it (with its ``pipeline_id``), or None."""
    rows, _ = _board_rows(conn, deal_id=deal_id)
    if not rows:
        return None
    row = rows[0]
    pipeline = pipelines(conn).get(row["pipeline_id"], DEFAULT_PIPELINE)
    return _deal(row, pipeline, datetime.now(tz).date(), tz) | {"pipeline_id": pipeline.pipeline_id}


def board_owners(board: Board) -> list[str]:
    return sorted({o for o in board.deals["owner"].to_list() if o})


# --- deal commands --------------------------------------------------------------------------


def new_deal_id() -> str:
    """A hand-made deal's id; inferred deals are ``deal:<md5>``, so the two never meet."""
    return f"deal:hand:{uuid.uuid4().hex}"


def create_deal(
    conn: psycopg.Connection,
    user: User | None,
    *,
    title: str,
    stage: str,
    company_key: str | None = None,
    value_inr: float | None = None,
    product: str | None = None,
    thread_key: str | None = None,
    owner: str | None = None,
    pipeline_id: str = DEFAULT_PIPELINE_ID,
    deal_id: str | None = None,
) -> events.Recorded:
    """Record a deal made by hand in an open stage of its pipeline (owner: the creator unless
    named). ``deal_id`` (default a new one) makes a retry idempotent only with the same
    event; a second create of the same id is a conflict."""
    who = require(user, *DEAL_WRITERS, action="create deals")
    pipeline = get_pipeline(conn, pipeline_id)
    _check_open_stage(pipeline, stage)
    owner = (owner or who.name).strip()
    _check_owner(conn, owner, DEAL_WRITERS, "deal")
    payload = {
        "title": title,
        "stage": stage,
        "pipeline": pipeline.pipeline_id,
        "value_inr": value_inr,
        "product": product or None,
        "thread_key": thread_key or None,
        "owner": owner,
    }
    event = _event(
        "DealCreated", deal_id or new_deal_id(), who, _drop_none(payload), company_key or None
    )
    return events.append(conn, event, 0)


def move_deal(
    conn: psycopg.Connection,
    user: User | None,
    deal_id: str,
    to: str,
    expected_version: int,
    *,
    value_inr: float | None = None,
) -> events.Recorded:
    """Record that ``user`` moved the deal to the open stage ``to`` (from the stage the board
    shows now; a closed deal is re-opened). ``value_inr`` revalues it."""
    who = require(user, *DEAL_WRITERS, action="move deals")
    deal = _deal_or_error(conn, deal_id)
    pipeline = get_pipeline(conn, deal["pipeline_id"])
    _check_open_stage(pipeline, to)
    if to == deal["stage"] and value_inr is None:
        raise DealError(f"the deal is in {stage_label(to)} already")
    payload = {"to": to, "from_stage": deal["stage"], "value_inr": value_inr}
    event = _event("DealMoved", deal_id, who, _drop_none(payload), deal["company_key"])
    return events.append(conn, event, expected_version)


def close_deal(
    conn: psycopg.Connection,
    user: User | None,
    deal_id: str,
    outcome: str,
    expected_version: int,
    *,
    reason: str | None = None,
    value_inr: float | None = None,
) -> events.Recorded:
    """Record the deal won or lost (a lost deal needs a reason)."""
    who = require(user, *DEAL_WRITERS, action="close deals")
    if outcome not in CLOSED_STAGES:
        raise DealError(f"a deal is closed as won or lost, not {outcome!r}")
    if outcome == "lost" and not (reason or "").strip():
        raise DealError("say why the deal was lost: a lost deal needs a reason")
    deal = _deal_or_error(conn, deal_id)
    payload = {"outcome": outcome, "reason": (reason or "").strip() or None, "value_inr": value_inr}
    event = _event("DealClosed", deal_id, who, _drop_none(payload), deal["company_key"])
    return events.append(conn, event, expected_version)


def _deal_or_error(conn: psycopg.Connection, deal_id: str) -> dict[str, Any]:
    deal = find_deal(conn, deal_id)
    if deal is None:
        raise DealError(f"no deal {deal_id!r} (the warehouse may no longer infer it)")
    return deal


def _check_open_stage(pipeline: Pipeline, stage: str) -> None:
    if stage in CLOSED_STAGES:
        raise DealError(f"{stage} closes a deal: close it (with a reason when lost)")
    if stage not in pipeline.stages:
        raise DealError(
            f"{stage!r} is not a stage of the {pipeline.name} pipeline; its stages are "
            f"{', '.join(pipeline.stages)}, then won or lost"
        )


# --- tasks ----------------------------------------------------------------------------------

TASK_BUCKETS: tuple[str, ...] = ("overdue", "today", "upcoming", "done")

_TASKS = """
SELECT task_id, title, due_on, owner, linked_type, linked_id, company_key, note,
       is_done, done_at, done_by, created_at, created_by, version,
       CASE WHEN is_done THEN 'done'
            WHEN due_on < %(today)s THEN 'overdue'
            WHEN due_on = %(today)s THEN 'today'
            ELSE 'upcoming' END AS bucket
FROM ops.tasks
WHERE (%(owner)s::text IS NULL OR owner = %(owner)s)
  AND (%(linked_type)s::text IS NULL
       OR (linked_type = %(linked_type)s AND linked_id = %(linked_id)s))
ORDER BY array_position(%(buckets)s::text[],
                        CASE WHEN is_done THEN 'done'
                             WHEN due_on < %(today)s THEN 'overdue'
                             WHEN due_on = %(today)s THEN 'today'
                             ELSE 'upcoming' END),
         CASE WHEN is_done THEN NULL ELSE due_on END,
         done_at DESC, created_at, task_id
"""

TASK_SCHEMA: dict[str, Any] = {
    "task_id": pl.String,
    "title": pl.String,
    "due_on": pl.Date,
    "owner": pl.String,
    "linked_type": pl.String,
    "linked_id": pl.String,
    "company_key": pl.String,
    "note": pl.String,
    "is_done": pl.Boolean,
    "done_at": pl.Datetime("us", "UTC"),
    "done_by": pl.String,
    "created_at": pl.Datetime("us", "UTC"),
    "created_by": pl.String,
    "version": pl.Int64,
    "bucket": pl.String,
}


def list_tasks(
    conn: psycopg.Connection,
    user: User | None,
    *,
    owner: str | None = None,
    everyone: bool = False,
    linked: tuple[str, str] | None = None,
    today: date | None = None,
    tz: tzinfo | None = None,
) -> pl.DataFrame:
    """Tasks, overdue first (oldest due first), then due today, upcoming, and done (latest
    first); ``bucket`` says which. A person sees their own tasks; a manager anyone's
    (``everyone``, or one ``owner``)."""
    who = require(user, *TASK_READERS, action="read tasks")
    if who.role != "manager" and (everyone or (owner and owner != who.name)):
        raise NotAllowed(f"{who.name} reads their own tasks; a manager reads everyone's")
    chosen = None if everyone and not owner else (owner or who.name)
    params = {
        "today": today or datetime.now(tz).date(),
        "owner": chosen,
        "linked_type": linked[0] if linked else None,
        "linked_id": linked[1] if linked else None,
        "buckets": list(TASK_BUCKETS),
    }
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_TASKS, params).fetchall()
    return pl.DataFrame(
        [{k: row[k] for k in TASK_SCHEMA} for row in rows], schema=TASK_SCHEMA, orient="row"
    )


def task_owners(conn: psycopg.Connection, roles: Sequence[str] = TASK_WRITERS) -> list[str]:
    """The active accounts of ``roles`` (default: everyone who works tasks), [] when the
    accounts cannot be read."""
    try:
        rows = conn.execute(
            "SELECT username FROM auth.users WHERE NOT disabled AND role = ANY(%s)"
            " ORDER BY username",
            (list(roles),),
        ).fetchall()
    except (psycopg.errors.UndefinedTable, psycopg.errors.InsufficientPrivilege):
        return []
    return [r[0] for r in rows]


def new_task_id() -> str:
    return f"task:{uuid.uuid4().hex}"


def create_task(
    conn: psycopg.Connection,
    user: User | None,
    *,
    title: str,
    due_on: date,
    owner: str | None = None,
    linked_type: str | None = None,
    linked_id: str | None = None,
    note: str | None = None,
    company_key: str | None = None,
    task_id: str | None = None,
) -> events.Recorded:
    """Record a task due on ``due_on`` for ``owner`` (default: the creator), about what
    ``linked_type``/``linked_id`` name. The owner must be an account that works tasks."""
    who = require(user, *TASK_WRITERS, action="create tasks")
    owner = (owner or who.name).strip()
    _check_owner(conn, owner)
    if linked_type is not None and linked_type not in LINK_TYPES:
        raise DealError(f"a task is linked to one of {', '.join(LINK_TYPES)}, not {linked_type!r}")
    payload = {
        "title": title,
        "due_on": due_on.isoformat() if isinstance(due_on, date) else due_on,
        "owner": owner,
        "linked_type": linked_type,
        "linked_id": linked_id or None,
        "note": (note or "").strip() or None,
    }
    event = _event("TaskCreated", task_id or new_task_id(), who, _drop_none(payload), company_key)
    return events.append(conn, event, 0)


def assign_task(
    conn: psycopg.Connection, user: User | None, task_id: str, owner: str, expected_version: int
) -> events.Recorded:
    """Give the task to ``owner`` (by its owner or its creator)."""
    who = require(user, *TASK_WRITERS, action="reassign tasks")
    task = _task_of(conn, who, task_id)
    owner = (owner or "").strip()
    _check_owner(conn, owner)
    if owner == task["owner"]:
        raise DealError(f"the task is {owner}'s already")
    event = _event("TaskAssigned", task_id, who, {"owner": owner}, task["company_key"])
    return events.append(conn, event, expected_version)


def complete_task(
    conn: psycopg.Connection,
    user: User | None,
    task_id: str,
    expected_version: int,
    note: str | None = None,
) -> events.Recorded:
    """Mark the task done (by its owner or its creator)."""
    who = require(user, *TASK_WRITERS, action="complete tasks")
    task = _task_of(conn, who, task_id)
    if task["is_done"]:
        raise DealError(f"the task was done already (by {task['done_by']})")
    payload = _drop_none({"note": (note or "").strip() or None})
    event = _event("TaskCompleted", task_id, who, payload, task["company_key"])
    return events.append(conn, event, expected_version)


def _task_of(conn: psycopg.Connection, who: User, task_id: str) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        task = cur.execute(
            "SELECT owner, created_by, company_key, is_done, done_by FROM ops.tasks"
            " WHERE task_id = %s",
            (task_id,),
        ).fetchone()
    if task is None:
        raise DealError(f"no task {task_id!r}")
    if who.name not in (task["owner"], task["created_by"]):
        raise NotAllowed(f"only the task's owner ({task['owner']}) or its creator may change it")
    return task


def _check_owner(
    conn: psycopg.Connection, owner: str, roles: Sequence[str] = TASK_WRITERS, what: str = "task"
) -> None:
    """``owner`` must be an active account of ``roles`` (unchecked when no account exists,
    as on a machine before its first ``pebble user add``)."""
    if not owner:
        raise DealError(f"a {what} needs an owner")
    known = task_owners(conn, roles)
    if known and owner not in known:
        works = "tasks" if what == "task" else "deals"
        raise DealError(f"{owner!r} is not an active account that works {works}")


# --- shared ---------------------------------------------------------------------------------


def _drop_none(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if v is not None}


def _event(
    event_type: str,
    entity_id: str,
    user: User,
    payload: dict[str, Any],
    company_key: str | None = None,
) -> events.Event:
    try:
        return events.new_event(
            event_type, entity_id, actor=user.name, payload=payload, company_key=company_key
        )
    except events.EventError as exc:
        raise DealError(str(exc)) from None


_WHAT = {
    "DealCreated": "created",
    "DealMoved": "moved",
    "DealClosed": "closed",
    "TaskCreated": "created",
    "TaskAssigned": "reassigned",
    "TaskCompleted": "completed",
    "PipelineConfigured": "changed",
}


def conflict_message(exc: events.VersionConflict, tz: tzinfo | None = None) -> str:
    """What the person reads when someone else changed the deal, task or pipeline first."""
    thing = {"deal": "deal", "task": "task", "pipeline": "pipeline"}.get(exc.entity_type, "item")
    what = _WHAT.get(exc.last_event_type or "", "changed")
    who = exc.last_actor or "someone else"
    when = ""
    if isinstance(exc.last_occurred_at, datetime):
        at = exc.last_occurred_at.astimezone(tz) if tz else exc.last_occurred_at
        when = f" at {at:%d %b %H:%M}"
    return (
        f"Not saved: {who} {what} this {thing}{when}, after you loaded it. "
        "The page now shows their change; decide again."
    )
