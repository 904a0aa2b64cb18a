"""A small demo warehouse for the assistant's tests, built once per session: a generated
demo world landed as production lands it (Tally and Focus RT through their simulators,
mail and lead lists through their loaders), the marts the tools read built by the real dbt
models, two accounts, some cards moved to waiting_on_customer and a hand-made deal. And a
fake OpenAI-compatible server (real HTTP) that scripts tool calls.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import conninfo, sql

from ml.drafts.llm import get_llm_settings
from pebble import db, events
from pebble.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).parent / "dbt"
MARTS = (
    "+crm_companies +crm_company_sources +sales_orders +receivables +customer_last_price "
    "+stock_levels +email_cards +qc_results +qc_batches +deal_pipeline"
).split()
#: The hand-made deal the write tests move.
DEAL_ID = "deal-test-0001"
WAITING_CARDS = 3


@dataclass(frozen=True)
class Demo:
    url: str
    deal_id: str
    #: The company of the hand-made deal (the company with the most open orders).
    deal_company: str


def _env(url: str, home: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": url,
        "PEBBLE_HOME": str(home),
        "PEBBLE_TIMEZONE": "Asia/Kolkata",
        **db.dbt_env(url),
    }


@pytest.fixture(scope="session")
def demo(pg_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    from demo.world import generate_world
    from pebble import auth
    from tests.platform.test_crm_master import land_world

    work = tmp_path_factory.mktemp("assistant")
    name = f"pebble_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = conninfo.make_conninfo(pg_server_url, dbname=name)
    try:
        with pytest.MonkeyPatch.context() as env:
            for key, value in _env(url, work / "home").items():
                env.setenv(key, value)
            env.delenv(db.RESOLVED_URL_ENV, raising=False)
            get_settings.cache_clear()
            db.upgrade(url, cached=False)
            generate_world(work / "world", seed=7, scale=0.02)
            land_world(url, work / "world")
            done = subprocess.run(
                [str(DBT), "run", "--select", *MARTS, "--target-path", str(work / "target"),
                 "--log-path", str(work / "logs")],
                cwd=ROOT / "dbt", env=dict(os.environ, DBT_SEND_ANONYMOUS_USAGE_STATS="false"),
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
        with psycopg.connect(url, autocommit=True) as conn:
            for user, role in (("sam", "sales"), ("mona", "marketing"), ("quinn", "qc"),
                               ("otto", "ops"), ("manu", "manager")):  # fmt: skip
                auth.add_user(conn, user, role, "correct-horse-battery", actor="test")
            cards = conn.execute(
                "SELECT card_id, stream FROM marts.email_cards WHERE stream IN ('crm', 'erp')"
                " ORDER BY last_message_at DESC, card_id LIMIT %s",
                (WAITING_CARDS,),
            ).fetchall()
            for card_id, _stream in cards:
                event = events.new_event(
                    "CardMoved", card_id, actor="test", payload={"to": "waiting_on_customer"}
                )
                events.append(conn, event, events.current_version(conn, "card", card_id))
            (company,) = conn.execute(
                "SELECT company_key FROM marts.crm_company_sources WHERE source_system = 'focus'"
                " ORDER BY company_key LIMIT 1"
            ).fetchone()
            event = events.new_event(
                "DealCreated", DEAL_ID, actor="test", company_key=company,
                payload={"title": "Test deal", "stage": "enquiry"},
            )  # fmt: skip
            events.append(conn, event, expected_version=0)
        yield Demo(url, DEAL_ID, company)
    finally:
        get_settings.cache_clear()
        with psycopg.connect(pg_server_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def conn(demo: Demo) -> Iterator[psycopg.Connection]:
    with psycopg.connect(demo.url, autocommit=True) as c:
        yield c


@pytest.fixture
def demo_env(demo: Demo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """The process pointed at the demo warehouse, without an LLM."""
    monkeypatch.setenv("DATABASE_URL", demo.url)
    monkeypatch.setenv("PEBBLE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(db.RESOLVED_URL_ENV, raising=False)
    for key in ("PEBBLE_LLM_BASE_URL", "PEBBLE_LLM_MODEL", "PEBBLE_LLM_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    get_settings.cache_clear()
    get_llm_settings.cache_clear()
    yield demo.url
    get_settings.cache_clear()
    get_llm_settings.cache_clear()


def event_count(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) FROM ops.events").fetchone()[0]


# -- a fake OpenAI-compatible server that scripts tool calls ------------------------------

Step = Callable[[dict[str, Any]], dict[str, Any]]


def tool_call(name: str, **args: Any) -> dict[str, Any]:
    """An assistant message calling one tool."""
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": f"call_{uuid.uuid4().hex[:8]}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(args)},
            }
        ],  # fmt: skip
    }


def say(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text}


def tool_data(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The data of every tool message in a request (the JSON inside the nonce fence)."""
    out = []
    for message in request["messages"]:
        if message["role"] == "tool":
            body = message["content"].split("\n", 1)[1].rsplit("\n", 1)[0]
            out.append(json.loads(body)["data"])
    return out


@dataclass
class FakeLLM:
    url: str
    #: One function per request, in order: request -> the assistant message to answer.
    script: list[Step] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)


def _handler(state: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            state.requests.append(body)
            if self.path.rstrip("/") != "/v1/chat/completions" or not state.script:
                self._send(404, {"error": {"message": "no scripted answer"}})
                return
            message = state.script.pop(0)(body)
            finish = "tool_calls" if message.get("tool_calls") else "stop"
            self._send(200, {
                "id": "chatcmpl-test", "object": "chat.completion", "created": 1_700_000_000,
                "model": body.get("model", "fake"),
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            })  # fmt: skip

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture
def fake_llm(demo_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLLM]:
    state = FakeLLM(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("PEBBLE_LLM_BASE_URL", state.url)
    monkeypatch.setenv("PEBBLE_LLM_MODEL", "fake-model")
    monkeypatch.setenv("PEBBLE_LLM_TIMEOUT_S", "20")
    monkeypatch.setenv("PEBBLE_LLM_MAX_RETRIES", "0")
    get_llm_settings.cache_clear()
    yield state
    get_llm_settings.cache_clear()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
