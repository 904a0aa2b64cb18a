"""app.board's queries and its move command, directly (no Streamlit)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import psycopg
import pytest

from app import board
from pebble import events
from pebble.auth import NotAllowed, User

PRIYA = User("priya", "sales")


def test_the_filter_round_trips_through_query_params() -> None:
    wanted = board.BoardFilter(
        stream="crm", intent="price_enquiry", mailbox="sales", assignee="priya",
        company="Acme", review=True, older=7,
    )  # fmt: skip
    params = wanted.to_params()
    assert params == {
        "stream": "crm", "intent": "price_enquiry", "mailbox": "sales", "assignee": "priya",
        "company": "Acme", "review": "1", "older": "7",
    }  # fmt: skip
    assert board.BoardFilter.from_params(params) == wanted
    assert board.BoardFilter().to_params() == {}
    # nonsense in a URL is left out rather than failing the page
    assert board.BoardFilter.from_params({"older": "-3", "review": "no", "stream": " "}) == (
        board.BoardFilter()
    )


def test_the_board_pages_each_column_and_counts_all(add_card, warehouse) -> None:
    for n in range(7):
        add_card(f"n{n}", f"new {n}", "new", "sales", last_message_at=f"2026-11-0{n + 1} 10:00+00")
    add_card("q1", "quoted one", "quoted", "sales")
    add_card("w1", "waiting one", "waiting_on_customer", "sales")
    add_card("e1", "erp one", "new", "accounts", stream="erp")
    add_card("s1", "spam one", "spam", "sales")

    first = board.fetch_board(PRIYA, page_size=3, conn=warehouse)
    assert first.totals == {"inbox": 7, "in_progress": 0, "waiting": 2, "done": 0}
    assert first.spam == 1
    assert first.column("inbox")["subject"].to_list() == ["new 6", "new 5", "new 4"]
    assert sorted(first.column("waiting")["status"].to_list()) == ["quoted", "waiting_on_customer"]

    last = board.fetch_board(PRIYA, pages={"inbox": 2}, page_size=3, conn=warehouse)
    assert last.column("inbox")["subject"].to_list() == ["new 0"]
    assert last.column("waiting").height == 2  # other columns stay on their first page

    # a search's cards only, in its order, still within the user's streams
    found = board.fetch_board(PRIYA, card_ids=["n1", "e1", "n5", "q1"], conn=warehouse)
    assert found.column("inbox")["card_id"].to_list() == ["n1", "n5"]
    assert found.totals == {"inbox": 2, "in_progress": 0, "waiting": 1, "done": 0}


def test_moving_a_card(add_card, warehouse: psycopg.Connection) -> None:
    add_card("c1", "Rate enquiry", "new", "sales")
    add_card("e1", "Payment advice", "new", "accounts", stream="erp")

    recorded = board.move_card(warehouse, PRIYA, "c1", "in_progress", 0)
    assert (recorded.entity_version, recorded.actor) == (1, "priya")
    assert recorded.payload == {"to": "in_progress", "from_status": "new"}
    assert board.fetch_board(PRIYA, conn=warehouse).totals["in_progress"] == 1

    # the server refuses whatever the page showed
    with pytest.raises(NotAllowed):
        board.move_card(warehouse, User("meera", "manager"), "c1", "done", 1)
    with pytest.raises(NotAllowed):
        board.move_card(warehouse, None, "c1", "done", 1)
    with pytest.raises(NotAllowed):  # not sales' stream
        board.move_card(warehouse, PRIYA, "e1", "done", 0)
    with pytest.raises(NotAllowed):
        board.move_card(warehouse, PRIYA, "no-such-card", "done", 0)
    with pytest.raises(events.EventError):
        board.move_card(warehouse, PRIYA, "c1", "archived", 1)
    assert board.move_card(warehouse, User("ravi", "ops"), "e1", "done", 0).entity_version == 1

    with pytest.raises(events.VersionConflict) as conflict:
        board.move_card(warehouse, PRIYA, "c1", "done", 0)
    assert conflict.value.last_actor == "priya"
    assert events.current_version(warehouse, "card", "c1") == 1


def test_the_conflict_message_names_who_changed_the_card() -> None:
    conflict = events.VersionConflict(
        "card", "c1", 0, 1, "ravi", "CardMoved", datetime(2026, 12, 3, 5, 12, tzinfo=UTC)
    )
    assert board.conflict_message(conflict, ZoneInfo("Asia/Kolkata")) == (
        "Not moved: this card was moved by ravi at 10:42 — reload and try again."
    )
    assigned = events.VersionConflict("card", "c1", 0, 2, "asha", "CardAssigned", None)
    assert board.conflict_message(assigned) == (
        "Not moved: this card was assigned by asha — reload and try again."
    )
    odd = events.VersionConflict("card", "c1", 0, 2, "**x** [y](z)", "ReplySent", None)
    assert board.conflict_message(odd) == (
        "Not moved: this card was replied to by someone else — reload and try again."
    )


def test_filter_options_come_from_the_user_s_cards(add_card, warehouse) -> None:
    add_card("c1", "Rate enquiry", "new", "sales", assignee="priya")
    add_card("e1", "Payment advice", "new", "accounts", stream="erp", assignee="ravi")
    assert board.fetch_options(PRIYA, conn=warehouse) == {
        "mailbox": ["sales"],
        "assignee": ["priya"],
    }
