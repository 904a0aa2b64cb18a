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

MODELS = ROOT / "dbt" / "models"

AddCard = Callable[..., None]


def contract_ddl(name: str) -> sql.Composed:
    """``marts.<name>`` as dbt creates it: the columns and types of the mart's enforced
    contract (its yml), so the app's tests cannot drift from the real table."""
    (yml,) = MODELS.glob(f"marts/**/{name}.yml")
    (model,) = [m for m in yaml.safe_load(yml.read_text())["models"] if m["name"] == name]
    columns = [
        sql.SQL("{} {}").format(sql.Identifier(c["name"]), sql.SQL(c["data_type"]))
        for c in model["columns"]
    ]
    return sql.SQL("CREATE TABLE marts.{} ({})").format(
        sql.Identifier(name), sql.SQL(", ").join(columns)
    )


def cards_ddl() -> sql.Composed:
    return contract_ddl("email_cards")


def mart(conn: psycopg.Connection, name: str, rows: list[dict[str, Any]]) -> None:
    """marts.<name> with the columns and types of its contract, holding ``rows``."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS marts")
    conn.execute(contract_ddl(name))
    for row in rows:
        conn.execute(
            sql.SQL("INSERT INTO marts.{} ({}) VALUES ({})").format(
                sql.Identifier(name),
                sql.SQL(", ").join(map(sql.Identifier, row)),
                sql.SQL(", ").join(sql.Placeholder() * len(row)),
            ),
            list(row.values()),
        )


def _source_schemas() -> dict[str, str]:
    """dbt source name -> schema (dbt/models/staging/*/_*__sources.yml)."""
    out: dict[str, str] = {}
    for yml in MODELS.glob("staging/*/_*__sources.yml"):
        for source in yaml.safe_load(yml.read_text())["sources"]:
            out[source["name"]] = source.get("schema", source["name"])
    return out


def staging_views(conn: psycopg.Connection, *models: str) -> None:
    """dbt staging models as views in ``staging``, from their own SQL rendered with the
    project's macros (sources resolved to their schemas, env_var to its default)."""
    import jinja2

    macros = "\n".join(p.read_text() for p in sorted((ROOT / "dbt" / "macros").glob("*.sql")))
    schemas = _source_schemas()
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    conn.execute("CREATE SCHEMA IF NOT EXISTS staging")
    for model in models:
        path = next(MODELS.glob(f"staging/**/{model}.sql"))
        body = env.from_string(macros + "\n" + path.read_text()).render(
            source=lambda src, table: f"{schemas[src]}.{table}",
            env_var=lambda _name, default=None: default,
        )
        conn.execute(f"CREATE OR REPLACE VIEW staging.{model} AS {body}")  # our own files


@pytest.fixture(autouse=True)
def _fresh_streamlit_caches() -> Iterator[None]:
    """Each test has its own database; cached query results must not leak between them
    (``tests/conftest.py`` puts back the ``__main__`` module AppTest replaces)."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


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


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's chromium driven by playwright (its own browser download is not used)."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "chromium is missing: run scripts/install-system-deps.sh"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


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
