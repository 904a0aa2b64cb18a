"""The Kanban page shows the cards of marts.email_cards (one per thread) in status columns,
with people's latest events applied."""

from pathlib import Path

import psycopg
from streamlit.testing.v1 import AppTest

from pebble import events

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "app" / "pages" / "kanban.py")


def _subheaders(at: AppTest) -> list[str]:
    return [h.value for h in at.subheader]


def test_cards_appear_in_their_status_columns(add_card) -> None:
    add_card("c1", "Rate enquiry - Zinc Oxide", "new", "sales")
    add_card("c2", "PO No. 4500012345", "new", "sales")
    add_card("c3", "Payment advice", "done", "accounts")
    add_card("c4", "Quote for caustic soda", "quoted", "sales")
    add_card("c5", "Cheap watches", "spam", "sales")

    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    assert _subheaders(at) == [
        "New (2)",
        "In progress (0)",
        "Waiting on customer (0)",
        "Quoted (1)",
        "Done (1)",
    ]
    assert [c.value for c in at.caption][0] == "4 cards · 1 marked spam, not shown"
    texts = [t.value for t in at.text]
    assert "Rate enquiry - Zinc Oxide" in texts
    assert "crm · price enquiry · 93%" in texts
    assert "Payment advice" in texts
    assert "Cheap watches" not in texts

    at.selectbox(key="kanban_mailbox").select("accounts").run()
    assert _subheaders(at)[0] == "New (0)"
    assert "Payment advice" in [t.value for t in at.text]
    assert "Rate enquiry - Zinc Oxide" not in [t.value for t in at.text]


def test_a_card_shows_its_thread_and_assignee(add_card) -> None:
    add_card("c1", "Rate enquiry - Zinc Oxide", "in_progress", "sales", message_count=3,
             inbound_count=2, outbound_count=1, assignee="priya")  # fmt: skip
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    assert _subheaders(at)[1] == "In progress (1)"
    assert "3 messages · assigned to priya" in [t.value for t in at.text]


def test_people_s_events_show_before_the_mart_is_rebuilt(
    add_card, warehouse: psycopg.Connection
) -> None:
    """The mart says new, unassigned and the model's labels; the events recorded since say
    otherwise, and the page follows the events."""
    add_card("thread-1", "Rate enquiry - Zinc Oxide", "new", "sales")
    add_card("thread-2", "Payment advice", "done", "accounts", assignee="ravi", card_version=2)
    for event_type, card, payload, version in (
        ("CardMoved", "thread-1", {"to": "waiting_on_customer"}, 0),
        ("CardAssigned", "thread-1", {"assignee": "priya"}, 1),
        ("CardReclassified", "thread-1", {"stream": "crm", "intent": "sample_request"}, 2),
        # thread-2's two events are in the mart already (its version 2); then taken back
        ("CardMoved", "thread-2", {"to": "done"}, 0),
        ("CardAssigned", "thread-2", {"assignee": "ravi"}, 1),
        ("CardAssigned", "thread-2", {"assignee": None}, 2),
    ):
        events.append(
            warehouse, events.new_event(event_type, card, actor="test", payload=payload), version
        )

    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    assert _subheaders(at) == [
        "New (0)",
        "In progress (0)",
        "Waiting on customer (1)",
        "Quoted (0)",
        "Done (1)",
    ]
    texts = [t.value for t in at.text]
    assert "assigned to priya" in texts
    assert "crm · sample request · set by a person" in texts
    assert "assigned to ravi" not in texts


def test_untrusted_subject_is_shown_as_plain_text(add_card) -> None:
    evil = "<img src=x onerror=alert(1)> [click](http://evil.example) **bold**"
    add_card("c1", evil, "new", "sales")
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    assert evil in [t.value for t in at.text]
    assert all("onerror" not in m.value for m in at.markdown)


def test_page_explains_when_the_mart_is_missing(warehouse: psycopg.Connection) -> None:
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    assert any("No cards yet" in i.value for i in at.info)


def test_a_long_column_shows_the_newest_cards_and_the_true_count(add_card) -> None:
    for n in range(55):
        add_card(f"c{n:02d}", f"enquiry {n}", "new", "sales")
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    assert at.subheader[0].value == "New (55)"
    assert any(c.value == "newest 50 shown" for c in at.caption)
    assert sum(1 for t in at.text if t.value.startswith("enquiry ")) == 50


def test_classification_and_thread_lines() -> None:
    from app.data import classification_line, thread_line

    assert classification_line("erp", "order_status", 0.412, True) == (
        "erp · order status · 41% · needs review"
    )
    assert classification_line("tender", None, None, True) == "tender · not classified yet"
    assert classification_line("crm", "sample_request", 0.412, False, reclassified=True) == (
        "crm · sample request · set by a person"
    )
    assert thread_line(1, None) is None
    assert thread_line(1, "priya") == "assigned to priya"
    assert thread_line(4, None) == "4 messages"
