"""Caps on Tally's answers (issue 9, "Unbounded inputs"): the spool stops at
``TALLY_MAX_RESPONSE_BYTES`` with a typed error, and voucher windows shrink to fit it.

Real HTTP: a tiny ``http.server`` in the test plays a Tally that answers too much."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ingest.tally.client import TallyClient
from ingest.tally.errors import TallyResponseTooLarge

LIMIT = 64 * 1024
EMPTY = b"<ENVELOPE></ENVELOPE>"


class _Server:
    """Answers each export with ``answer(envelope_text)``: bytes, or None for an endless
    body without Content-Length (closed by the client)."""

    def __init__(self, answer: Callable[[str], bytes | None]) -> None:
        self.envelopes: list[str] = []
        self.streamed = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                text = body.decode("utf-16" if body[:2] == b"\xff\xfe" else "utf-8")
                outer.envelopes.append(text)
                reply = answer(text)
                self.send_response(200)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                if reply is not None:
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                    return
                self.end_headers()
                chunk = b"<ENVELOPE>" + b" " * (1 << 16)
                try:
                    while outer.streamed < 1 << 30:  # stops when the client hangs up
                        self.wfile.write(chunk)
                        outer.streamed += len(chunk)
                except OSError:
                    return

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[str], bytes | None]], _Server]]:
    servers: list[_Server] = []

    def start(answer: Callable[[str], bytes | None]) -> _Server:
        servers.append(_Server(answer))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _client(url: str, **overrides: object) -> TallyClient:
    settings = {"url": url, "retries": 2, "backoff_s": 0.01, "max_response_bytes": LIMIT}
    return TallyClient(**(settings | overrides))


def test_endless_answer_stops_at_the_cap_with_a_typed_error(serve) -> None:
    """No Content-Length, a body that never ends: the spool stops just past the cap, the
    error is TALLY_RESPONSE_TOO_LARGE, and it is not retried (same request, same answer)."""
    server = serve(lambda _: None)
    client = _client(server.url)
    with pytest.raises(TallyResponseTooLarge) as caught:
        list(client.records("stock-items"))
    assert caught.value.code == "TALLY_RESPONSE_TOO_LARGE"
    assert str(LIMIT) in str(caught.value) and "TALLY_MAX_RESPONSE_BYTES" in str(caught.value)
    assert client.attempts == 1 and len(server.envelopes) == 1
    assert client.breaker.state == "closed"  # Tally answered: not a connection failure


def test_declared_length_over_the_cap_is_refused_before_reading(serve) -> None:
    server = serve(lambda _: EMPTY + b" " * (LIMIT * 4))
    client = _client(server.url)
    with pytest.raises(TallyResponseTooLarge):
        list(client.records("ledgers"))
    assert client.attempts == 1


def _days(envelope: str) -> int:
    found = dict(re.findall(r"<(SVFROMDATE|SVTODATE)>(\d{8})<", envelope))
    start, end = (datetime.strptime(found[k], "%Y%m%d") for k in ("SVFROMDATE", "SVTODATE"))
    return (end - start).days + 1


def test_voucher_window_over_the_cap_is_halved_until_it_fits(serve) -> None:
    """A Tally whose answer for more than one day is too large: the client asks again in
    halves and ends with every day pulled in one-day windows, nothing skipped."""
    server = serve(lambda env: EMPTY + b" " * (LIMIT * 2) if _days(env) > 1 else EMPTY)
    client = _client(server.url, batch_days=8)
    batches = list(client.vouchers(date(2025, 7, 1), date(2025, 7, 8)))
    assert len(batches) == 8 and all(batch == [] for batch in batches)
    asked = [re.search(r"<SVFROMDATE>(\d{8})<", e).group(1) for e in server.envelopes]  # type: ignore[union-attr]
    one_day = sorted({a for a, e in zip(asked, server.envelopes, strict=True) if _days(e) == 1})
    assert one_day == [f"202507{d:02d}" for d in range(1, 9)]


def test_a_single_day_over_the_cap_fails_typed(serve) -> None:
    server = serve(lambda _: EMPTY + b" " * (LIMIT * 2))
    client = _client(server.url, batch_days=4)
    with pytest.raises(TallyResponseTooLarge):
        list(client.vouchers(date(2025, 7, 1), date(2025, 7, 4)))
    assert [_days(e) for e in server.envelopes] == [4, 2, 1]
