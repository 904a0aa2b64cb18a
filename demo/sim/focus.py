"""A simulator of the Focus RT (Focus 8/9 ERP) REST API, serving the demo world.

It speaks the shape integrators' code shows (see ingest/focus/README.md):

- ``POST /Focus8API/Login`` with ``{"data":[{"Username","password","CompanyId"}]}`` answers
  ``{"data":[{"fSessionId": "..."}],"result":1,"message":""}``; bad credentials answer
  ``result: -1`` with a message, still HTTP 200.
- Every other call needs the ``fSessionId`` header. Sessions expire after ``session_ttl_s``;
  an expired or unknown session answers ``result: -1`` ("Session expired" / "Invalid session").
- ``GET /Focus8API/List/Transactions/<VoucherType>?fromDate=YYYYMMDD&toDate=YYYYMMDD
  &pageNo=1&pageSize=200`` lists documents (doc number and date), oldest first.
- ``GET /Focus8API/Screen/Transactions/<VoucherType>/<DocNo>`` (both URL-encoded) answers
  ``{"data":[{"Header":{..},"Body":[..],"Footer":[..]}],"result":1}``.
- Dates are Focus's packed integers (``year*65536 + month*256 + day``).
- ``POST /__faults`` switches failure modes (see :mod:`demo.sim.faults`).

Voucher-type names and field names follow a tenant configuration, so tests can stand up a
tenant whose names differ from the stock ones.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from demo.sim.faults import CONTROL_PATH, Faults
from ingest.focus.parse import encode_focus_date, parse_focus_date
from ingest.focus.settings import (
    DEFAULT_FIELD_MAP,
    DEFAULT_VOUCHER_TYPES,
    DEMO_COMPANY_ID,
    DEMO_PASSWORD,
    DEMO_USERNAME,
    INVOICES,
    QC_INSPECTIONS,
    SALES_ORDERS,
)

WORLD_FILES: dict[str, str] = {
    SALES_ORDERS: "sales_orders.jsonl",
    INVOICES: "invoices.jsonl",
    QC_INSPECTIONS: "qc_records.jsonl",
}
#: Focus keeps units as master records; the simulator numbers the units it meets.
UNIT_IDS: dict[str, int] = {"kg": 1, "mt": 2, "ltr": 3, "nos": 4, "bag": 5, "drum": 6}
DEFAULT_PAGE_SIZE = 200
MAX_PAGE_SIZE = 1000


def load_world_documents(world_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Read the Focus-side records of a demo world, per voucher kind, sorted by (date, doc_no).

    A missing file means no documents of that kind; a line that is not a JSON object raises
    ValueError naming the file and line.
    """
    if not world_dir.is_dir():
        raise ValueError(f"demo world directory not found: {world_dir}")
    documents: dict[str, list[dict[str, Any]]] = {}
    for kind, name in WORLD_FILES.items():
        path = world_dir / name
        records: list[dict[str, Any]] = []
        if path.is_file():
            with path.open(encoding="utf-8") as handle:
                for number, line in enumerate(handle, start=1):
                    if not line.strip():
                        continue
                    try:
                        record = json.loads(line)
                        if not isinstance(record, dict) or "doc_no" not in record:
                            raise ValueError("expected an object with doc_no")
                        record["_date"] = parse_focus_date(record["date"])
                    except (ValueError, KeyError) as exc:
                        raise ValueError(f"{path}:{number}: bad record: {exc}") from None
                    records.append(record)
        records.sort(key=lambda r: (r["_date"], r["doc_no"]))
        documents[kind] = records
    return documents


def _title(value: Any) -> str:
    return str(value or "").replace("_", " ").title()


