"""The HTTP server: one request at a time, faults, the live dispatch loop."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from demo.sim.faults import CONTROL_PATH, Faults
from demo.sim.tally.company import TallyCompany
from demo.sim.tally.objects import TallyRequestError
from demo.sim.tally.protocol import _decode_request, answer, lineerror, parse_request

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- the server


class _Handler(BaseHTTPRequestHandler):
    server: _TallyHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "TallyPrime"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("tally-sim %s", format % args)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, payload: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up waiting (timeouts)

    def _send_json(self, status: int, data: dict[str, Any]) -> None:
        self._send(status, json.dumps(data).encode(), "application/json")

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        simulator = self.server.simulator
        if self.path == CONTROL_PATH:
            self._send_json(200, simulator.faults.snapshot())
            return
        if simulator.faults.mode == "down":
            self.close_connection = True
            return
        self._send(200, b"<RESPONSE>TallyPrime Server is Running</RESPONSE>", "text/xml")

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        simulator = self.server.simulator
        body = self._body()
        if self.path == CONTROL_PATH:
            self._send_json(*simulator.faults.handle_control(body))
            return
        if self.path == "/__dispatch":
            with simulator.lock:
                number = simulator.company.dispatch_one()
            self._send_json(200, {"dispatched": number})
            return
        faults = simulator.faults
        if faults.mode == "down":
            self.close_connection = True  # drop the connection without a byte, as a dead server
            return
        with simulator.lock:  # Tally answers one request at a time
            faults.pause()
            text, utf8 = _decode_request(body)
            charset_utf8 = "utf-8" in (self.headers.get("Content-Type") or "").lower()
            utf8 = utf8 or (charset_utf8 and not body.startswith((b"\xff\xfe", b"\xfe\xff")))
            mode = faults.mode
            if mode == "lineerror":
                xml = lineerror("Tally is busy: a report is open in the foreground")
            else:
                try:
                    xml = answer(simulator.company, parse_request(text))
                except TallyRequestError as exc:
                    xml = lineerror(str(exc))
            if mode == "malformed":
                # Broken markup at a character boundary, so it is malformed in any encoding.
                middle = len(xml) // 2
                xml = xml[:middle] + "<<garbled>>" + xml[middle:]
            if utf8:
                payload, content_type = xml.encode("utf-8"), "text/xml; charset=utf-8"
            else:
                payload = b"\xff\xfe" + xml.encode("utf-16-le")
                content_type = "text/xml; charset=utf-16"
            if mode == "truncated":
                payload = faults.mangle(payload)
        self._send(200, payload, content_type)


class _TallyHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    simulator: TallySimulator


class TallySimulator:
    """An in-process Tally Prime HTTP server over a demo world.

    ``TallySimulator(world_dir, port=0).start()`` returns the bound URL; ``stop()`` ends it.
    """

    def __init__(
        self,
        world_dir: Path | str,
        host: str = "127.0.0.1",
        port: int = 9000,
        live_interval_s: float | None = None,
        fault: str = "none",
        delay_s: float = 2.0,
    ) -> None:
        self.company = TallyCompany(Path(world_dir))
        self.host = host
        self.port = port
        self.live_interval_s = live_interval_s
        self.faults = Faults(fault, delay_s)
        self.lock = threading.Lock()
        self._server: _TallyHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> str:
        """Bind and serve in background threads; returns the base URL."""
        self._server = _TallyHTTPServer((self.host, self.port), _Handler)
        self._server.simulator = self
        serve = threading.Thread(target=self._server.serve_forever, name="tally-sim", daemon=True)
        serve.start()
        self._threads.append(serve)
        if self.live_interval_s:
            live = threading.Thread(target=self._live_loop, name="tally-sim-live", daemon=True)
            live.start()
            self._threads.append(live)
        return self.url

    def dispatch_one(self) -> str | None:
        """Dispatch one open order now (what the live loop does each interval)."""
        with self.lock:
            return self.company.dispatch_one()

    def _live_loop(self) -> None:
        assert self.live_interval_s is not None
        while not self._stopping.wait(self.live_interval_s):
            number = self.dispatch_one()
            if number:
                log.info("tally-sim dispatched %s", number)

    def wait(self) -> None:
        """Block until stopped (or interrupted)."""
        while not self._stopping.wait(0.5):
            pass

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    def __enter__(self) -> TallySimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
