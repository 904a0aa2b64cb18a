"""The stream router's queries and commands (no Streamlit here; ``app/pages/router.py``
shows them).

What an admin routes (``ml.routing`` applies it on the next scoring run, before the model):

- a **mailbox** to a stream: a ``RouteChanged`` event (entity = the mailbox's name), folded
  live by ``ops.mailbox_routes``; the seeded defaults (``staging.stg_mail__mailbox_routes``,
  from ``raw.mailbox_routes``) only fill in mail the model has not scored yet;
- a **sender rule** (sender address, sender domain with its sub-domains, or a subject
  pattern) to a stream, or its removal: a ``RouteRuleChanged`` event (entity =
  ``pebble.events.route_rule_id``), folded live by ``ops.route_rules``.

Every command checks the user's role on the server side (``pebble.auth.require``), needs a
reason, and appends at the version the person saw: someone else's change meanwhile raises
``pebble.events.VersionConflict``. Nothing already scored changes: :func:`preview` shows
which recent cards a rule would have matched. Every query is parameterised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
import psycopg
from psycopg import sql

from ml.routing import (
    RuleError,
    check_subject_pattern,
    normalise_address,
    normalise_domain,
)
from ml.taxonomy import STREAMS
from pebble import events
from pebble.auth import User, require

#: Sender rule kinds in precedence order, with what the page calls them.
RULE_KINDS: dict[str, str] = {
    "address": "sender address",
    "domain": "sender domain (and its sub-domains)",
    "subject": "subject pattern (regular expression, any case)",
}
#: How far back the preview looks, and how many of the matched cards it lists.
PREVIEW_DAYS = 30
PREVIEW_LIMIT = 50
#: Route events listed in the history, newest first.
HISTORY_LIMIT = 200

MAILBOX_COLUMNS = ("mailbox", "default_stream", "set_by", "applies", "version", "updated_at",
                   "updated_by")  # fmt: skip
RULE_COLUMNS = ("rule_id", "kind", "pattern", "stream", "reason", "version", "updated_at",
                "updated_by")  # fmt: skip
HISTORY_COLUMNS = ("occurred_at", "actor", "event_type", "route", "stream", "reason",
                   "version")  # fmt: skip
PREVIEW_COLUMNS = ("subject", "from_address", "mailbox", "current_stream", "last_message_at")


class RouteError(ValueError):
    """A route change that cannot be recorded as asked (the message says why)."""


@dataclass(frozen=True)
class Preview:
    """What a rule would have matched: ``count`` cards with mail in the last ``days`` days,
    ``changes`` of them now in another stream, and the newest ``cards`` (at most
    :data:`PREVIEW_LIMIT`)."""

    count: int
    changes: int
    cards: pl.DataFrame
    days: int = PREVIEW_DAYS
    #: False when marts.email_cards has not been built yet (nothing to match).
    cards_built: bool = True


def _exists(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]


def _frame(rows: list[tuple], columns: tuple[str, ...]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=list(columns), orient="row", infer_schema_length=None)


# --- queries -------------------------------------------------------------------------------


def mailbox_routes(conn: psycopg.Connection) -> pl.DataFrame:
    """One row per known mailbox (seeded, routed by an admin, or holding cards): its default
    stream, who set it (``admin`` with the version, time and person, or ``seed``) and what
    it does (an admin's route applies before the model; a seeded one only to unscored
    mail; without either the model decides)."""
    seeded: dict[str, str] = {}
    if _exists(conn, "staging.stg_mail__mailbox_routes"):
        seeded = dict(
            conn.execute("SELECT mailbox, default_stream FROM staging.stg_mail__mailbox_routes")
        )
    with_cards: set[str] = set()
    if _exists(conn, "marts.email_cards"):
        with_cards = {
            row[0]
            for row in conn.execute(
                "SELECT DISTINCT mailbox FROM marts.email_cards WHERE mailbox IS NOT NULL"
            )
        }
    routed = {
        row[0]: row[1:]
        for row in conn.execute(
            "SELECT mailbox, default_stream, version, updated_at, updated_by "
            "FROM ops.mailbox_routes"
        )
    }
    rows = []
    for mailbox in sorted(set(seeded) | with_cards | set(routed)):
        if mailbox in routed:
            stream, version, updated_at, updated_by = routed[mailbox]
            rows.append((mailbox, stream, "admin", "all new mail, before the model", version,
                         updated_at, updated_by))  # fmt: skip
        elif mailbox in seeded:
            rows.append((mailbox, seeded[mailbox], "seed", "mail not scored yet", 0, None, None))
        else:
            rows.append((mailbox, None, None, "the model decides", 0, None, None))
    return _frame(rows, MAILBOX_COLUMNS)


def route_rules(conn: psycopg.Connection) -> pl.DataFrame:
    """The sender rules in force (``ops.route_rules``), in precedence order (address, domain,
    subject; subject rules newest first, as scoring tries them)."""
    rows = conn.execute(
        """
        SELECT kind, pattern, stream, reason, version, updated_at, updated_by
        FROM ops.route_rules
        ORDER BY array_position(ARRAY['address', 'domain', 'subject'], kind),
                 CASE WHEN kind = 'subject' THEN updated_at END DESC NULLS LAST, pattern
        """
    ).fetchall()
    return _frame([(events.route_rule_id(r[0], r[1]), *r) for r in rows], RULE_COLUMNS)


def rule_versions(conn: psycopg.Connection) -> dict[str, int]:
    """Each sender rule's version (its event count), removed rules included: what a change
    expects (0 for a rule never set)."""
    return dict(
        conn.execute(
            "SELECT entity_id, max(entity_version) FROM ops.events "
            "WHERE entity_type = 'route' GROUP BY entity_id"
        )
    )


def route_history(conn: psycopg.Connection, limit: int = HISTORY_LIMIT) -> pl.DataFrame:
    """Route events, newest first: who changed which mailbox or rule, to what, and why."""
    rows = conn.execute(
        """
        SELECT occurred_at, actor, event_type,
               CASE WHEN entity_type = 'mailbox' THEN 'mailbox:' || entity_id ELSE entity_id END,
               coalesce(payload ->> 'stream', '(removed)'), payload ->> 'reason', entity_version
        FROM ops.events
        WHERE entity_type IN ('mailbox', 'route')
        ORDER BY event_seq DESC
        LIMIT %s
        """,
        (limit,),
    ).fetchall()
    return _frame(rows, HISTORY_COLUMNS)


def normalise_rule(conn: psycopg.Connection, kind: str, pattern: str) -> str:
    """The rule's pattern as stored (domains and addresses in lower case), or
    :class:`RouteError`. A subject pattern must be in the subset Python and PostgreSQL read
    alike (``ml.routing.check_subject_pattern``) and compile in PostgreSQL too."""
    try:
        if kind == "address":
            return normalise_address(pattern)
        if kind == "domain":
            return normalise_domain(pattern)
        if kind != "subject":
            raise RouteError(f"unknown rule kind {kind!r}; expected one of {', '.join(RULE_KINDS)}")
        pattern = check_subject_pattern(pattern)
    except RuleError as exc:
        raise RouteError(str(exc)) from None
    try:
        with conn.transaction():
            conn.execute("SELECT '' ~* %s", (pattern,))
    except psycopg.errors.InvalidRegularExpression as exc:
        raise RouteError(
            f"PostgreSQL cannot read the subject pattern: {exc.diag.message_primary}"
        ) from None
    return pattern


# The rule's match against a card, as ml.routing applies it to an email: address exact,
# domain or any sub-domain, subject searched case-insensitively. A card is matched on its
# latest customer sender and its first subject.
_MATCH = {
    "address": "lower(c.from_address) = %(pattern)s",
    "domain": "(lower(c.from_domain) = %(pattern)s "
    "OR right(lower(c.from_domain), length(%(pattern)s) + 1) = '.' || %(pattern)s)",
    "subject": "c.subject ~* %(pattern)s",
    "mailbox": "lower(c.mailbox) = lower(%(pattern)s)",
}
_MATCHED = sql.SQL("""
    SELECT c.card_id, c.subject, c.from_address, c.mailbox,
           coalesce(live.stream, c.stream) AS current_stream, c.last_message_at
    FROM marts.email_cards AS c
    LEFT JOIN ops.card_state AS live ON live.card_id = c.card_id
    WHERE c.last_message_at >= now() - make_interval(days => %(days)s)
      AND {where}
