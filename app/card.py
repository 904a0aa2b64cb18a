"""One card (one customer email thread): what the card page shows, and what people do to it.

Reads only what the app's database role may read (``marts``, ``staging``, ``ops``,
``auth``): the card from ``marts.email_cards`` with the live fold ``ops.card_state`` over it,
the thread's messages from ``staging.stg_mail__emails`` (views over ``raw``), attachments from
``staging.stg_mail__email_attachments`` with their bytes from the content store
(``$PEBBLE_HOME/attachments``, by SHA-256), the extracted entities from
``staging.stg_ml__email_entities`` and their links from the CRM and ERP marts.

Writes are events only (:func:`pebble.events.append`), each after
:func:`pebble.auth.require` and a check that the card is in the user's streams: a card
outside them is "not found", exactly like a card that does not exist. Every command takes
the card version the person saw; someone else's change in between raises
:class:`pebble.events.VersionConflict` (see :func:`conflict_message`).

No Streamlit here: the page (``app/pages/card.py``) stays thin, and this is tested directly.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import psycopg
from psycopg.rows import dict_row

from ingest.common import store
from ml.taxonomy import INTENT_STREAM, INTENTS, STREAMS
from pebble import db, events
from pebble.auth import User, require

#: Roles that open the card page; of them, these may act on a card (a manager only reads).
PAGE_ROLES: tuple[str, ...] = ("sales", "ops", "manager")
WRITE_ROLES: tuple[str, ...] = ("sales", "ops")
#: The stream a card without one counts as (only roles that see every stream see it).
UNROUTED = "other"

#: Attachments up to this size are sent with the page; larger ones when clicked.
INLINE_DOWNLOAD_BYTES = 2 * 1024 * 1024
ENTITY_COLUMNS: tuple[str, ...] = ("label", "text", "value", "valid", "link", "link_detail")


class CardNotFound(LookupError):
    """No such card, or not one of the user's streams (the two are not told apart)."""


# --- reading --------------------------------------------------------------------------------


def connect() -> psycopg.Connection:
    return psycopg.connect(db.warehouse_url(), autocommit=True, connect_timeout=10)


_CARD = """
SELECT c.card_id, c.thread_key, c.mailbox, c.subject, c.from_address, c.from_display,
       c.message_count, c.latest_email_key, c.attachment_count,
       coalesce(live.stream, c.stream)                                  AS stream,
       coalesce(live.intent, c.intent)                                  AS intent,
       c.confidence,
       CASE WHEN live.stream IS NOT NULL THEN false ELSE c.requires_review END
                                                                        AS requires_review,
       live.stream IS NOT NULL OR c.reclassified                        AS reclassified,
       CASE WHEN live.card_id IS NULL THEN c.status
            ELSE coalesce(live.status, 'new') END                       AS status,
       CASE WHEN live.card_id IS NULL THEN c.assignee ELSE live.assignee END AS assignee,
       greatest(c.card_version, coalesce(live.version, 0))::int         AS version,
       c.company_key, c.company_name, c.last_message_at,
       live.updated_by, live.updated_at, live.last_drafted_at, live.last_reply_sent_at
FROM marts.email_cards AS c
LEFT JOIN ops.card_state AS live ON live.card_id = c.card_id
WHERE c.card_id = %s
"""


def visible(user: User, stream: str | None) -> bool:
    """True when a card of ``stream`` is one of ``user``'s streams."""
    return (stream or UNROUTED) in user.streams


def fetch_card_row(conn: psycopg.Connection, card_id: str) -> dict[str, Any] | None:
    """The card whoever asks (no stream check: callers check :func:`visible`), or None when
    it does not exist or the mart is not built yet."""
    if not card_id or len(card_id) > events.MAX_ID_CHARS:
        return None
    try:
        with conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(_CARD, (card_id,)).fetchone()
    except psycopg.errors.UndefinedTable:
        return None


def fetch_card(conn: psycopg.Connection, user: User, card_id: str) -> dict[str, Any]:
    """The card as the Kanban shows it (people's latest events applied), with its version.

    :class:`CardNotFound` when it does not exist, the mart is not built, or it is not in
    the user's streams."""
    row = fetch_card_row(conn, card_id)
    if row is None or not visible(user, row["stream"]):
        raise CardNotFound(card_id)
    return row


