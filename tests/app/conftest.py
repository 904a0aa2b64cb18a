import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import streamlit as st
import yaml
from psycopg import sql

CARDS_YML = (
    Path(__file__).resolve().parents[2] / "dbt" / "models" / "marts" / "mail" / "email_cards.yml"
)

AddCard = Callable[..., None]


def cards_ddl() -> sql.Composed:
    """marts.email_cards as dbt creates it: the columns and types of the mart's enforced
    contract, so the app's tests cannot drift from the real table."""
    (model,) = yaml.safe_load(CARDS_YML.read_text())["models"]
    columns = [
        sql.SQL("{} {}").format(sql.Identifier(c["name"]), sql.SQL(c["data_type"]))
        for c in model["columns"]
    ]
    return sql.SQL("CREATE TABLE marts.email_cards ({})").format(sql.SQL(", ").join(columns))


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
    """Create marts.email_cards (with the mart's contract) and return a function adding one
    card (one thread); keyword arguments set other columns."""
    warehouse.execute(cards_ddl())

    def add(card_id: str, subject: str, status: str, mailbox: str, **extra: Any) -> None:
        row: dict[str, Any] = {
            "card_id": card_id,
            "thread_key": card_id,
            "mailbox": mailbox,
            "subject": subject,
            "from_address": "a@b.in",
            "from_display": "A B",
            "message_count": 1,
            "inbound_count": 1,
            "outbound_count": 0,
            "last_message_at": "now",
            "latest_email_key": card_id,
            "snippet": "snippet text",
            "attachment_count": 0,
            "stream": "crm",
            "intent": "price_enquiry",
            "confidence": 0.93,
            "reclassified": False,
            "requires_review": False,
            "status": status,
            "card_version": 0,
        } | extra
        warehouse.execute(
            sql.SQL("INSERT INTO marts.email_cards ({}) VALUES ({})").format(
                sql.SQL(", ").join(map(sql.Identifier, row)),
                sql.SQL(", ").join(sql.Placeholder() * len(row)),
            ),
            list(row.values()),
        )

    return add