""")
_COUNT = sql.SQL(
    "SELECT count(*), count(*) FILTER (WHERE current_stream IS DISTINCT FROM %(stream)s::text) "
    "FROM ({matched}) AS m"
)
_FIRST = sql.SQL(
    "SELECT subject, from_address, mailbox, current_stream, last_message_at FROM ({matched}) AS m "
    "ORDER BY last_message_at DESC, card_id LIMIT %(limit)s"
)


def preview(
    conn: psycopg.Connection,
    kind: str,
    pattern: str,
    stream: str | None = None,
    *,
    days: int = PREVIEW_DAYS,
    limit: int = PREVIEW_LIMIT,
) -> Preview:
    """The cards with mail in the last ``days`` days that a rule (``kind`` one of
    :data:`RULE_KINDS` or ``mailbox``) would have matched; ``changes`` counts those whose
    current stream (people's corrections applied) is not ``stream``. Raises
    :class:`RouteError` for a pattern that cannot be a rule."""
    if kind == "mailbox":
        pattern = pattern.strip()
    else:
        pattern = normalise_rule(conn, kind, pattern)
    if not _exists(conn, "marts.email_cards"):
        return Preview(0, 0, _frame([], PREVIEW_COLUMNS), days, cards_built=False)
    params: dict[str, Any] = {"pattern": pattern, "days": days, "stream": stream, "limit": limit}
    matched = _MATCHED.format(where=sql.SQL(_MATCH[kind]))
    count, changes = conn.execute(_COUNT.format(matched=matched), params).fetchone()
    rows = conn.execute(_FIRST.format(matched=matched), params).fetchall()
    return Preview(int(count), int(changes), _frame(rows, PREVIEW_COLUMNS), days)


# --- commands ------------------------------------------------------------------------------


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise RouteError("say why (the reason is kept with the change)")
    return reason


def _stream(stream: str | None) -> str:
    if stream not in STREAMS:
        raise RouteError(f"unknown stream {stream!r}; expected one of {', '.join(STREAMS)}")
    return stream


def set_mailbox_route(
    conn: psycopg.Connection,
    user: User | None,
    mailbox: str,
    stream: str,
    reason: str | None,
    expected_version: int,
    *,
    occurred_at: datetime | None = None,
) -> events.Recorded:
    """Route all new mail of ``mailbox`` to ``stream`` (a ``RouteChanged`` event), from the
    next scoring run on. Admins only; ``expected_version`` is the mailbox's version the
    person saw (``VersionConflict`` if it moved)."""
    user = require(user, "admin", action="route a mailbox")
    mailbox = (mailbox or "").strip()
    if not mailbox:
        raise RouteError("choose a mailbox")
    event = events.new_event(
        "RouteChanged",
        mailbox,
        actor=user.name,
        payload={"stream": _stream(stream), "reason": _reason(reason)},
        occurred_at=occurred_at,
    )
    return events.append(conn, event, expected_version)


def set_rule(
    conn: psycopg.Connection,
    user: User | None,
    kind: str,
    pattern: str,
    stream: str,
    reason: str | None,
    expected_version: int,
) -> events.Recorded:
    """Set a sender rule (a ``RouteRuleChanged`` event): mail matching it goes to ``stream``
    from the next scoring run on. Admins only; ``expected_version`` is the rule's version
    the person saw (0 for a new one; see :func:`rule_versions`)."""
    user = require(user, "admin", action="set a routing rule")
    reason = _reason(reason)
    stream = _stream(stream)
    pattern = normalise_rule(conn, kind, pattern)
    event = events.new_event(
        "RouteRuleChanged",
        actor=user.name,
        payload={"kind": kind, "pattern": pattern, "stream": stream, "reason": reason},
    )
    return events.append(conn, event, expected_version)


def remove_rule(
    conn: psycopg.Connection,
    user: User | None,
    rule_id: str,
    reason: str | None,
    expected_version: int,
) -> events.Recorded:
    """Remove the sender rule ``rule_id`` (``<kind>:<pattern>``, as :func:`route_rules`
    lists it): its mail goes back to the model (or a weaker rule) from the next run."""
    user = require(user, "admin", action="remove a routing rule")
    reason = _reason(reason)
    kind, _, pattern = (rule_id or "").partition(":")
    if kind not in RULE_KINDS or not pattern:
        raise RouteError(f"{rule_id!r} is not a rule")
    event = events.new_event(
        "RouteRuleChanged",
        rule_id,
        actor=user.name,
        payload={"kind": kind, "pattern": pattern, "stream": None, "reason": reason},
    )
    return events.append(conn, event, expected_version)


def conflict_message(exc: events.VersionConflict) -> str:
    """What the page says when someone else changed the route first."""
    who = f" by {exc.last_actor}" if exc.last_actor else ""
    when = f" at {exc.last_occurred_at:%Y-%m-%d %H:%M}" if exc.last_occurred_at else ""
    return (
        f"Someone else changed this route meanwhile{who}{when}: nothing was saved. "
        "The tables now show the current routes; check them and try again."
    )