# A reply is in the card's thread when its thread key is the card's, or the Message-ID of a
# message of the card (the loader keys a reply by the first id it references; dbt's
# int_mail__thread_messages does the same). A message landed twice (other bytes, same
# Message-ID) is shown once: the copy stored first.
_THREAD = """
WITH own AS (
    SELECT message_id FROM staging.stg_mail__emails
    WHERE thread_key = %(thread)s AND message_id IS NOT NULL
),
members AS (
    SELECT DISTINCT ON (coalesce(message_id, email_key))
        email_key, message_id, mailbox, subject, from_address, from_name, to_addresses,
        sent_at, is_outbound, is_auto_reply, body_text, attachment_count, loaded_at
    FROM staging.stg_mail__emails
    WHERE thread_key = %(thread)s OR thread_key IN (SELECT message_id FROM own)
    ORDER BY coalesce(message_id, email_key), variant_of IS NOT NULL, loaded_at, email_key
)
SELECT * FROM members
ORDER BY coalesce(sent_at, loaded_at), loaded_at, email_key
"""


def fetch_thread(conn: psycopg.Connection, thread_key: str) -> list[dict[str, Any]]:
    """The thread's messages, oldest first; [] before the staging views exist."""
    try:
        with conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(_THREAD, {"thread": thread_key}).fetchall()
    except psycopg.errors.UndefinedTable:
        return []


def message_header(message: dict[str, Any], tz: Any = None) -> str:
    """ "From: ... · To: ... · Date: ..." for one message (our words; the values are data)."""
    sender = message.get("from_address") or "(no sender)"
    if message.get("from_name"):
        sender = f"{message['from_name']} <{sender}>"
    to = ", ".join(message.get("to_addresses") or []) or "(no recipient)"
    when = message.get("sent_at") or message.get("loaded_at")
    if isinstance(when, datetime):
        when = (when.astimezone(tz) if tz is not None else when).strftime("%d %b %Y %H:%M %Z")
    direction = "outbound" if message.get("is_outbound") else "inbound"
    return f"From: {sender}\nTo: {to}\nDate: {when or 'unknown'} ({direction})"


@dataclass(frozen=True)
class Attachment:
    email_key: str
    sha256: str
    filename: str
    content_type: str | None
    size_bytes: int | None

    def path(self) -> Path:
        return store.blob_path(store.attachments_root(), self.sha256)

    def stored(self) -> bool:
        try:
            return self.path().is_file()
        except ValueError:
            return False

    def small(self) -> bool:
        """Small enough to hand to the page at once (larger ones are read on the click)."""
        return (self.size_bytes or 0) <= INLINE_DOWNLOAD_BYTES

    def read_or_empty(self) -> bytes:
        return self.read() or b""

    def read(self) -> bytes | None:
        """The file's bytes from the content store; None when the store does not hold it
        (another machine's PEBBLE_HOME) or the bytes are not the ones recorded."""
        try:
            data = self.path().read_bytes()
        except (OSError, ValueError):
            return None
        import hashlib

        return data if hashlib.sha256(data).hexdigest() == self.sha256 else None


def fetch_attachments(conn: psycopg.Connection, email_keys: Sequence[str]) -> list[Attachment]:
    if not email_keys:
        return []
    try:
        rows = conn.execute(
            "SELECT email_key, sha256, coalesce(nullif(filename, ''), sha256), content_type,"
            " size_bytes FROM staging.stg_mail__email_attachments"
            " WHERE email_key = ANY(%s) ORDER BY email_key, filename, sha256",
            (list(email_keys),),
        ).fetchall()
    except psycopg.errors.UndefinedTable:
        return []
    return [Attachment(*row) for row in rows]


# --- entities -------------------------------------------------------------------------------


def gstin_valid(value: str | None) -> bool:
    """The GSTIN's check digit and structure (python-stdnum)."""
    from stdnum.in_ import gstin

    return bool(value) and gstin.is_valid(str(value))


def _scalar(value: Any) -> str:
    if isinstance(value, dict | list):
        import json

        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def _lookup(conn: psycopg.Connection, query: str, params: Sequence[Any]) -> tuple | None:
    """One row from a mart, or None when it is missing or not built yet."""
    try:
        return conn.execute(query, params).fetchone()
    except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn):
        return None


