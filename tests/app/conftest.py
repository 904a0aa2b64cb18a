import sys
from collections.abc import Callable, Iterator

import psycopg
import pytest
import streamlit as st

CARDS_DDL = """
CREATE TABLE marts.email_cards (
    card_id text primary key, email_key text, message_id text, mailbox text, subject text,
    from_address text, from_display text, from_domain text, sent_at timestamptz,
    thread_key text, snippet text, attachment_count integer, stream text, intent text,
    confidence double precision, requires_review boolean, status text, loaded_at timestamptz
)
"""

AddCard = Callable[[str, str, str, str], None]


@pytest.fixture(autouse=True)
def _fresh_streamlit_caches() -> Iterator[None]:
    """Each test has its own database; cached query results must not leak between them.
    AppTest also installs the page as ``__main__``, which later multiprocessing children
    would re-run: put the real one back."""
    st.cache_data.clear()
    st.cache_resource.clear()
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


@pytest.fixture
def add_card(warehouse: psycopg.Connection) -> AddCard:
    """Create marts.email_cards (as dbt would) and return a function adding one card."""
    warehouse.execute(CARDS_DDL)

    def add(card_id: str, subject: str, status: str, mailbox: str) -> None:
        warehouse.execute(
            """INSERT INTO marts.email_cards (card_id, email_key, mailbox, subject, from_address,
               from_display, sent_at, snippet, attachment_count, stream, intent, confidence,
               requires_review, status)
               VALUES (%s, %s, %s, %s, 'a@b.in', 'A B', now(), 'snippet text', 0, 'crm',
                       'price_enquiry', 0.93, false, %s)""",
            (card_id, card_id, mailbox, subject, status),
        )

    return add
