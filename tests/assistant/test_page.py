"""The Ask Pebble page (app/pages/assistant.py) under Streamlit's AppTest over the demo
warehouse: the help's examples come from the warehouse, a question is answered with its
sources, and a task is created only after Confirm."""

from __future__ import annotations

from pathlib import Path

import psycopg
from streamlit.testing.v1 import AppTest

from pebble.auth import User
from tests.assistant.conftest import event_count

PAGE = str(Path(__file__).resolve().parents[2] / "app" / "pages" / "assistant.py")


def _page(role: str = "sales", name: str = "sam") -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["pebble_user"] = User(name, role)
    return at.run()


def test_help_lists_five_examples_that_answer(conn: psycopg.Connection, demo_env: str) -> None:
    from ml.assistant import ask_offline

    at = _page()
    assert not at.exception, at.exception
    questions = [c.value for c in at.code]
    assert len(questions) == 5
    for question in questions:
        answer = ask_offline(conn, User("manu", "manager"), question)
        assert answer.results and all(r.ok for r in answer.results), (question, answer.text)
        assert answer.grounded and answer.sources()


def test_asking_and_confirming_a_task(conn: psycopg.Connection, demo_env: str) -> None:
    name, qty = conn.execute(
        "SELECT product_name, closing_qty_kg FROM marts.stock_levels WHERE closing_qty_kg > 0"
        " ORDER BY master_id LIMIT 1"
    ).fetchone()
    at = _page()
    at.chat_input[0].set_value(f"stock of {name}").run()
    assert not at.exception, at.exception
    texts = [t.value for t in at.text]
    assert any(name in t and "on hand" in t for t in texts), texts
    assert at.dataframe[0].value["table"].to_list()[0] == "marts.stock_levels"

    before = event_count(conn)
    at.chat_input[0].set_value("create a task to chase the sample feedback tomorrow").run()
    assert any(t.value.startswith("Proposed:") for t in at.text)
    assert event_count(conn) == before
    (confirm,) = [b for b in at.button if b.key.startswith("ask_confirm_")]
    confirm.click().run()
    assert not at.exception, at.exception
    assert any(t.value.startswith("Done: TaskCreated") for t in at.text)
    row = conn.execute(
        "SELECT owner, created_by FROM ops.tasks WHERE title = 'chase the sample feedback'"
    ).fetchone()
    assert row == ("sam", "sam")
    assert event_count(conn) == before + 1