def _link(
    conn: psycopg.Connection, label: str, value: str, linked_to: str | None
) -> tuple[str, str]:
    """(what the entity links to, a line about it) from the marts; ("", "") for nothing."""
    upper = value.upper()
    if label in ("GSTIN", "PAN", "CIN"):
        row = None
        if linked_to:
            row = _lookup(
                conn,
                "SELECT company_key, name FROM marts.crm_companies WHERE company_key = %s",
                (linked_to,),
            )
        elif label == "GSTIN":
            row = _lookup(
                conn,
                "SELECT company_key, name FROM marts.crm_companies WHERE %s = ANY(gstins) LIMIT 1",
                (upper,),
            )
        elif label == "PAN":
            row = _lookup(
                conn, "SELECT company_key, name FROM marts.crm_companies WHERE pan = %s", (upper,)
            )
        if row:
            return f"company {row[0]}", str(row[1] or "")
        return (f"company {linked_to}", "") if linked_to else ("", "")
    if label in ("ORDER_NO", "PO_NO"):
        row = _lookup(
            conn,
            "SELECT sales_order_no, company_name, status, amount_inr FROM marts.sales_orders"
            " WHERE sales_order_no = %s OR (%s AND po_ref = %s)"
            " ORDER BY sales_order_no = %s DESC LIMIT 1",
            (linked_to or upper, label == "PO_NO", upper, linked_to or upper),
        )
        if row:
            amount = f" · Rs {row[3]:,}" if row[3] is not None else ""
            return f"order {row[0]}", f"{row[1] or ''} · {row[2] or ''}{amount}"
        return (f"order {linked_to}", "") if linked_to else ("", "")
    if label == "INVOICE_NO":
        row = _lookup(
            conn,
            "SELECT invoice_no, company_name, outstanding_inr, days_overdue FROM marts.receivables"
            " WHERE upper(invoice_no) = %s LIMIT 1",
            (upper,),
        )
        if row:
            detail = " · ".join(
                part
                for part in (
                    str(row[1] or ""),
                    f"outstanding Rs {row[2]:,}" if row[2] is not None else "",
                    f"{row[3]} days overdue" if row[3] else "",
                )
                if part
            )
            return f"invoice {row[0]}", detail
        return "", ""
    if label == "PRODUCT" and linked_to:
        row = _lookup(
            conn,
            "SELECT stock_item_guid, product_name, closing_qty, unit FROM marts.stock_levels"
            " WHERE stock_item_guid = %s",
            (linked_to,),
        )
        if row:
            qty = f" · {row[2]:,} {row[3] or ''} in stock" if row[2] is not None else ""
            return f"stock item {row[1]}", f"{row[1]}{qty}".strip()
        return f"stock item {linked_to}", ""
    return "", ""


def fetch_entities(conn: psycopg.Connection, email_keys: Sequence[str]) -> pl.DataFrame:
    """The entities found in the thread's messages, each with its validity and link."""
    rows: list[dict[str, Any]] = []
    if email_keys:
        try:
            found = conn.execute(
                "SELECT label, entity_text, value, is_valid, linked_to"
                " FROM staging.stg_ml__email_entities WHERE email_key = ANY(%s)"
                " ORDER BY email_key, position",
                (list(email_keys),),
            ).fetchall()
        except psycopg.errors.UndefinedTable:
            found = []
        seen: set[tuple[str, str]] = set()
        for label, text, value, is_valid, linked_to in found:
            shown = _scalar(value) or str(text)
            if (label, shown.upper()) in seen:
                continue
            seen.add((label, shown.upper()))
            valid = gstin_valid(shown) if label == "GSTIN" else is_valid
            link, detail = _link(conn, label, shown, linked_to)
            rows.append(
                {
                    "label": label,
                    "text": str(text),
                    "value": shown,
                    "valid": "" if valid is None else ("valid" if valid else "INVALID"),
                    "link": link,
                    "link_detail": detail,
                }
            )
    return pl.DataFrame(rows, schema={c: pl.String for c in ENTITY_COLUMNS})


