import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import streamlit as st
import yaml
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
#: Debian's chromium, which Playwright drives (its own browser download fails here).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served_app(warehouse: psycopg.Connection, tmp_path: Path) -> Iterator[str]:
    """The whole app (app/streamlit_app.py) served by Streamlit on a free port, over this
    test's warehouse; its URL. The server's log is ``tmp_path / "app.log"``."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "streamlit"),
            "run",
            "app/streamlit_app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=open(tmp_path / "app.log", "wb"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def wait_for(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    """``check()`` once it is truthy, polling for up to ``timeout`` seconds (then its last
    value)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    return check()
