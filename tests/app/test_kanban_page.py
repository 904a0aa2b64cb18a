"""The Kanban page shows the cards of marts.email_cards in status columns."""

from pathlib import Path

import psycopg
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[2] / "app" / "pages" / "kanban.py")


def test_cards_appear_in_their_status_columns(add_card) -> None:
    add_card("c1", "Rate enquiry - Zinc Oxide", "new", "sales")
    add_card("c2", "PO No. 4500012345", "new", "sales")
    add_card("c3", "Payment advice", "done", "accounts")

    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    headers = [h.value for h in at.subheader]
    assert headers == ["New (2)", "In progress (0)", "Waiting on customer (0)", "Done (1)"]
    texts = [t.value for t in at.text]
    assert "Rate enquiry - Zinc Oxide" in texts
    assert "crm · price enquiry · 93%" in texts
    assert "Payment advice" in texts

    at.selectbox(key="kanban_mailbox").select("accounts").run()
    assert [h.value for h in at.subheader][0] == "New (0)"
    assert "Payment advice" in [t.value for t in at.text]
    assert "Rate enquiry - Zinc Oxide" not in [t.value for t in at.text]


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


def test_classification_line_states_review_and_unscored() -> None:
    from app.data import classification_line

    assert classification_line("erp", "order_status", 0.412, True) == (
        "erp · order status · 41% · needs review"
    )
    assert classification_line("tender", None, None, True) == "tender · not classified yet"