def linked_companies(conn: psycopg.Connection, email_keys: Sequence[str]) -> list[tuple[str, str]]:
    """(company_key, name) the CRM links the thread's messages to (marts.crm_email_links)."""
    if not email_keys:
        return []
    try:
        rows = conn.execute(
            "SELECT DISTINCT l.company_key, coalesce(c.name, l.company_key)"
            " FROM marts.crm_email_links AS l"
            " LEFT JOIN marts.crm_companies AS c USING (company_key)"
            " WHERE l.email_key = ANY(%s) AND l.company_key IS NOT NULL ORDER BY 2",
            (list(email_keys),),
        ).fetchall()
    except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn):
        return []
    return [(str(k), str(n)) for k, n in rows]


@dataclass(frozen=True)
class CompanyOverview:
    """The linked company's open orders, receivables and last prices (ERP marts), found by
    the company's GSTINs, its PAN inside a GSTIN, or its name where a row has no GSTIN."""

    company_key: str
    name: str
    open_orders: pl.DataFrame
    receivables: pl.DataFrame
    last_prices: pl.DataFrame


# A company's rows: its GSTINs, its PAN inside a GSTIN, or its name where a row has no GSTIN.
_OVERVIEW: dict[str, tuple[str, tuple[str, ...]]] = {
    "open_orders": (
        "SELECT sales_order_no, order_date, po_ref, status, amount_inr FROM marts.sales_orders"
        " WHERE status IN ('open', 'part-dispatched')"
        " AND (upper(gstin) = ANY(%(gstins)s) OR substr(upper(gstin), 3, 10) = ANY(%(pans)s)"
        " OR (gstin IS NULL AND lower(company_name) = ANY(%(names)s)))"
        " ORDER BY order_date DESC NULLS LAST, sales_order_no DESC LIMIT 20",
        ("order", "date", "po_ref", "status", "amount_inr"),
    ),
    "receivables": (
        "SELECT invoice_no, invoice_date, due_date, outstanding_inr, days_overdue"
        " FROM marts.receivables WHERE outstanding_inr > 0"
        " AND (upper(gstin) = ANY(%(gstins)s) OR substr(upper(gstin), 3, 10) = ANY(%(pans)s)"
        " OR (gstin IS NULL AND lower(company_name) = ANY(%(names)s)))"
        " ORDER BY due_date NULLS LAST, invoice_no LIMIT 20",
        ("invoice", "date", "due", "outstanding_inr", "days_overdue"),
    ),
    "last_prices": (
        "SELECT product_name, last_rate_inr, rate_unit, last_priced_on, price_source"
        " FROM marts.customer_last_price WHERE true"
        " AND (upper(gstin) = ANY(%(gstins)s) OR substr(upper(gstin), 3, 10) = ANY(%(pans)s)"
        " OR (gstin IS NULL AND lower(company_name) = ANY(%(names)s)))"
        " ORDER BY last_priced_on DESC NULLS LAST, product_name LIMIT 20",
        ("product", "last_rate_inr", "per", "priced_on", "source"),
    ),
}


def company_overview(conn: psycopg.Connection, company_key: str) -> CompanyOverview | None:
    """What the ERP says about one CRM company; None when the CRM master does not hold it.
    A mart not built yet gives an empty table."""
    row = _lookup(
        conn,
        "SELECT name, pan, coalesce(gstins, '{}') FROM marts.crm_companies WHERE company_key = %s",
        (company_key,),
    )
    if row is None:
        return None
    name, pan, gstins = row
    gstins = [str(g).upper() for g in gstins or []]
    pans = sorted({*(g[2:12] for g in gstins), *([str(pan).upper()] if pan else [])})
    params = {"gstins": gstins, "pans": pans, "names": [str(name or company_key).lower()]}
    frames: dict[str, pl.DataFrame] = {}
    for part, (query, columns) in _OVERVIEW.items():
        try:
            rows = conn.execute(query, params).fetchall()
        except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn):
            rows = []
        frames[part] = pl.DataFrame(
            [[_scalar(v) for v in r] for r in rows],
            schema={c: pl.String for c in columns},
            orient="row",
        )
    return CompanyOverview(company_key, str(name or company_key), **frames)


