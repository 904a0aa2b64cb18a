"""The write path for people's actions: validated events appended to ``ops.events``.

A screen never updates a card: it records what the person did (``CardMoved``,
``PreleadApproved``...) with :func:`append`, and reads the current state from the views
that fold the events (``ops.card_state``, ``ops.prelead_decisions``, ``ops.company_merges``,
``ops.mailbox_routes``), so the change shows at once, without a dbt run.

Every append names the version of the entity the person saw (0 for an entity without
events). If someone else changed the entity since, the append raises
:class:`VersionConflict` (with the current version and who changed it last) instead of
overwriting their change silently. Under a real race the unique key
``(entity_type, entity_id, entity_version)`` decides: exactly one of two writers that read
the same version gets the next one. The ``event_id`` is the idempotency key: sending the
same event again (a retry after a timeout) stores nothing and returns the first record.

    from pebble import events
    event = events.new_event("CardMoved", thread_key, actor="priya", payload={"to": "quoted"})
    recorded = events.append(conn, event, expected_version=3)   # -> Recorded(version 4)

The migration ``0005`` creates the table, its guards (append-only trigger, gap-free
versions, known event types) and the views; the app's role may INSERT here and nowhere else.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from pydantic import ValidationError

from pebble.event_payloads import (
    CardAssigned,
    CardMoved,
    CardReclassified,
    CompanyMerged,
    CompanySplit,
    DealClosed,
    DealCreated,
    DealMoved,
    PipelineConfigured,
    PreleadApproved,
    PreleadMerged,
    PreleadRejected,
    QCAlertAcknowledged,
    ReplyDrafted,
    ReplySent,
    RouteChanged,
    RouteRuleChanged,
    SignedIn,
    SignedOut,
    SignInFailed,
    TaskAssigned,
    TaskCompleted,
    TaskCreated,
    TenderDecided,
    UserAdded,
    UserPasswordReset,
    UserRoleChanged,
    _Payload,
    _PreleadRow,
)

#: The columns a card can be moved to (a card without events is ``new``).
CARD_STATUSES: tuple[str, ...] = (
    "new",
    "in_progress",
    "waiting_on_customer",
    "quoted",
    "done",
    "spam",
)
#: The entity each event type is about. The migrations 0005, 0006, 0008 and 0009 check the same pairs.
ENTITY_OF: dict[str, str] = {
    "CardMoved": "card",
    "CardAssigned": "card",
    "CardReclassified": "card",
    "ReplyDrafted": "card",
    "ReplySent": "card",
    "PreleadApproved": "prelead",
    "PreleadRejected": "prelead",
    "PreleadMerged": "prelead",
    "CompanyMerged": "company",
    "CompanySplit": "company",
    "RouteChanged": "mailbox",
    "RouteRuleChanged": "route",
    "UserAdded": "user",
    "UserRoleChanged": "user",
    "UserPasswordReset": "user",
    "SignedIn": "user",
    "SignedOut": "user",
    "SignInFailed": "user",
    "QCAlertAcknowledged": "qc_alert",
    "TenderDecided": "tender",
    "PipelineConfigured": "pipeline",
    "DealCreated": "deal",
    "DealMoved": "deal",
    "DealClosed": "deal",
    "TaskCreated": "task",
    "TaskAssigned": "task",
    "TaskCompleted": "task",
}
EVENT_TYPES: tuple[str, ...] = tuple(ENTITY_OF)
ENTITY_TYPES: tuple[str, ...] = (
    "card",
    "prelead",
    "company",
    "mailbox",
    "route",
    "user",
    "qc_alert",
    "tender",
    "pipeline",
    "deal",
    "task",
)
#: Longest entity id, actor and key the table takes (CHECK constraints in 0005).
MAX_ID_CHARS = 512
MAX_ACTOR_CHARS = 200
#: The unique constraint whose violation means "someone appended this version first".
_VERSION_KEY = "events_entity_version_key"


# --- errors ---------------------------------------------------------------------------------


class EventError(ValueError):
    """An event that cannot be recorded as given (unknown type, bad payload, bad entity)."""


class EventIdReused(EventError):
    """An ``event_id`` already stored for a different event: the key identifies one event."""


class VersionConflict(Exception):
    """The entity changed since the writer read it: reload, then decide again.

    ``current`` is the entity's version now; ``last_actor``, ``last_event_type`` and
    ``last_occurred_at`` describe the change the writer did not see."""

    def __init__(
        self,
        entity_type: str,
        entity_id: str,
        expected: int,
        current: int,
        last_actor: str | None,
        last_event_type: str | None,
        last_occurred_at: datetime | None,
    ) -> None:
        self.entity_type = entity_type
        self.entity_id = entity_id
        self.expected = expected
        self.current = current
        self.last_actor = last_actor
        self.last_event_type = last_event_type
        self.last_occurred_at = last_occurred_at
        last = (
            f" (last change: {last_event_type} by {last_actor} at {last_occurred_at:%Y-%m-%d %H:%M:%S %Z})"
            if last_actor and last_occurred_at
            else ""
        )
        super().__init__(
            f"{entity_type} {entity_id!r} is at version {current}{last}, not at version "
            f"{expected} as expected: reload it and try again"
        )


# --- the registry: event type -> payload model (pebble.event_payloads) ----------------------

PAYLOADS: dict[str, type[_Payload]] = {
    "CardMoved": CardMoved,
    "CardAssigned": CardAssigned,
    "CardReclassified": CardReclassified,
    "ReplyDrafted": ReplyDrafted,
    "ReplySent": ReplySent,
    "PreleadApproved": PreleadApproved,
    "PreleadRejected": PreleadRejected,
    "PreleadMerged": PreleadMerged,
    "CompanyMerged": CompanyMerged,
    "CompanySplit": CompanySplit,
    "RouteChanged": RouteChanged,
    "RouteRuleChanged": RouteRuleChanged,
    "UserAdded": UserAdded,
    "UserRoleChanged": UserRoleChanged,
    "UserPasswordReset": UserPasswordReset,
    "SignedIn": SignedIn,
    "SignedOut": SignedOut,
    "SignInFailed": SignInFailed,
    "QCAlertAcknowledged": QCAlertAcknowledged,
    "TenderDecided": TenderDecided,
    "PipelineConfigured": PipelineConfigured,
    "DealCreated": DealCreated,
    "DealMoved": DealMoved,
    "DealClosed": DealClosed,
    "TaskCreated": TaskCreated,
    "TaskAssigned": TaskAssigned,
    "TaskCompleted": TaskCompleted,
}
if set(PAYLOADS) != set(ENTITY_OF):
    raise RuntimeError("every event type needs a payload model and an entity type")


def route_rule_id(kind: str, pattern: str) -> str:
    """The entity id of a sender rule: ``<kind>:<pattern>``, domains and addresses in lower
    case (they match case-insensitively), subject patterns as written."""
    pattern = pattern.strip()
    return f"{kind}:{pattern.lower() if kind in ('domain', 'address') else pattern}"


def prelead_id(batch: str, row_no: int) -> str:
    """The entity id of a prelead row: ``<batch>/<row_no>`` (the row number is last, so a
    batch name with a slash stays unambiguous)."""
    return f"{batch}/{row_no}"


# --- events ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One validated event, ready to append. Build it with :func:`new_event`."""

    event_type: str
    entity_type: str
    entity_id: str
    actor: str
    payload: dict[str, Any]
    occurred_at: datetime
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)
    company_key: str | None = None


