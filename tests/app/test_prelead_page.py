"""The prelead screening page (app/pages/prelead.py) per role, with AppTest.

The data setup (a lead list landed by the real loader, staging views rendered from the
dbt models, marts from their contracts) is test_prelead_commands.py's."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from pebble.auth import User

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "app" / "pages" / "prelead.py")

_spec = importlib.util.spec_from_file_location(
    "prelead_test_support", Path(__file__).with_name("test_prelead_commands.py")
)
support = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(support)


@pytest.fixture
def screening(warehouse: psycopg.Connection, tmp_path: Path) -> psycopg.Connection:
    support.demo_batch(warehouse, tmp_path)
    return warehouse


def _page(user: User | None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    if user is not None:
        at.session_state["pebble_user"] = user
    return at.run()


def _texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def _events(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "SELECT entity_id, event_type, entity_version, actor FROM ops.events ORDER BY event_seq"
    ).fetchall()


def test_marketing_sees_the_batches_and_decides(screening: psycopg.Connection) -> None:
    at = _page(support.MARKETING)
    assert not at.exception
    batches = at.dataframe[0].value
    assert batches["batch"].to_list() == ["expo_2026"]
    assert batches["pending"].to_list() == [4]
    assert "4 rows match · page 1 of 1 · best score first" in [c.value for c in at.caption]
    # the first row is the best score; approve it, then the flow moves to the next
    assert at.selectbox(key="prelead_row").value == "expo_2026/2"
    assert "Lotus Rubber Pvt Ltd" in _texts(at)
    assert "Typo Chemicals" not in _texts(at)  # an invalid row: not in the queue
    at.button(key="prelead_approve").click().run()
    assert not at.exception
    assert _events(screening) == [("expo_2026/2", "PreleadApproved", 1, "meera")]
    assert [s.value for s in at.success] == ["Saved: approved."]
    assert "Row expo_2026/2: approved." in _texts(at)
    assert at.selectbox(key="prelead_row").value == "expo_2026/3"

    # reject needs a reason; with one it is recorded
    at.button(key="prelead_reject").click().run()
    assert [e.value for e in at.error] == ["Not saved."]
    assert "a rejection needs a reason" in _texts(at)
    at.text_input(key="prelead_reason").input("free-mail only")
    at.button(key="prelead_reject").click().run()
    assert _events(screening)[-1] == ("expo_2026/3", "PreleadRejected", 1, "meera")

    # merge into the duplicate candidate, at the remaining row
    at.selectbox(key="prelead_row").select("expo_2026/4").run()
    assert at.selectbox(key="prelead_merge_into").value == "pan:AACCL1234F"
    at.button(key="prelead_merge").click().run()
    assert _events(screening)[-1] == ("expo_2026/4", "PreleadMerged", 1, "meera")
    assert "1 rows match · page 1 of 1 · best score first" in [c.value for c in at.caption]
    batches = at.dataframe[0].value
    assert (batches["decided"].to_list(), batches["pending"].to_list()) == ([3], [1])
    history = at.dataframe[-1].value  # the Decisions tab, last on the page
    assert history["decision"].to_list() == ["approved", "rejected", "merged"]
    assert history["reason"].to_list()[1] == "free-mail only"
    assert "3 decision events in this batch" in " ".join(c.value for c in at.caption)


def test_a_stale_decision_is_a_clear_conflict(screening: psycopg.Connection) -> None:
    at = _page(support.MARKETING)
    support.prelead.approve(screening, User("anita", "marketing"), "expo_2026/3", 0)
    at.selectbox(key="prelead_row").select("expo_2026/3")
    at.text_input(key="prelead_reason").input("no")
    at.button(key="prelead_reject").click().run()
    assert [e.value for e in at.error] == ["Not saved: the row changed meanwhile."]
    assert any("changed since you opened it: approved by anita" in t for t in _texts(at))
    assert len(_events(screening)) == 1


def test_manager_reads_but_cannot_decide(screening: psycopg.Connection) -> None:
    at = _page(support.MANAGER)
    assert not at.exception
    assert at.dataframe[0].value["batch"].to_list() == ["expo_2026"]
    assert "Typo Chemicals" in at.dataframe[-2].value["company"].to_list()  # invalid rows
    keys = {b.key for b in at.button}
    assert keys == {"prelead_prev", "prelead_next"}  # no decision, bulk or upload control
    assert not [t for t in at.text_input if t.key in ("prelead_reason", "prelead_bulk_reason")]
    assert len(at.get("download_button")) == 1  # the export is reading


def test_sales_is_refused(screening: psycopg.Connection) -> None:
    at = _page(User("priya", "sales"))
    assert [e.value for e in at.error] == ["Your role (sales) may not open this page."]
    assert not at.dataframe and not at.text and not at.button
    assert not _page(None).dataframe


def test_bulk_approve_writes_exactly_the_selected_rows(screening: psycopg.Connection) -> None:
    at = _page(support.MARKETING)
    at.number_input(key="prelead_min_score").set_value(80)
    at.checkbox(key="prelead_no_cand").check().run()
    assert "3 rows match · page 1 of 1 · best score first" in [c.value for c in at.caption]
    assert at.button(key="prelead_bulk_go").disabled
    at.text_input(key="prelead_bulk_reason").input("score >= 80, no duplicates")
    at.checkbox(key="prelead_bulk_confirm").check().run()
    at.button(key="prelead_bulk_go").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["3 rows approved in one commit."]
    assert sorted(_events(screening)) == [
        ("expo_2026/2", "PreleadApproved", 1, "meera"),
        ("expo_2026/3", "PreleadApproved", 1, "meera"),
        ("expo_2026/7", "PreleadApproved", 1, "meera"),
    ]
    reasons = screening.execute("SELECT DISTINCT payload ->> 'reason' FROM ops.events").fetchall()
    assert reasons == [("score >= 80, no duplicates",)]


def test_a_hostile_lead_name_shows_as_text(screening: psycopg.Connection) -> None:
    at = _page(support.MARKETING)
    at.selectbox(key="prelead_row").select("expo_2026/7").run()
    assert support.XSS in _texts(at)
    assert support.XSS in at.dataframe[1].value["company_name"].to_list()
    for element in (*at.markdown, *at.caption, *at.success, *at.info, *at.error):
        assert "<img" not in element.value
    labels = [w.label for w in (*at.button, *at.selectbox, *at.text_input, *at.checkbox)]
    assert not [label for label in labels if "<img" in label]


def test_uploads_of_the_session_show_their_progress(
    screening: psycopg.Connection, tmp_path: Path
) -> None:
    """The page follows this session's uploads through the drop ledger (the storing itself
    is tested in test_prelead_commands.py: AppTest cannot upload a file)."""
    waiting = tmp_path / "drops" / "new_list.csv"
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["pebble_user"] = support.MARKETING
    at.session_state["prelead_uploads"] = [
        (str(tmp_path / "expo_2026.csv"), "expo_2026"),
        (str(waiting), "new_list"),
    ]
    at.run()
    assert not at.exception
    texts = _texts(at)
    assert (
        "Batch expo_2026: landed as batch expo_2026: rows 6, valid 4, invalid 2, duplicates 1"
        in texts
    )
    assert any(t.startswith("Batch new_list: waiting for the prelead sensor") for t in texts)
