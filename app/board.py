"""The Kanban board's queries and commands (no Streamlit here, so they are tested directly).

Invariants:

- A user reads only the cards of their streams (``pebble.auth.User.streams``; a card
  without a stream counts as ``other``). The restriction is a parameter of every query, so
  a card of another stream is not fetched at all: not shown, not counted, not movable.
- The board reads ``marts.email_cards`` with the live fold of people's events
  (``ops.card_state``) applied, so a move shows at once, before the next dbt build.
- A column never returns more than one page of cards (newest first, or by search rank),
  whatever the number of cards: the totals come from a separate count.
- The only write is :func:`move_card`: it checks the role on the server side, checks the
  card is one of the user's, and appends ``CardMoved`` at the version the person saw.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime, tzinfo
from typing import Any

import polars as pl
import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from pebble import db, events
from pebble.auth import NotAllowed, User, require

#: Roles that may open the board; of them only ``MOVERS`` may move cards.
READERS: tuple[str, ...] = ("sales", "ops", "manager")
MOVERS: tuple[str, ...] = ("sales", "ops")


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    statuses: tuple[str, ...]
    #: The status a card dropped on this column gets.
    target: str


#: The board's columns, in display order. ``quoted`` cards wait on the customer too.
COLUMNS: tuple[Column, ...] = (
    Column("inbox", "Inbox", ("new",), "new"),
    Column("in_progress", "In progress", ("in_progress",), "in_progress"),
    Column(
        "waiting", "Waiting on customer", ("waiting_on_customer", "quoted"), "waiting_on_customer"
    ),
    Column("done", "Done", ("done",), "done"),
)
COLUMN_OF_STATUS: dict[str, str] = {s: c.key for c in COLUMNS for s in c.statuses}
#: Counted, never shown.
HIDDEN_STATUS = "spam"
#: The statuses a card can be moved to from the menu, with the words the menu uses.
MOVE_LABELS: dict[str, str] = {
    "new": "Inbox",
    "in_progress": "In progress",
    "waiting_on_customer": "Waiting on customer",
    "quoted": "Waiting on customer (quoted)",
    "done": "Done",
    "spam": "Spam (off the board)",
}
#: Cards per column and page: with a menu and a link per card, a column stays small.
PAGE_SIZE = 12


@dataclass(frozen=True)
class BoardFilter:
    """What the board is narrowed to; every field is a URL query parameter of the same name
    (``review`` and ``older`` for the last two), so a view can be shared."""

    stream: str | None = None
    intent: str | None = None
    mailbox: str | None = None
    assignee: str | None = None
    company: str | None = None
    review: bool = False
    #: Only cards whose newest message is older than this many days.
    older: int | None = None

    def to_params(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, value in asdict(self).items():
            if value is None or value is False or value == "":
                continue
            out[name] = "1" if value is True else str(value)
        return out

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> BoardFilter:
        """The filter a URL asks for; values that make no sense are left out."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = params.get(f.name)
            if isinstance(raw, list):
                raw = raw[-1] if raw else None
            if raw is None or str(raw).strip() == "":
                continue
            text = str(raw).strip()
            if f.name == "review":
                values["review"] = text.lower() in ("1", "true", "yes")
            elif f.name == "older":
                if text.isdigit() and 0 < int(text) <= 3650:
                    values["older"] = int(text)
            else:
                values[f.name] = text[:200]
        return cls(**values)

    def sql_params(self) -> dict[str, Any]:
        return {
            "f_stream": self.stream,
            "f_intent": self.intent,
            "f_mailbox": self.mailbox,
            "f_assignee": self.assignee,
            "f_company": self.company.lower() if self.company else None,
            "f_review": self.review,
            "f_older": self.older,
        }