@dataclass(frozen=True)
class Recorded:
    """An event as stored. ``duplicate`` is True when this ``event_id`` was already stored
    (a retry): nothing new was written and these are the first call's values."""

    event_seq: int
    event_id: uuid.UUID
    event_type: str
    entity_type: str
    entity_id: str
    entity_version: int
    actor: str
    payload: dict[str, Any]
    company_key: str | None
    occurred_at: datetime
    recorded_at: datetime
    duplicate: bool = False


def new_event(
    event_type: str,
    entity_id: str | None = None,
    *,
    actor: str,
    payload: dict[str, Any],
    company_key: str | None = None,
    occurred_at: datetime | None = None,
    event_id: uuid.UUID | str | None = None,
) -> Event:
    """Validate an event and return it, or raise :class:`EventError` saying what is wrong.

    The payload is checked against the event type's model (unknown fields are refused, so a
    typo is an error, not a silently lost value) and stored normalised. Prelead events take
    their entity id from the payload's batch and row number. ``occurred_at`` defaults to now
    and must carry a time zone; ``event_id`` defaults to a new UUID (keep it to retry)."""
    if event_type not in ENTITY_OF:
        raise EventError(
            f"unknown event type {event_type!r}; expected one of {', '.join(EVENT_TYPES)}"
        )
    model = _validated(event_type, payload)
    if isinstance(model, _PreleadRow):
        derived = prelead_id(model.batch, model.row_no)
        if entity_id is not None and entity_id != derived:
            raise EventError(
                f"{event_type}: entity id {entity_id!r} does not match the payload's batch and "
                f"row_no ({derived!r})"
            )
        entity_id = derived
    if isinstance(model, RouteRuleChanged):
        derived = route_rule_id(model.kind, model.pattern)
        if entity_id is not None and entity_id != derived:
            raise EventError(
                f"{event_type}: entity id {entity_id!r} does not match the payload's kind and "
                f"pattern ({derived!r})"
            )
        entity_id = derived
    entity_id = _checked_text(event_type, "entity id", entity_id, MAX_ID_CHARS)
    if isinstance(model, QCAlertAcknowledged) and not entity_id.startswith(f"{model.alert_type}:"):
        raise EventError(
            f"{event_type}: alert {entity_id!r} is not a {model.alert_type} alert "
            f"(its id starts with {model.alert_type}:)"
        )
    if isinstance(model, CompanyMerged) and model.into_company_key == entity_id:
        raise EventError(f"CompanyMerged: company {entity_id!r} cannot be merged into itself")
    return Event(
        event_type=event_type,
        entity_type=ENTITY_OF[event_type],
        entity_id=entity_id,
        actor=_checked_text(event_type, "actor", actor, MAX_ACTOR_CHARS),
        payload=model.model_dump(mode="json", exclude_none=True),
        occurred_at=_checked_time(event_type, occurred_at),
        event_id=_checked_id(event_type, event_id),
        company_key=(
            None
            if company_key is None
            else _checked_text(event_type, "company_key", company_key, MAX_ID_CHARS)
        ),
    )


