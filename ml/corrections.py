"""People's corrections as training data: every card re-classified on the Kanban or the card
page (``CardReclassified`` in ``ops.events``) becomes a labelled example of the message it
corrected, which the next ``ml/classifier_model`` materialisation trains on.

Which message a correction labels:

- the one it names (``email_key``; the app names the card's latest customer message, the
  one whose stream and intent the card showed);
- a correction of a whole thread (no ``email_key``, as older events and other writers may
  record) labels the thread's latest customer message at the time of the correction,
  found through the warehouse's thread table (``intermediate.int_mail__thread_messages``,
  as the last dbt build left it: the card the person corrected came from that build).

The text is the message as the classifier reads it (subject and body from ``raw.emails``).
A correction whose message cannot be found (not landed in this warehouse, the thread table
not built yet) is left out and counted, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

import psycopg
from psycopg import sql

from ml.data import LabelledEmail

#: The table that knows which messages belong to which card's thread (dbt builds it).
THREAD_VIEW = "intermediate.int_mail__thread_messages"
_THREAD_VIEW = sql.Identifier(*THREAD_VIEW.split("."))


class Correction(NamedTuple):
    """A person's label for a thread (``email_key`` None) or one of its messages."""

    thread_key: str
    email_key: str | None
    stream: str
    intent: str
    actor: str
    occurred_at: datetime
    event_seq: int


def read_corrections(conn: psycopg.Connection, since_seq: int = 0) -> list[Correction]:
    """Every ``CardReclassified`` in ``ops.events`` recorded after ``since_seq``, in the order
    recorded (a thread's corrections may each concern the message that was its latest then)."""
    rows = conn.execute(
        "SELECT entity_id, payload ->> 'email_key', payload ->> 'stream', payload ->> 'intent',"
        " actor, occurred_at, event_seq FROM ops.events"
        " WHERE event_type = 'CardReclassified' AND event_seq > %s ORDER BY event_seq",
        (since_seq,),
    ).fetchall()
    return [Correction(*row) for row in rows]


@dataclass(frozen=True)
class CorrectionSet:
    """Corrections as labelled emails, and the ones that could not be used (and why)."""

    examples: list[LabelledEmail] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)


def _exists(conn: psycopg.Connection, name: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
    return bool(row and row[0])


def _thread_message(conn: psycopg.Connection, correction: Correction) -> str | None:
    """The thread's latest customer message at the time of ``correction``."""
    row = conn.execute(
        sql.SQL(
            "SELECT email_key FROM {} WHERE thread_key = %s AND NOT is_outbound"
            " AND occurred_at <= %s ORDER BY occurred_at DESC, email_key DESC LIMIT 1"
        ).format(_THREAD_VIEW),
        (correction.thread_key, correction.occurred_at),
    ).fetchone()
    return row[0] if row else None


def warehouse_corrections(conn: psycopg.Connection) -> CorrectionSet:
    """Every correction, resolved to the message it labels, as a labelled email.

    A message corrected more than once (by thread or by name) trains once, with the label of
    the latest correction; a thread corrected before and after a new customer message
    labels both messages, each with its own correction."""
    corrections = read_corrections(conn)
    if not corrections:
        return CorrectionSet()
    threads_known = _exists(conn, THREAD_VIEW)
    skipped: dict[str, int] = {}
    latest: dict[str, Correction] = {}
    for correction in corrections:  # in event order: a later one replaces an earlier one
        email_key = correction.email_key
        if email_key is None:
            email_key = _thread_message(conn, correction) if threads_known else None
            if email_key is None:
                reason = "thread_has_no_message" if threads_known else "thread_view_missing"
                skipped[reason] = skipped.get(reason, 0) + 1
                continue
        latest.pop(email_key, None)
        latest[email_key] = correction
    if not latest:
        return CorrectionSet(skipped=skipped)
    texts = {
        key: (subject or "", body or "")
        for key, subject, body in conn.execute(
            "SELECT email_key, subject, body_text FROM raw.emails WHERE email_key = ANY(%s)",
            (list(latest),),
        )
    }
    examples = []
    for email_key, correction in latest.items():
        if email_key not in texts:
            skipped["message_not_landed"] = skipped.get("message_not_landed", 0) + 1
            continue
        subject, body = texts[email_key]
        examples.append(
            LabelledEmail(
                key=f"correction:{email_key}",
                subject=subject,
                body=body,
                stream=correction.stream,
                intent=correction.intent,
                source="correction",
                thread=correction.thread_key,
            )
        )
    return CorrectionSet(examples=examples, skipped=skipped)