# marts.email_cards with the live fold of people's events on top (as app.data does), the
# user's streams and the filter applied. A card with events is what ops.card_state says.
_CARDS = sql.SQL("""
    WITH cards AS (
        SELECT
            c.card_id, c.mailbox, c.subject, c.from_display, c.from_address,
            c.last_message_at, c.message_count, c.snippet, c.attachment_count,
            c.company_key, c.company_name,
            coalesce(live.stream, c.stream)                          AS stream,
            coalesce(live.intent, c.intent)                          AS intent,
            c.confidence,
            CASE WHEN live.stream IS NOT NULL THEN false
                 ELSE c.requires_review END                          AS requires_review,
            live.stream IS NOT NULL OR c.reclassified                AS reclassified,
            CASE WHEN live.card_id IS NULL THEN c.status
                 ELSE coalesce(live.status, 'new') END               AS status,
            CASE WHEN live.card_id IS NULL THEN c.assignee
                 ELSE live.assignee END                              AS assignee,
            greatest(c.card_version, coalesce(live.version, 0))      AS card_version
        FROM marts.email_cards AS c
        LEFT JOIN ops.card_state AS live ON live.card_id = c.card_id
        WHERE (%(card_ids)s::text[] IS NULL OR c.card_id = ANY(%(card_ids)s::text[]))
    ),
    visible AS (
        SELECT * FROM cards
        WHERE coalesce(stream, 'other') = ANY(%(streams)s::text[])
          AND (%(f_stream)s::text IS NULL OR stream = %(f_stream)s)
          AND (%(f_intent)s::text IS NULL OR intent = %(f_intent)s)
          AND (%(f_mailbox)s::text IS NULL OR mailbox = %(f_mailbox)s)
          AND (%(f_assignee)s::text IS NULL OR assignee = %(f_assignee)s)
          AND (%(f_company)s::text IS NULL
               OR strpos(lower(coalesce(company_name, '') || ' ' || coalesce(company_key, '')),
                         %(f_company)s) > 0)
          AND (NOT %(f_review)s OR requires_review)
          AND (%(f_older)s::integer IS NULL
               OR last_message_at < now() - make_interval(days => %(f_older)s::integer))
    )
""")


def _cards_then(query: str, **parts: sql.Composable) -> sql.Composed:
    """The cards CTE followed by ``query`` (``{name}`` slots filled with ``parts``)."""
    return sql.Composed([_CARDS, sql.SQL(query).format(**parts)])


_COUNTS = _cards_then("SELECT status, count(*) FROM visible GROUP BY status")

_COLUMN_OF = sql.SQL("CASE {} END").format(
    sql.SQL(" ").join(
        sql.SQL("WHEN status = {} THEN {}").format(sql.Literal(status), sql.Literal(column))
        for status, column in COLUMN_OF_STATUS.items()
    )
)

# One page of each column: rank within the column (newest first, or the search's order),
# then each column's own window [offset, offset + page_size).
_PAGE = _cards_then(
    """
    SELECT * FROM (
        SELECT visible.*, {column} AS board_column,
               row_number() OVER (
                   PARTITION BY {column}
                   ORDER BY array_position(%(card_ids)s::text[], card_id),
                            last_message_at DESC NULLS LAST, card_id
               ) AS rank
        FROM visible
        WHERE status <> 'spam'
    ) ranked
    WHERE rank > (%(offsets)s::jsonb ->> board_column)::integer
      AND rank <= (%(offsets)s::jsonb ->> board_column)::integer + %(page_size)s
    ORDER BY board_column, rank
    """,
    column=_COLUMN_OF,
)

_OPTIONS = _cards_then(
    """
    SELECT 'mailbox' AS kind, mailbox AS value FROM visible WHERE mailbox IS NOT NULL
    UNION
    SELECT 'assignee', assignee FROM visible WHERE assignee IS NOT NULL
    ORDER BY 1, 2
    """
)

_STATUS_OF_CARD = _cards_then("SELECT status FROM visible")

CARD_SCHEMA: dict[str, Any] = {
    "card_id": pl.String,
    "mailbox": pl.String,
    "subject": pl.String,
    "from_display": pl.String,
    "from_address": pl.String,
    "last_message_at": pl.Datetime("us", "UTC"),
    "message_count": pl.Int64,
    "snippet": pl.String,
    "attachment_count": pl.Int64,
    "company_key": pl.String,
    "company_name": pl.String,
    "stream": pl.String,
    "intent": pl.String,
    "confidence": pl.Float64,
    "requires_review": pl.Boolean,
    "reclassified": pl.Boolean,
    "status": pl.String,
    "assignee": pl.String,
    "card_version": pl.Int64,
    "board_column": pl.String,
    "rank": pl.Int64,
}


class MartNotBuilt(RuntimeError):
    """marts.email_cards has not been materialised yet."""


@dataclass(frozen=True)
class Board:
    """What the board shows: per column its total and one page of cards."""

    totals: dict[str, int]
    spam: int
    cards: pl.DataFrame

    def column(self, key: str) -> pl.DataFrame:
        return self.cards.filter(pl.col("board_column") == key)

    @property
    def total(self) -> int:
        return sum(self.totals.values())


def _params(
    user: User, board_filter: BoardFilter, card_ids: Sequence[str] | None
) -> dict[str, Any]:
    return {
        "streams": list(user.streams),
        "card_ids": None if card_ids is None else list(card_ids),
        **board_filter.sql_params(),
    }