class FocusTenant:
    """Renders world records as one tenant's Focus documents (its names, its date format)."""

    def __init__(
        self,
        field_map: Mapping[str, str] | None = None,
        voucher_types: Mapping[str, str] | None = None,
    ) -> None:
        self.fields = {**DEFAULT_FIELD_MAP, **(field_map or {})}
        self.voucher_types = {**DEFAULT_VOUCHER_TYPES, **(voucher_types or {})}

    def kind_of(self, voucher_type: str) -> str | None:
        wanted = voucher_type.strip().casefold()
        for kind, name in self.voucher_types.items():
            if name.casefold() == wanted:
                return kind
        return None

    def summary(self, record: dict[str, Any]) -> dict[str, Any]:
        f = self.fields
        return {f["doc_no"]: record["doc_no"], f["date"]: encode_focus_date(record["_date"])}

    def document(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        if kind == QC_INSPECTIONS:
            return self._qc(record)
        f = self.fields
        header: dict[str, Any] = {
            f["doc_no"]: record["doc_no"],
            f["date"]: encode_focus_date(record["_date"]),
            f["customer_code"]: record.get("company_id"),
            f["customer_name"]: record.get("customer_name"),
            f["gstin"]: record.get("gstin"),
        }
        footer: dict[str, Any]
        lines = record.get("lines") or []
        if kind == SALES_ORDERS:
            header[f["po_ref"]] = record.get("po_ref")
            header[f["status"]] = _title(record.get("status"))
            footer = {f["total"]: round(sum(float(x.get("amount") or 0) for x in lines), 2)}
        else:
            header[f["order_no"]] = record.get("order_no")
            header[f["vehicle_no"]] = record.get("vehicle_no")
            header[f["lr_no"]] = record.get("lr_no")
            footer = {
                f["taxable_value"]: record.get("taxable_value"),
                f["gst_amount"]: record.get("gst_amount"),
                f["total"]: record.get("total"),
            }
        body = []
        for line in lines:
            unit = str(line.get("unit") or "kg")
            body.append(
                {
                    f["item_code"]: line.get("product_code"),
                    f["item_name"]: line.get("product_name"),
                    f["quantity"]: line.get("qty_kg"),
                    "Unit__Id": UNIT_IDS.get(unit.casefold(), 0),
                    f["unit"]: unit,
                    f["rate"]: line.get("rate"),
                    f["amount"]: line.get("amount"),
                }
            )
        return {"Header": header, "Body": body, "Footer": [footer]}

    def _qc(self, record: dict[str, Any]) -> dict[str, Any]:
        f = self.fields
        header = {
            f["doc_no"]: record["doc_no"],
            f["date"]: encode_focus_date(record["_date"]),
            f["batch_no"]: record.get("batch_no"),
            f["product_code"]: record.get("product_code"),
            f["product_name"]: record.get("product_name"),
            f["order_no"]: record.get("order_no"),
            f["qc_result"]: _title(record.get("result")),
            f["coa_status"]: _title(record.get("coa_status")),
        }
        body = [
            {
                f["param_name"]: param.get("name"),
                f["param_unit"]: param.get("unit"),
                f["param_min"]: param.get("min"),
                f["param_max"]: param.get("max"),
                f["param_result"]: param.get("result"),
                f["param_pass"]: "Pass" if param.get("pass") else "Fail",
            }
            for param in record.get("params") or []
        ]
        return {"Header": header, "Body": body, "Footer": []}


def _failure(message: str) -> dict[str, Any]:
    return {"data": [], "result": -1, "message": message}


class FocusSimulator:
    """An in-process Focus RT server: ``start()`` returns its base URL, ``stop()`` ends it."""

    def __init__(
        self,
        world_dir: Path | str,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        username: str | None = None,
        password: str | None = None,
        company_id: str | None = None,
        session_ttl_s: float = 1800.0,
        fault: str = "none",
        delay_s: float = 2.0,
        field_map: Mapping[str, str] | None = None,
        voucher_types: Mapping[str, str] | None = None,
    ) -> None:
        self.world_dir = Path(world_dir)
        self.host = host
        self.port = port
        self.username = username or os.environ.get("FOCUS_USERNAME", DEMO_USERNAME)
        self.password = password or os.environ.get("FOCUS_PASSWORD", DEMO_PASSWORD)
        self.company_id = company_id or os.environ.get("FOCUS_COMPANY_ID", DEMO_COMPANY_ID)
        self.session_ttl_s = session_ttl_s
        self.faults = Faults(fault, delay_s)
        self.tenant = FocusTenant(field_map, voucher_types)
        self.documents = load_world_documents(self.world_dir)
        self._index = {
            kind: {record["doc_no"]: record for record in records}
            for kind, records in self.documents.items()
        }
        self._sessions: dict[str, float] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.request_count = 0
        self.login_count = 0

    @property
    def document_count(self) -> int:
        return sum(len(records) for records in self.documents.values())

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("simulator not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> str:
        """Bind and serve in a background thread; returns the base URL."""
        handler = type("FocusHandler", (_FocusHandler,), {"simulator": self})
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # quick shutdown
            name="focus-sim",
            daemon=True,
        )
        self._thread.start()
        return self.url

    def __enter__(self) -> FocusSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait(self) -> None:
        """Block until the server stops (for the command line)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # -- protocol -----------------------------------------------------------------------

    def login(self, body: bytes) -> dict[str, Any]:
        try:
            request = json.loads(body.decode("utf-8"))
            credentials = request["data"][0]
            username = str(credentials.get("Username", ""))
            password = str(credentials.get("password", ""))
            company = str(credentials.get("CompanyId", ""))
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            return _failure("Invalid login request")
        ok = (
            secrets.compare_digest(username.encode(), self.username.encode())
            and secrets.compare_digest(password.encode(), self.password.encode())
            and company == self.company_id
        )
        if not ok:
            return _failure("Invalid Username or Password or Company")
        session_id = secrets.token_hex(16)
        with self._lock:
            self._sessions[session_id] = time.monotonic()
            self.login_count += 1
        return {"data": [{"fSessionId": session_id}], "result": 1, "message": ""}

    def session_problem(self, session_id: str | None) -> str | None:
        """None when the session is usable, else the message Focus answers with."""
        if not session_id:
            return "Invalid session: fSessionId header missing"
        with self._lock:
            created = self._sessions.get(session_id)
            if created is None:
                return "Invalid session"
            now = time.monotonic()
            expired = now - created >= self.session_ttl_s or (
                self.faults.mode == "expired_session" and created <= self.faults.changed_at
            )
            if expired:
                del self._sessions[session_id]
                return "Session expired. Please login again"
        return None

    def list_documents(self, voucher_type: str, query: dict[str, list[str]]) -> dict[str, Any]:
        kind = self.tenant.kind_of(voucher_type)
        if kind is None:
            return _failure(f"Voucher type '{voucher_type}' not found")
        try:
            start = _query_date(query, "fromDate") or dt.date.min
            end = _query_date(query, "toDate") or dt.date.max
            page_no = int(query.get("pageNo", ["1"])[0])
            page_size = int(query.get("pageSize", [str(DEFAULT_PAGE_SIZE)])[0])
            if page_no < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
                raise ValueError("pageNo must be >= 1 and pageSize 1..1000")
        except ValueError as exc:
            return _failure(f"Invalid query: {exc}")
        matching = [r for r in self.documents[kind] if start <= r["_date"] <= end]
        page = matching[(page_no - 1) * page_size : page_no * page_size]
        return {
            "data": [self.tenant.summary(r) for r in page],
            "result": 1,
            "message": "",
            "pageNo": page_no,
            "pageSize": page_size,
            "totalCount": len(matching),
        }

    def screen(self, voucher_type: str, doc_no: str) -> dict[str, Any]:
        kind = self.tenant.kind_of(voucher_type)
        if kind is None:
            return _failure(f"Voucher type '{voucher_type}' not found")
        record = self._index[kind].get(doc_no)
        if record is None:
            return _failure(f"Document '{doc_no}' not found in {voucher_type}")
        return {"data": [self.tenant.document(kind, record)], "result": 1, "message": ""}


def _query_date(query: dict[str, list[str]], name: str) -> dt.date | None:
    values = query.get(name)
    if not values or not values[0].strip():
        return None
    try:
        return parse_focus_date(values[0])
    except ValueError:
        raise ValueError(f"{name} must be YYYYMMDD, got {values[0]!r}") from None


class _FocusHandler(BaseHTTPRequestHandler):
    simulator: FocusSimulator
    protocol_version = "HTTP/1.1"
    server_version = "Focus8API-Sim/1.0"
    # Buffered writes send headers and body in one segment; unbuffered, the split write meets
    # Nagle's algorithm and delayed ACKs and every keep-alive reply costs ~40 ms.
    wbufsize = 64 * 1024

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet: tests and the CLI do not want a line per request

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        parts = urlsplit(self.path)
        sim = self.simulator
        if parts.path == CONTROL_PATH:
            if method == "POST":
                status, reply = sim.faults.handle_control(body)
            else:
                status, reply = 200, sim.faults.snapshot()
            self._send(status, json.dumps(reply).encode())
            return
        with sim._lock:
            sim.request_count += 1
        faults = sim.faults
        if faults.mode == "down":
            self.close_connection = True
            return  # drop the connection without a word, like a dead server
        faults.pause()
        if faults.mode == "lineerror":
            reply = _failure("Internal error while processing the request")
        else:
            reply = self._route(method, parts.path, parse_qs(parts.query), body)
        self._send(200, faults.mangle(json.dumps(reply).encode()))

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], body: bytes
    ) -> dict[str, Any]:
        segments = [unquote(s) for s in path.strip("/").split("/")]
        lowered = [s.casefold() for s in segments]
        sim = self.simulator
        if not lowered or lowered[0] != "focus8api":
            return _failure("Unknown API path")
        if lowered[1:] == ["login"] and method == "POST":
            return sim.login(body)
        problem = sim.session_problem(self.headers.get("fSessionId"))
        if problem is not None:
            return _failure(problem)
        if method == "GET" and len(segments) == 4 and lowered[1:3] == ["list", "transactions"]:
            return sim.list_documents(segments[3], query)
        if method == "GET" and len(segments) == 5 and lowered[1:3] == ["screen", "transactions"]:
            return sim.screen(segments[3], segments[4])
        return _failure("Unknown API path")

    def _send(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()
