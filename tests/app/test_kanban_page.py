"""The Kanban page shows the cards of marts.email_cards in status columns."""

from pathlib import Path

import psycopg
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[2] / "app" / "pages" / "kanban.py")

CARDS_DDL = """
CREATE TABLE marts.email_cards (
    card_id text primary key, email_key text, message_id text, mailbox text, subject text,
    from_address text, from_display text, from_domain text, sent_at timestamptz,
    thread_key text, snippet text, attachment_count integer, status text, loaded_at timestamptz
)
"""


def _insert(
    conn: psycopg.Connection, card_id: str, subject: str, status: str, mailbox: str
) -> None:
    conn.execute(
        """INSERT INTO marts.email_cards (card_id, email_key, mailbox, subject, from_address,
           from_display, sent_at, snippet, attachment_count, status)
           VALUES (%s, %s, %s, %s, 'a@b.in', 'A B', now(), 'snippet text', 0, %s)""",
        (card_id, card_id, mailbox, subject, status),
    )


def test_cards_appear_in_their_status_columns(warehouse: psycopg.Connection) -> None:
    warehouse.execute(CARDS_DDL)
    _insert(warehouse, "c1", "Rate enquiry - Zinc Oxide", "new", "sales")
    _insert(warehouse, "c2", "PO No. 4500012345", "new", "sales")
    _insert(warehouse, "c3", "Payment advice", "done", "accounts")

    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    headers = [h.value for h in at.subheader]
    assert headers == ["New (2)", "In progress (0)", "Waiting on customer (0)", "Done (1)"]
    texts = [t.value for t in at.text]
    assert "Rate enquiry - Zinc Oxide" in texts
    assert "Payment advice" in texts

    at.selectbox(key="kanban_mailbox").select("accounts").run()
    assert [h.value for h in at.subheader][0] == "New (0)"
    assert "Payment advice" in [t.value for t in at.text]
    assert "Rate enquiry - Zinc Oxide" not in [t.value for t in at.text]


def test_untrusted_subject_is_shown_as_plain_text(warehouse: psycopg.Connection) -> None:
    warehouse.execute(CARDS_DDL)
    evil = "<img src=x onerror=alert(1)> [click](http://evil.example) **bold**"
    _insert(warehouse, "c1", evil, "new", "sales")
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    assert evil in [t.value for t in at.text]
    assert all("onerror" not in m.value for m in at.markdown)


def test_page_explains_when_the_mart_is_missing(warehouse: psycopg.Connection) -> None:
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    assert any("No cards yet" in i.value for i in at.info)
