"""Caps on Focus RT replies (issue 9, "Unbounded inputs"): a server that repeats a page or
pages on for ever, and a reply larger than ``FOCUS_MAX_RESPONSE_BYTES``.

Real HTTP: a tiny ``http.server`` in the test plays the misbehaving Focus."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from ingest.focus.client import FocusClient
from ingest.focus.errors import FocusPagingError, FocusResponseTooLarge
from ingest.focus.settings import FocusSettings

LOGIN = {"data": [{"fSessionId": "s-1"}], "result": 1, "message": ""}


class _Focus:
    """Logs anyone in; answers list calls with ``page(page_no, page_size)`` (a reply dict,
    or raw bytes)."""

    def __init__(self, page: Callable[[int, int], Any]) -> None:
        self.pages_asked: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, body: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._reply(json.dumps(LOGIN).encode())

            def do_GET(self) -> None:  # noqa: N802
                query = parse_qs(urlsplit(self.path).query)
                page_no = int(query["pageNo"][0])
                outer.pages_asked.append(page_no)
                answer = page(page_no, int(query["pageSize"][0]))
                self._reply(answer if isinstance(answer, bytes) else json.dumps(answer).encode())

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def focus_server() -> Iterator[Callable[[Callable[[int, int], Any]], _Focus]]:
    servers: list[_Focus] = []

    def start(page: Callable[[int, int], Any]) -> _Focus:
        servers.append(_Focus(page))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _rows(first: int, count: int) -> list[dict[str, str]]:
    return [{"DocNo": f"SO/{n}", "Date": "2025-10-01"} for n in range(first, first + count)]


def _client(url: str, fast: dict[str, Any], **overrides: Any) -> FocusClient:
    return FocusClient(FocusSettings(url=url, **{**fast, **overrides}))


def test_server_repeating_the_same_page_is_stopped(focus_server, fast) -> None:
    """A server that ignores pageNo answers page 1 for ever: the second page is recognised
    as a repeat and the listing fails typed, instead of looping without end."""
    server = focus_server(lambda _no, size: {"result": 1, "data": _rows(1, size)})
    with _client(server.url, fast, page_size=5) as client:
        with pytest.raises(FocusPagingError) as caught:
            list(client.list_documents("Sales Orders"))
    assert caught.value.code == "FOCUS_PAGING_LOOP"
    assert "page 2 repeats page 1" in str(caught.value)
    assert server.pages_asked == [1, 2]


def test_paging_stops_at_max_pages(focus_server, fast) -> None:
    """New rows on every page, for ever: stopped at FOCUS_MAX_PAGES."""
    server = focus_server(lambda no, size: {"result": 1, "data": _rows(no * size, size)})
    with _client(server.url, fast, page_size=2, max_pages=7) as client:
        with pytest.raises(FocusPagingError, match="past 7 pages"):
            list(client.list_documents("Sales Orders"))
    assert server.pages_asked == list(range(1, 8))


def test_honest_paging_still_ends_normally(focus_server, fast) -> None:
    server = focus_server(
        lambda no, size: {"result": 1, "data": _rows(no * size, size if no < 3 else 1)}
    )
    with _client(server.url, fast, page_size=4, max_pages=3) as client:
        assert len(list(client.list_documents("Sales Orders"))) == 9


def test_reply_over_the_cap_is_refused_typed(focus_server, fast) -> None:
    padding = " " * 8192
    server = focus_server(lambda _no, _size: f'{{"result": 1, "data": []{padding}}}'.encode())
    with _client(server.url, fast, max_response_bytes=4096) as client:
        with pytest.raises(FocusResponseTooLarge) as caught:
            list(client.list_documents("Sales Orders"))
    assert caught.value.code == "FOCUS_RESPONSE_TOO_LARGE"
    assert server.pages_asked == [1]  # not retried: the same request gets the same answer


def test_simulator_listing_unaffected(make_client) -> None:
    """The guard does not disturb the real (simulated) Focus's paging."""
    client = make_client(page_size=2)
    assert len(list(client.list_documents("Sales Orders"))) == 5