def fetch_board(
    user: User,
    board_filter: BoardFilter = BoardFilter(),
    pages: Mapping[str, int] | None = None,
    *,
    card_ids: Sequence[str] | None = None,
    page_size: int = PAGE_SIZE,
    conn: psycopg.Connection | None = None,
) -> Board:
    """The user's board: per column the total and page ``pages[column]`` (0 = newest) of
    cards. ``card_ids`` (a search's result, best first) keeps only those cards, in that
    order."""
    pages = pages or {}
    offsets = {c.key: max(0, int(pages.get(c.key, 0))) * page_size for c in COLUMNS}
    params = _params(user, board_filter, card_ids) | {
        "offsets": Jsonb(offsets),
        "page_size": page_size,
    }
    try:
        if conn is None:
            with psycopg.connect(
                db.warehouse_url(), row_factory=dict_row, connect_timeout=10
            ) as own:
                return _board(own, params)
        return _board(conn, params)
    except psycopg.errors.UndefinedTable as exc:
        raise MartNotBuilt("marts.email_cards does not exist yet") from exc


def _board(conn: psycopg.Connection, params: dict[str, Any]) -> Board:
    with conn.cursor(row_factory=dict_row) as cur:
        counts = {row["status"]: row["count"] for row in cur.execute(_COUNTS, params)}
        rows = cur.execute(_PAGE, params).fetchall()
    totals = {c.key: sum(int(counts.get(s, 0)) for s in c.statuses) for c in COLUMNS}
    cards = pl.DataFrame(
        [{k: row[k] for k in CARD_SCHEMA} for row in rows], schema=CARD_SCHEMA, orient="row"
    )
    return Board(totals=totals, spam=int(counts.get(HIDDEN_STATUS, 0)), cards=cards)


def fetch_options(user: User, conn: psycopg.Connection | None = None) -> dict[str, list[str]]:
    """The values the filters offer, from the user's own cards only: mailboxes, assignees."""
    query = _OPTIONS
    params = _params(user, BoardFilter(), None)
    out: dict[str, list[str]] = {"mailbox": [], "assignee": []}
    try:
        if conn is None:
            with psycopg.connect(db.warehouse_url(), connect_timeout=10) as own:
                rows = own.execute(query, params).fetchall()
        else:
            rows = conn.execute(query, params).fetchall()
    except psycopg.errors.UndefinedTable:
        return out
    for kind, value in rows:
        out[kind].append(value)
    return out


# --- commands -------------------------------------------------------------------------------


def move_card(
    conn: psycopg.Connection, user: User, card_id: str, to: str, expected_version: int
) -> events.Recorded:
    """Record that ``user`` moved ``card_id`` to status ``to``, having seen the card at
    ``expected_version``.

    Raises :class:`pebble.auth.NotAllowed` for a role that may not move cards or a card
    outside the user's streams, :class:`pebble.events.VersionConflict` when the card changed
    since, :class:`pebble.events.EventError` for an unknown status."""
    require(user, *MOVERS, action="move cards")
    if to not in events.CARD_STATUSES:
        raise events.EventError(f"unknown status {to!r}")
    params = _params(user, BoardFilter(), [card_id])
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_STATUS_OF_CARD, params).fetchone()
    if row is None:
        raise NotAllowed(f"card {card_id!r} is not one of {user.name}'s cards")
    payload = {"to": to, "from_status": row["status"]}
    event = events.new_event("CardMoved", card_id, actor=user.name, payload=payload)
    return events.append(conn, event, expected_version)


_SAFE_ACTOR = re.compile(r"[A-Za-z0-9][A-Za-z0-9.@-]{0,63}")
_VERBS = {
    "CardMoved": "moved",
    "CardAssigned": "assigned",
    "CardReclassified": "re-classified",
    "ReplyDrafted": "given a reply draft",
    "ReplySent": "replied to",
}


def conflict_message(conflict: events.VersionConflict, tz: tzinfo | None = None) -> str:
    """What the person reads when someone else changed the card first:
    "Not moved: this card was moved by ravi at 10:42 — reload and try again"."""
    verb = _VERBS.get(conflict.last_event_type or "", "changed")
    actor = conflict.last_actor or ""
    # shown in an alert, which renders Markdown: an account name only, else no name
    who = f" by {actor}" if _SAFE_ACTOR.fullmatch(actor) else " by someone else"
    when = ""
    if isinstance(conflict.last_occurred_at, datetime):
        at = conflict.last_occurred_at.astimezone(tz) if tz else conflict.last_occurred_at
        when = f" at {at:%H:%M}"
    return f"Not moved: this card was {verb}{who}{when} — reload and try again."
