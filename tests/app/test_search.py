"""The board's semantic search: a real embedded Qdrant store in tmp_path and the real
encoder, a handful of emails, and the cards they belong to."""

from pathlib import Path

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from app.search import SearchUnavailable, search_cards, store_path
from ml.encoder import get_encoder
from ml.search import EmailIndex
from pebble.auth import User

PAGE = str(Path(__file__).resolve().parents[2] / "app" / "pages" / "kanban.py")

# (email key, card, subject)
EMAILS = [
    ("e1", "c1", "Please quote price for 5 MT sulphuric acid"),
    ("e2", "c2", "Our order SO/25-26/01877 has not been dispatched yet"),
    ("e3", "c3", "Tender for supply of alum to municipal water works"),
    ("e4", "c4", "Material received is lumpy, moisture above spec"),
]


def _index(path: Path) -> None:
    from qdrant_client import QdrantClient

    vectors = get_encoder().encode([subject for _, _, subject in EMAILS])
    client = QdrantClient(path=str(path))
    try:
        EmailIndex(client, encoder=get_encoder()).upsert(
            {"email_key": key, "embedding": vector, "subject": subject}
            for (key, _, subject), vector in zip(EMAILS, vectors, strict=True)
        )
    finally:
        client.close()


@pytest.fixture
def cards(add_card, warehouse: psycopg.Connection) -> psycopg.Connection:
    for key, card, subject in EMAILS:
        stream = "crm" if card in ("c1", "c2") else "erp"
        add_card(card, subject, "new", "sales", latest_email_key=key, stream=stream)
    return warehouse


def test_a_search_finds_the_cards_of_the_nearest_emails(cards, tmp_path: Path) -> None:
    store = tmp_path / "qdrant"
    _index(store)
    # a reply of thread c1, known to staging only: its thread key is c1's Message-ID
    cards.execute(
        "CREATE TABLE staging.stg_mail__emails (email_key text, thread_key text, "
        "message_id text, variant_of text, loaded_at timestamptz)"
    )
    cards.execute(
        "INSERT INTO staging.stg_mail__emails VALUES "
        "('e1', 'c1', 'm1@acme.in', NULL, now()), ('e9', 'm1@acme.in', 'm9@acme.in', NULL, now())"
    )
    assert search_cards("when will my order be dispatched?", path=store, conn=cards)[0] == "c2"
    found = search_cards("customers asking about sulphuric acid quotes", path=store, conn=cards)
    assert found[0] == "c1"
    assert "c3" not in found  # unrelated mail does not match at all
    from app.search import cards_of_emails

    assert cards_of_emails(cards, ["e9", "e2"]) == ["c1", "c2"]


def test_a_busy_or_missing_store_is_said_plainly(cards, tmp_path: Path) -> None:
    from qdrant_client import QdrantClient

    with pytest.raises(SearchUnavailable, match="no emails have been indexed"):
        search_cards("acid", path=tmp_path / "missing", conn=cards)
    store = tmp_path / "qdrant"
    _index(store)
    holder = QdrantClient(path=str(store))  # a scoring run holds the embedded store
    try:
        with pytest.raises(SearchUnavailable, match="busy"):
            search_cards("acid", path=store, conn=cards)
    finally:
        holder.close()


def test_the_board_shows_only_matching_cards_ranked(cards) -> None:
    from qdrant_client import QdrantClient

    _index(store_path())
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["pebble_user"] = User("priya", "sales")
    at.query_params["view"] = "list"
    at.query_params["q"] = "quote for sulphuric acid"
    at.run()
    assert not at.exception
    assert at.text_input(key="board_q").value == "quote for sulphuric acid"
    subjects = [t.value for t in at.text if t.value in {s for _, _, s in EMAILS}]
    assert subjects[0] == EMAILS[0][2]
    assert EMAILS[1][2] not in subjects  # c2 is sales' card, but not about acid
    assert EMAILS[2][2] not in subjects  # c3 is not sales' card

    holder = QdrantClient(path=str(store_path()))
    try:
        at.text_input(key="board_q").input("alum tender").run()
    finally:
        holder.close()
    assert not at.exception
    assert any("Search is busy" in w.value for w in at.warning)
    assert at.subheader[0].value == "Inbox (2)"  # the board without the search