def assignees(conn: psycopg.Connection) -> list[str]:
    """Names of the active accounts (auth.users), [] when there are none to pick from."""
    try:
        rows = conn.execute(
            "SELECT username FROM auth.users WHERE NOT disabled AND role IN ('sales', 'ops')"
            " ORDER BY username"
        ).fetchall()
    except (psycopg.errors.UndefinedTable, psycopg.errors.InsufficientPrivilege):
        return []
    return [r[0] for r in rows]


def intent_choices(stream: str) -> list[str]:
    """The intents of one stream (the only valid pairs of the taxonomy)."""
    return [i for i in INTENTS if INTENT_STREAM[i] == stream]


def latest_inbound(thread: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest customer message of the thread (else the newest message)."""
    inbound = [m for m in thread if not m.get("is_outbound")]
    return (inbound or list(thread))[-1] if thread else None


# --- drafts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DraftProposal:
    """A reply proposed for one message: the text, how it was written, its grounding."""

    email_key: str
    text: str
    source: str
    requires_review: bool
    confidence: float | None
    facts: pl.DataFrame
    notes: tuple[str, ...] = field(default_factory=tuple)
    supported: bool = True


def propose_draft(
    conn: psycopg.Connection, card: dict[str, Any], message: dict[str, Any]
) -> DraftProposal:
    """The grounded draft from ``ml.drafts`` for ``message`` (template without an LLM; the
    OpenAI-compatible writer only when PEBBLE_LLM_* is set). An intent ml.drafts does not
    draft for gives an empty text to write by hand (``supported`` False)."""
    from ml.drafts import SUPPORTED_INTENTS, draft_for_email

    facts_schema = {"fact": pl.String, "value": pl.String, "source": pl.String, "ref": pl.String}
    intent = card.get("intent")
    if intent not in SUPPORTED_INTENTS:
        return DraftProposal(
            message["email_key"], "", "none", True, None, pl.DataFrame(schema=facts_schema),
            (f"no grounded draft for the intent {intent or 'unclassified'}: write the reply",),
            supported=False,
        )  # fmt: skip
    email = {
        "email_key": message["email_key"],
        "subject": message.get("subject"),
        "body_text": message.get("body_text") or "",
        "from_addr": message.get("from_address"),
        "from_name": message.get("from_name"),
        "sent_at": message.get("sent_at"),
    }
    entities = _stored_entities(conn, message["email_key"])
    draft = draft_for_email(conn, email, intent=intent, entities=entities)
    if draft is None:  # pragma: no cover - the intent was checked above
        raise RuntimeError(f"ml.drafts gave no draft for {intent}")
    facts = pl.DataFrame(
        [
            {
                "fact": f.label,
                "value": f"{f.value}{' ' + f.unit if f.unit else ''}",
                "source": f.source + (f" (as of {f.as_of})" if f.as_of else ""),
                "ref": f.ref or f.subject or "",
            }
            for f in draft.facts
        ],
        schema=facts_schema,
    )
    return DraftProposal(
        message["email_key"],
        draft.text,
        draft.source,
        draft.requires_review,
        draft.confidence,
        facts,
        tuple(draft.notes)
        + ((f"LLM text not used: {draft.rejected_reason}",) if draft.rejected_reason else ()),
    )


def _stored_entities(conn: psycopg.Connection, email_key: str) -> list[dict[str, Any]] | None:
    """The extractor's entities as scored (None: not scored yet, ml.drafts extracts)."""
    try:
        rows = conn.execute(
            "SELECT label, entity_text, value, is_valid, start_char, end_char"
            " FROM staging.stg_ml__email_entities WHERE email_key = %s ORDER BY position",
            (email_key,),
        ).fetchall()
    except psycopg.errors.UndefinedTable:
        return None
    if not rows:
        return None
    return [
        {"label": r[0], "text": r[1], "value": r[2], "valid": r[3], "start": r[4], "end": r[5]}
        for r in rows
    ]


# --- commands -------------------------------------------------------------------------------


def _append(
    conn: psycopg.Connection,
    user: User,
    card_id: str,
    event_type: str,
    payload: dict[str, Any],
    expected_version: int,
    action: str,
) -> events.Recorded:
    """The one write path: role, then the card in the user's streams, then the event."""
    require(user, *WRITE_ROLES, action=action)
    card = fetch_card(conn, user, card_id)
    event = events.new_event(
        event_type, card_id, actor=user.name, payload=payload, company_key=card.get("company_key")
    )
    return events.append(conn, event, expected_version)


def assign(
    conn: psycopg.Connection, user: User, card_id: str, assignee: str | None, expected_version: int
) -> events.Recorded:
    """CardAssigned; ``assignee`` None (or blank) takes the card back."""
    name = (assignee or "").strip() or None
    return _append(
        conn, user, card_id, "CardAssigned", {"assignee": name}, expected_version, "assign a card"
    )


def reclassify(
    conn: psycopg.Connection,
    user: User,
    card_id: str,
    stream: str,
    intent: str,
    expected_version: int,
    *,
    previous: tuple[str | None, str | None] = (None, None),
    note: str | None = None,
    email_key: str | None = None,
) -> events.Recorded:
    """CardReclassified with a valid (stream, intent) pair of the taxonomy. ``email_key``
    names the message corrected (the card's latest customer message, whose labels the card
    shows): the example the classifier trains on next (``ml.corrections``)."""
    payload: dict[str, Any] = {"stream": stream, "intent": intent}
    if email_key:
        payload["email_key"] = email_key
    if previous[0] in STREAMS:
        payload["previous_stream"] = previous[0]
    if previous[1] in INTENTS:
        payload["previous_intent"] = previous[1]
    if note and note.strip():
        payload["note"] = note.strip()
    return _append(
        conn, user, card_id, "CardReclassified", payload, expected_version, "re-classify a card"
    )


def move(
    conn: psycopg.Connection,
    user: User,
    card_id: str,
    to: str,
    expected_version: int,
    from_status: str | None = None,
) -> events.Recorded:
    payload: dict[str, Any] = {"to": to}
    if from_status in events.CARD_STATUSES:
        payload["from_status"] = from_status
    return _append(conn, user, card_id, "CardMoved", payload, expected_version, "move a card")


def save_draft(
    conn: psycopg.Connection,
    user: User,
    card_id: str,
    email_key: str,
    body: str,
    expected_version: int,
    *,
    requires_review: bool = True,
    draft_id: str | None = None,
) -> events.Recorded:
    """ReplyDrafted{email_key, draft_id, body}; a new draft id unless one is given."""
    payload = {
        "email_key": email_key,
        "draft_id": draft_id or uuid.uuid4().hex,
        "body": body,
        "requires_review": requires_review,
    }
    return _append(conn, user, card_id, "ReplyDrafted", payload, expected_version, "draft a reply")


def mark_sent(
    conn: psycopg.Connection,
    user: User,
    card_id: str,
    email_key: str,
    expected_version: int,
    draft_id: str | None = None,
) -> events.Recorded:
    payload: dict[str, Any] = {"email_key": email_key}
    if draft_id:
        payload["draft_id"] = draft_id
    return _append(conn, user, card_id, "ReplySent", payload, expected_version, "mark a reply sent")


def latest_draft(conn: psycopg.Connection, card_id: str) -> dict[str, Any] | None:
    """The card's newest saved draft (ReplyDrafted payload with who and when)."""
    row = conn.execute(
        "SELECT payload, actor, occurred_at FROM ops.events WHERE entity_type = 'card'"
        " AND entity_id = %s AND event_type = 'ReplyDrafted'"
        " ORDER BY entity_version DESC LIMIT 1",
        (card_id,),
    ).fetchone()
    if row is None:
        return None
    return {**row[0], "actor": row[1], "occurred_at": row[2]}


def conflict_message(exc: events.VersionConflict, tz: Any = None) -> str:
    """Who changed the card since the person loaded it, and when, in plain words."""
    when = exc.last_occurred_at
    if isinstance(when, datetime) and tz is not None:
        when = when.astimezone(tz)
    at = when.strftime("%d %b %Y %H:%M:%S %Z") if isinstance(when, datetime) else "just now"
    what = (exc.last_event_type or "a change").removeprefix("Card")
    who = exc.last_actor or "someone"
    return (
        f"{who} changed this card ({what}) at {at}, after you opened it (version "
        f"{exc.expected} → {exc.current}). Nothing was saved: the page now shows their change; "
        "decide again."
    )


def iter_email_keys(thread: Iterable[dict[str, Any]]) -> list[str]:
    return [m["email_key"] for m in thread]