def _validated(event_type: str, payload: Any) -> _Payload:
    if not isinstance(payload, dict):
        raise EventError(
            f"{event_type}: the payload must be an object, not {type(payload).__name__}"
        )
    try:
        return PAYLOADS[event_type].model_validate(payload)
    except ValidationError as exc:
        problems = "; ".join(_describe(error) for error in exc.errors())
        raise EventError(f"{event_type} payload is not valid: {problems}") from None


def _describe(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _checked_text(event_type: str, what: str, value: Any, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise EventError(f"{event_type}: {what} is required (a non-empty string)")
    if len(value) > limit:
        raise EventError(f"{event_type}: {what} is longer than {limit} characters")
    return value


def _checked_time(event_type: str, value: datetime | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise EventError(f"{event_type}: occurred_at must be a datetime with a time zone")
    return value


def _checked_id(event_type: str, value: uuid.UUID | str | None) -> uuid.UUID:
    if value is None:
        return uuid.uuid4()
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise EventError(f"{event_type}: event_id {value!r} is not a UUID") from None


# --- writing --------------------------------------------------------------------------------

# One statement: the version check and the insert. Two writers that both pass the check
# collide on the unique (entity_type, entity_id, entity_version); the second waits for the
# first to commit and then fails, which append() turns into a VersionConflict.
_APPEND = """
INSERT INTO ops.events (event_id, event_type, entity_type, entity_id, entity_version,
                        company_key, actor, payload, occurred_at)
SELECT %(event_id)s, %(event_type)s, %(entity_type)s, %(entity_id)s, %(expected)s + 1,
       %(company_key)s, %(actor)s, %(payload)s, %(occurred_at)s
WHERE (SELECT coalesce(max(entity_version), 0) FROM ops.events
       WHERE entity_type = %(entity_type)s AND entity_id = %(entity_id)s) = %(expected)s
ON CONFLICT (event_id) DO NOTHING
RETURNING event_seq, event_id, event_type, entity_type, entity_id, entity_version,
          actor, payload, company_key, occurred_at, recorded_at
"""


def append(conn: psycopg.Connection, event: Event, expected_version: int) -> Recorded:
    """Append ``event`` as version ``expected_version + 1`` of its entity, in one transaction.

    ``expected_version`` is the entity's version the person acted on (0: no events yet).
    Raises :class:`VersionConflict` when the entity is at another version, also when another
    writer appended first a moment ago. The same ``event_id`` again returns the stored
    record (``duplicate=True``) instead of writing twice; the same id with other content
    raises :class:`EventIdReused`. Inside the caller's transaction this runs in a savepoint:
    a conflict leaves the caller's transaction usable, and its rollback removes the event."""
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        raise EventError("expected_version must be an int (0 for an entity without events)")
    if expected_version < 0:
        raise EventError(f"expected_version must be 0 or more, not {expected_version}")
    params = {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "expected": expected_version,
        "company_key": event.company_key,
        "actor": event.actor,
        "payload": Jsonb(event.payload),
        "occurred_at": event.occurred_at,
    }
    try:
        row = _insert(conn, params)
    except psycopg.errors.UniqueViolation as exc:
        if exc.diag.constraint_name != _VERSION_KEY:
            raise
        row = None
    if row is not None:
        return _recorded(row)
    stored = _stored(conn, event.event_id)
    if stored is not None:
        return _same_event(stored, event)
    raise _conflict(conn, event.entity_type, event.entity_id, expected_version)


# Many events in one statement (a bulk decision over thousands of rows): the version
# check reads each entity's head once, and the unique key settles a race as in _APPEND.
_APPEND_MANY = """
WITH batch AS (
    SELECT * FROM unnest(%(event_id)s::uuid[], %(event_type)s::text[], %(entity_type)s::text[],
                         %(entity_id)s::text[], %(expected)s::integer[], %(company_key)s::text[],
                         %(actor)s::text[], %(payload)s::jsonb[], %(occurred_at)s::timestamptz[])
        AS b (event_id, event_type, entity_type, entity_id, expected, company_key, actor,
              payload, occurred_at)
),
heads AS (
    SELECT b.entity_type, b.entity_id, coalesce(max(e.entity_version), 0) AS version
    FROM batch AS b
    LEFT JOIN ops.events AS e ON e.entity_type = b.entity_type AND e.entity_id = b.entity_id
    GROUP BY b.entity_type, b.entity_id
)
INSERT INTO ops.events (event_id, event_type, entity_type, entity_id, entity_version,
                        company_key, actor, payload, occurred_at)
SELECT b.event_id, b.event_type, b.entity_type, b.entity_id, b.expected + 1,
       b.company_key, b.actor, b.payload, b.occurred_at
FROM batch AS b
JOIN heads AS h ON h.entity_type = b.entity_type AND h.entity_id = b.entity_id
WHERE h.version = b.expected
ON CONFLICT (event_id) DO NOTHING
RETURNING event_seq, event_id, event_type, entity_type, entity_id, entity_version,
          actor, payload, company_key, occurred_at, recorded_at
"""


def append_many(conn: psycopg.Connection, items: Sequence[tuple[Event, int]]) -> list[Recorded]:
    """Append many events, each at its ``expected_version`` as in :func:`append`, all or
    nothing, in one statement (10,000 decisions commit in well under a second).

    Each entity may appear once. If any entity is not at the version its event expects,
    nothing is written and :class:`VersionConflict` names the first such entity. Events
    already stored (same ``event_id``, a retried batch) come back with ``duplicate=True``.
    Returns the records in the order of ``items``."""
    if not items:
        return []
    seen: set[tuple[str, str]] = set()
    for event, expected in items:
        if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
            raise EventError("every expected_version must be an int, 0 or more")
        key = (event.entity_type, event.entity_id)
        if key in seen:
            raise EventError(
                f"{event.entity_type} {event.entity_id!r} appears twice in one batch: "
                "append its events one after the other"
            )
        seen.add(key)
    columns: dict[str, list[Any]] = {
        name: []
        for name in (
            "event_id",
            "event_type",
            "entity_type",
            "entity_id",
            "expected",
            "company_key",
            "actor",
            "payload",
            "occurred_at",
        )  # fmt: skip
    }
    for event, expected in items:
        columns["event_id"].append(event.event_id)
        columns["event_type"].append(event.event_type)
        columns["entity_type"].append(event.entity_type)
        columns["entity_id"].append(event.entity_id)
        columns["expected"].append(expected)
        columns["company_key"].append(event.company_key)
        columns["actor"].append(event.actor)
        columns["payload"].append(Jsonb(event.payload))
        columns["occurred_at"].append(event.occurred_at)
    with conn.transaction():
        try:
            rows = conn.execute(_APPEND_MANY, columns).fetchall()
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.constraint_name != _VERSION_KEY:
                raise
            rows = None
        written = {} if rows is None else {row[1]: _recorded(row) for row in rows}
        out: list[Recorded] = []
        for event, expected in items:
            record = written.get(event.event_id)
            if record is None:
                stored = _stored(conn, event.event_id)
                if stored is None:
                    raise _conflict(conn, event.entity_type, event.entity_id, expected)
                record = _same_event(stored, event)
            out.append(record)
    return out


def _insert(conn: psycopg.Connection, params: dict[str, Any]) -> tuple | None:
    """Run the one statement in a transaction of its own, or in a savepoint of the caller's.

    On an idle autocommit connection the statement is its own transaction already, so no
    BEGIN/COMMIT round trips are spent on it."""
    idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    if conn.autocommit and idle:
        return conn.execute(_APPEND, params).fetchone()
    with conn.transaction():
        return conn.execute(_APPEND, params).fetchone()


def _recorded(row: tuple, duplicate: bool = False) -> Recorded:
    return Recorded(*row, duplicate=duplicate)


def _stored(conn: psycopg.Connection, event_id: uuid.UUID) -> Recorded | None:
    row = conn.execute(
        "SELECT event_seq, event_id, event_type, entity_type, entity_id, entity_version, actor, "
        "payload, company_key, occurred_at, recorded_at FROM ops.events WHERE event_id = %s",
        (event_id,),
    ).fetchone()
    return None if row is None else _recorded(row, duplicate=True)


def _same_event(stored: Recorded, event: Event) -> Recorded:
    """A retry is the same event: type, entity, actor and payload must match."""
    mine = (event.event_type, event.entity_id, event.actor, event.payload)
    theirs = (stored.event_type, stored.entity_id, stored.actor, stored.payload)
    if mine != theirs:
        raise EventIdReused(
            f"event_id {event.event_id} is already stored for another event "
            f"({stored.event_type} of {stored.entity_type} {stored.entity_id!r} by "
            f"{stored.actor}): use a new event_id for a new event"
        )
    return stored


def _conflict(
    conn: psycopg.Connection, entity_type: str, entity_id: str, expected: int
) -> VersionConflict:
    last = conn.execute(
        "SELECT entity_version, actor, event_type, occurred_at FROM ops.events "
        "WHERE entity_type = %s AND entity_id = %s ORDER BY entity_version DESC LIMIT 1",
        (entity_type, entity_id),
    ).fetchone()
    if last is None:
        return VersionConflict(entity_type, entity_id, expected, 0, None, None, None)
    return VersionConflict(entity_type, entity_id, expected, *last)


# --- reading --------------------------------------------------------------------------------


def current_version(conn: psycopg.Connection, entity_type: str, entity_id: str) -> int:
    """The entity's version now: the number of its events (0 when it has none)."""
    _check_entity_type(entity_type)
    row = conn.execute(
        "SELECT coalesce(max(entity_version), 0) FROM ops.events "
        "WHERE entity_type = %s AND entity_id = %s",
        (entity_type, entity_id),
    ).fetchone()
    return int(row[0])


def history(conn: psycopg.Connection, entity_type: str, entity_id: str) -> list[Recorded]:
    """Every event of one entity, oldest first (version 1, 2, ...)."""
    _check_entity_type(entity_type)
    rows = conn.execute(
        "SELECT event_seq, event_id, event_type, entity_type, entity_id, entity_version, actor, "
        "payload, company_key, occurred_at, recorded_at FROM ops.events "
        "WHERE entity_type = %s AND entity_id = %s ORDER BY entity_version",
        (entity_type, entity_id),
    ).fetchall()
    return [_recorded(row) for row in rows]


def _check_entity_type(entity_type: str) -> None:
    if entity_type not in ENTITY_TYPES:
        raise EventError(
            f"unknown entity type {entity_type!r}; expected one of {', '.join(ENTITY_TYPES)}"
        )
