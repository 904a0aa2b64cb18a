"""marts.email_cards over real landed mail: one card per customer thread, with its counts,
first response and people's events; and the app's query shows a move before dbt rebuilds.

Hand-written messages land through the mail loader, predictions through the ML warehouse
writer (fixed labels: the cards are under test, not the model), people's actions through
``pebble.events.append``; dbt builds the cards' models through the project's own resource.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from pebble import db, events

T0 = datetime(2026, 11, 2, 4, 30, tzinfo=UTC)  # 10:00 in India
OURS = "pebbledemo.in"  # PEBBLE_OWN_DOMAINS' default: our staff's mail is outbound
#: the models the cards need (CARDS_SELECT's share of them) and the labels they test against
CARDS = "taxonomy_labels +email_cards"


@pytest.fixture
def warehouse_url(pebble_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated warehouse, with dbt's profile pointed at it."""
    db.upgrade(pebble_env)
    for variable, value in db.dbt_env(pebble_env).items():
        monkeypatch.setenv(variable, value)
    yield pebble_env


def _eml(
    folder: Path,
    name: str,
    *,
    sender: str,
    to: str,
    subject: str | None,
    at: datetime,
    message_id: str,
    replies_to: list[str] | None = None,
    body: str = "Please see below.",
    headers: dict[str, str] | None = None,
    attachment: bytes | None = None,
) -> Path:
    """One message as a mail client writes it; ``replies_to`` are its References."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if subject is not None:
        msg["Subject"] = subject
    msg["Date"] = format_datetime(at)
    msg["Message-ID"] = f"<{message_id}>"
    if replies_to:
        msg["In-Reply-To"] = f"<{replies_to[-1]}>"
        msg["References"] = " ".join(f"<{ref}>" for ref in replies_to)
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    if attachment is not None:
        msg.add_attachment(attachment, maintype="application", subtype="pdf", filename="spec.pdf")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.eml"
    path.write_bytes(bytes(msg))
    return path


def _land(conn: psycopg.Connection, folder: Path, mailbox: str) -> None:
    from ingest.mail.land import land_paths

    report = land_paths(conn, [folder], mailbox=mailbox)
    assert report.rejected == 0 and report.landed == report.seen, report


def _score(conn: psycopg.Connection, labels: dict[str, dict[str, Any]]) -> None:
    """Predictions for the messages named by Message-ID (``labels``), as ML writes them."""
    from ml.warehouse import write_predictions

    keys = dict(
        conn.execute(
            "SELECT message_id, email_key FROM raw.emails"
            " WHERE message_id = ANY(%s) AND variant_of IS NULL",
            (list(labels),),
        ).fetchall()
    )
    write_predictions(
        conn,
        [
            {"email_key": keys[mid], "model_version": "test", "stream_confidence": 0.9,
             "entities": [], **label}
            for mid, label in labels.items()
        ],
    )  # fmt: skip


def _build() -> None:
    """`dbt build` of the cards' models through the Dagster dbt resource, as the asset runs
    it; any failed model, test or unit test fails the test."""
    from orchestration.definitions import defs

    invocation = (
        defs.resources["dbt"]
        .cli(["build", "--select", CARDS, "--indirect-selection", "cautious"],
             raise_on_error=False)
        .wait()
    )  # fmt: skip
    results = invocation.get_artifact("run_results.json")["results"]
    bad = [(r["unique_id"], r["status"], r["message"]) for r in results
           if r["status"] not in ("success", "pass")]  # fmt: skip
    assert invocation.is_successful() and not bad, bad
    ran = {r["unique_id"] for r in results}
    assert "unit_test.pebble.email_cards.email_cards_fold_a_thread_into_one_card" in ran


def _cards(conn: psycopg.Connection) -> dict[str, dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("SELECT * FROM marts.email_cards").fetchall()
    return {row["subject"]: row for row in rows}


def _key(conn: psycopg.Connection, message_id: str) -> str:
    return conn.execute(
        "SELECT email_key FROM raw.emails WHERE message_id = %s AND variant_of IS NULL",
        (message_id,),
    ).fetchone()[0]


def test_one_card_per_thread_with_people_s_events(warehouse_url: str, tmp_path: Path) -> None:
    from app.board import fetch_board
    from pebble.auth import User

    def fetch_email_cards() -> dict[str, dict]:
        """The board as a manager sees it (every stream), one page each column: by card."""
        cards = fetch_board(User("manisha", "manager")).cards
        return {row["card_id"]: row for row in cards.iter_rows(named=True)}

    def values(row: dict, *columns: str) -> list:
        return [row[c] for c in columns]

    customer, colleague = "Asha Rao <asha@acme-rubber.in>", "Bala K <bala@acme-rubber.in>"
    sales, staff = f"Sales <sales@{OURS}>", f"Priya <priya@{OURS}>"
    first = tmp_path / "first"
    # thread A: an enquiry with a spec sheet, our reply 90 minutes later, an out-of-office
    _eml(
        first,
        "a1",
        sender=customer,
        to=sales,
        subject="Rate enquiry - Zinc Oxide",
        at=T0,
        message_id="a1@acme-rubber.in",
        attachment=b"%PDF-1.4 spec",
    )
    _eml(
        first,
        "a2",
        sender=staff,
        to=customer,
        subject="Re: Rate enquiry - Zinc Oxide",
        at=T0 + timedelta(minutes=90),
        message_id="a2@" + OURS,
        replies_to=["a1@acme-rubber.in"],
    )
    _eml(
        first,
        "a3",
        sender=customer,
        to=staff,
        subject="Automatic reply: Rate enquiry",
        at=T0 + timedelta(minutes=91),
        message_id="a3@acme-rubber.in",
        replies_to=["a1@acme-rubber.in", "a2@" + OURS],
        headers={"Auto-Submitted": "auto-replied"},
    )
    # thread B: a customer's mail without a subject, never scored
    accounts = tmp_path / "accounts"
    _eml(
        accounts,
        "b1",
        sender="Lotus Accounts <ap@lotus.in>",
        to=f"accounts@{OURS}",
        subject=None,
        at=T0 + timedelta(hours=2),
        message_id="b1@lotus.in",
    )
    # thread C: our own offer that nobody answered is no card
    _eml(first, "c1", sender=staff, to="buyer@kiran.in", subject="Offer: stearic acid",
         at=T0 + timedelta(hours=3), message_id="c1@" + OURS)  # fmt: skip

    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        _land(conn, first, "sales")
        _land(conn, accounts, "accounts")
        _score(conn, {
            "a1@acme-rubber.in": {"stream": "crm", "intent": "price_enquiry", "confidence": 0.91,
                                  "requires_review": False, "company_key": "pan:AAACA1234A",
                                  "company_name": "Acme Rubber Pvt Ltd"},
        })  # fmt: skip
        _build()
        cards = _cards(conn)
        assert set(cards) == {"Rate enquiry - Zinc Oxide", "(no subject)"}
        a, b = cards["Rate enquiry - Zinc Oxide"], cards["(no subject)"]
        card = a["card_id"]
        assert a["thread_key"] == card
        assert (a["message_count"], a["inbound_count"], a["outbound_count"]) == (2, 1, 1)
        assert a["first_message_at"] == a["last_inbound_at"] == T0
        assert a["first_response_at"] == a["last_outbound_at"] == T0 + timedelta(minutes=90)
        assert a["first_response_at"] - a["last_inbound_at"] == timedelta(minutes=90)
        assert a["latest_email_key"] == _key(conn, "a1@acme-rubber.in")
        assert (a["stream"], a["intent"], a["confidence"]) == ("crm", "price_enquiry", 0.91)
        assert (a["company_key"], a["attachment_count"]) == ("pan:AAACA1234A", 1)
        assert (a["status"], a["assignee"], a["card_version"]) == ("new", None, 0)
        assert a["status_changed_at"] == T0 and a["reclassified"] is False
        # unscored: its mailbox's stream, no intent, and it asks for review
        assert (b["mailbox"], b["stream"], b["intent"], b["requires_review"]) == (
            "accounts", "erp", None, True,
        )  # fmt: skip
        assert (b["message_count"], b["outbound_count"], b["last_outbound_at"]) == (1, 0, None)
        assert b["first_response_at"] is None

        # people act on card A; the app shows it before any dbt run
        moved_at = T0 + timedelta(hours=5)
        for version, (event_type, payload) in enumerate([
            ("CardMoved", {"to": "in_progress"}),
            ("CardAssigned", {"assignee": "priya"}),
            ("CardReclassified", {"stream": "crm", "intent": "sample_request"}),
        ]):  # fmt: skip
            events.append(conn, events.new_event(event_type, card, actor="priya",
                          payload=payload, occurred_at=moved_at), version)  # fmt: skip
        shown = fetch_email_cards()
        assert values(shown[card], "status", "assignee", "stream", "intent", "card_version") == [
            "in_progress", "priya", "crm", "sample_request", 3,
        ]  # fmt: skip
        assert shown[card]["reclassified"] and not shown[card]["requires_review"]
        assert values(shown[b["card_id"]], "status", "card_version") == ["new", 0]
        assert _cards(conn)["Rate enquiry - Zinc Oxide"]["status"] == "new"  # not rebuilt yet

        # the thread goes on: the colleague answers (a copy also reaches accounts), we reply
        later = tmp_path / "later"
        copies = tmp_path / "copies"
        a4 = _eml(
            later,
            "a4",
            sender=colleague,
            to=staff,
            subject="RE: Rate enquiry - Zinc Oxide",
            at=T0 + timedelta(days=1),
            message_id="a4@acme-rubber.in",
            replies_to=["a1@acme-rubber.in", "a2@" + OURS],
            body="Please send the PI.",
        )
        copies.mkdir()
        (copies / "a4.eml").write_bytes(
            b"Delivered-To: accounts@" + OURS.encode() + b"\n" + a4.read_bytes()
        )
        _eml(later, "a5", sender=staff, to=colleague, subject="Re: Rate enquiry - Zinc Oxide",
             at=T0 + timedelta(days=1, hours=2), message_id="a5@" + OURS,
             replies_to=["a1@acme-rubber.in", "a2@" + OURS, "a4@acme-rubber.in"])  # fmt: skip
        _land(conn, later, "sales")
        _land(conn, copies, "accounts")
        assert conn.execute("SELECT count(*) FROM raw.emails").fetchone()[0] == 8
        _score(conn, {
            "a4@acme-rubber.in": {"stream": "erp", "intent": "purchase_order", "confidence": 0.77,
                                  "requires_review": True},
        })  # fmt: skip
        _build()
        cards = _cards(conn)
        assert set(cards) == {"Rate enquiry - Zinc Oxide", "(no subject)"}
        a = cards["Rate enquiry - Zinc Oxide"]
        assert a["card_id"] == card  # replies keep the card its events were recorded on
        assert (a["message_count"], a["inbound_count"], a["outbound_count"]) == (4, 2, 2)
        assert a["first_message_at"] == T0
        assert a["last_inbound_at"] == T0 + timedelta(days=1)
        assert a["last_outbound_at"] == a["last_message_at"] == T0 + timedelta(days=1, hours=2)
        assert a["first_response_at"] == T0 + timedelta(minutes=90)
        assert (a["from_address"], a["from_display"]) == ("bala@acme-rubber.in", "Bala K")
        assert a["latest_email_key"] == _key(conn, "a4@acme-rubber.in")
        assert a["snippet"] == "Please send the PI."
        assert a["subject"] == "Rate enquiry - Zinc Oxide"
        # the person's labels win over the latest message's; its confidence stays
        assert (a["stream"], a["intent"], a["confidence"]) == ("crm", "sample_request", 0.77)
        assert a["reclassified"] is True and a["requires_review"] is False
        assert (a["company_key"], a["company_name"]) == ("pan:AAACA1234A", "Acme Rubber Pvt Ltd")
        assert (a["status"], a["assignee"], a["card_version"]) == ("in_progress", "priya", 3)
        assert a["status_changed_at"] == moved_at

        # taken back and moved on: the app shows it at once (the mart's fold: its unit tests)
        events.append(conn, events.new_event("CardAssigned", card, actor="ravi",
                      payload={"assignee": None}), 3)  # fmt: skip
        events.append(conn, events.new_event("CardMoved", card, actor="ravi",
                      payload={"to": "quoted"}), 4)  # fmt: skip
        shown = fetch_email_cards()
        assert values(shown[card], "status", "assignee", "card_version") == [
            "quoted", None, 5,
        ]  # fmt: skip
