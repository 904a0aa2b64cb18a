"""Hostile Focus RT replies through the real client and landing (``ingest.focus.sync.sync_kind``
with a ``FocusClient`` over HTTP): JSON with wrong types, huge numbers (``1e309``,
``10**400``), NaN, nulls, nested wrong shapes, NUL characters and lone surrogates, replies
nested too deep to parse, unknown charsets.

A tiny local HTTP server plays Focus: it logs anyone in, lists one document and answers the
screen call with the case's bytes. A document that cannot be read lands in ``raw.rejects``
with the reason (the other documents of the pull still land); a reply that is not a Focus
answer at all fails the pull with a typed ``FocusError``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import pytest

from ingest.focus.client import FocusClient
from ingest.focus.errors import FocusError
from ingest.focus.settings import FocusSettings
from ingest.focus.sync import sync_kind

from .conftest import Result, crash_detail, record, register

LOGIN = json.dumps({"result": 1, "message": "", "data": [{"fSessionId": "s-1"}]}).encode()


def _order(doc_no: str, **header: Any) -> dict[str, Any]:
    base = {
        "Header": {"DocNo": doc_no, "Date": "2025-10-01", "CustomerAC__Code": "C1",
                   "CustomerAC__Name": "Apex Rubber", "sStatus": "Open"},
        "Body": [{"Item__Code": "ZNO", "Item__Name": "Zinc Oxide", "Quantity": 500,
                  "Unit__Code": "kg", "Rate": 248, "Gross": 124000}],
        "Footer": [{"NetAmount": 124000}],
    }  # fmt: skip
    base["Header"].update(header)
    return base


def _screen(document: Any) -> bytes:
    return json.dumps({"result": 1, "message": "", "data": [document]}).encode()


def _raw_screen(document_text: str) -> bytes:
    """A screen reply with the document written as raw JSON text (for what json.dumps
    cannot write: 1e309, 10**400 as a literal, lone surrogates)."""
    return b'{"result": 1, "message": "", "data": [' + document_text.encode() + b"]}"


@dataclass(frozen=True)
class FocusCase:
    id: str
    category: str
    screen: bytes = b""
    #: the list reply (None: one row naming the case id)
    listing: bytes | None = None
    content_type: str = "application/json"
    expect: frozenset[str] = frozenset({"rejected"})


def _line(**line: Any) -> dict[str, Any]:
    doc = _order("x")
    doc["Body"][0].update(line)
    return doc


def document_cases() -> list[FocusCase]:
    cat = "focus.document"
    raw_docs = {
        "total-1e309": '{"Header": {"DocNo": "%s", "Date": "2025-10-01"}, "Footer": [{"NetAmount": 1e309}]}',
        "total-minus-1e309": '{"Header": {"DocNo": "%s", "Date": "2025-10-01"}, "Footer": [{"NetAmount": -1e309}]}',
        "total-10pow400-literal": '{"Header": {"DocNo": "%s", "Date": "2025-10-01"}, "Footer": [{"NetAmount": 1%s}]}',
        "quantity-NaN-literal": '{"Header": {"DocNo": "%s", "Date": "2025-10-01"}, "Body": [{"Quantity": NaN}]}',
        "rate-Infinity-literal": '{"Header": {"DocNo": "%s", "Date": "2025-10-01"}, "Body": [{"Rate": Infinity}]}',
        "custom-field-1e309": '{"Header": {"DocNo": "%s", "Date": "2025-10-01", "sRemarks": 1e999}}',
        "custom-field-nested-NaN": '{"Header": {"DocNo": "%s", "Date": "2025-10-01", "x": {"y": [1, NaN]}}}',
        "lone-surrogate-in-name": '{"Header": {"DocNo": "%s", "Date": "2025-10-01", "CustomerAC__Name": "A\\ud800B"}}',
        "lone-surrogate-in-key": '{"Header": {"DocNo": "%s", "Date": "2025-10-01", "\\udfff": 1}}',
        "nul-in-name": '{"Header": {"DocNo": "%s", "Date": "2025-10-01", "CustomerAC__Name": "A\\u0000B"}}',
        "nul-in-key": '{"Header": {"DocNo": "%s", "Date": "2025-10-01", "a\\u0000b": "x"}}',
        "nul-in-line-item": '{"Header": {"DocNo": "%s", "Date": "2025-10-01"}, "Body": [{"Item__Name": "\\u0000"}]}',
    }  # fmt: skip
    cases = []
    for name, template in raw_docs.items():
        case_id = f"focus-doc-{name}"
        text = template % ((case_id, "0" * 400) if "%s}]" in template else (case_id,))
        cases.append(FocusCase(case_id, cat, _raw_screen(text)))
    typed: dict[str, tuple[dict[str, Any], frozenset[str]]] = {
        "total-as-words": (_foot("one lakh"), REJ),
        "total-as-list": (_foot([1, 2]), REJ),
        "total-as-object": (_foot({"value": 1}), REJ),
        "total-as-bool": (_foot(True), REJ),
        "total-10pow400-string": (_foot("1" + "0" * 400), REJ),
        "total-1e309-string": (_foot("1e309"), REJ),
        "total-nan-string": (_foot("NaN"), REJ),
        "total-infinity-string": (_foot("-Infinity"), REJ),
        "total-null": (_foot(None), STORED),
        "total-empty-string": (_foot(""), STORED),
        "total-indian-grouping": (_foot("1,18,000.00"), STORED),
        "quantity-as-text": (_line(Quantity="five hundred"), REJ),
        "rate-as-dict": (_line(Rate={"per": "kg"}), REJ),
        "date-null": (_order("x", Date=None), REJ),
        "date-bool": (_order("x", Date=True), REJ),
        "date-float": (_order("x", Date=2025.5), REJ),
        "date-10pow400": (_order("x", Date=10**400), REJ),
        "date-negative": (_order("x", Date=-1), REJ),
        "date-packed-year-60000": (_order("x", Date=60000 * 65536 + 1 * 256 + 1), REJ),
        "date-month-13": (_order("x", Date="2025-13-45"), REJ),
        "date-as-list": (_order("x", Date=[2025, 10, 1]), REJ),
        "date-as-object": (_order("x", Date={"y": 2025}), REJ),
        "header-as-list": ({"Header": [["DocNo", "x"]]}, REJ),
        "header-missing": ({"Body": []}, REJ),
        "header-null": ({"Header": None}, REJ),
        "body-as-object": ({**_order("x"), "Body": {"Quantity": 1}}, REJ),
        "body-lines-as-strings": ({**_order("x"), "Body": ["line 1", "line 2"]}, REJ),
        "body-lines-null": ({**_order("x"), "Body": [None]}, REJ),
        "body-null": ({**_order("x"), "Body": None}, STORED),
        "footer-as-string": ({**_order("x"), "Footer": "total 5"}, STORED),
        "footer-list-of-junk": ({**_order("x"), "Footer": [1, "a", None, {"NetAmount": 5}]}, STORED),
        "doc-no-missing": ({"Header": {"Date": "2025-10-01"}}, REJ),
        "doc-no-whitespace": (_order("   "), REJ),
        "doc-no-as-object": (_order({"no": 1}), STORED),
        "every-field-null": ({"Header": {k: None for k in ("DocNo", "Date", "sStatus")}}, REJ),
        "nested-wrong-shapes": (_order("x", CustomerAC__Name={"a": [{"b": [1, {"c": None}]}]}), STORED),
        "deep-custom-field-400": (_order("x", sDeep=_nest(400)), STORED),
        "one-mb-text-field": (_order("x", sRemarks="R" * 1_000_000), STORED),
    }  # fmt: skip
    for name, (document, expect) in typed.items():
        case_id = f"focus-doc-{name}"
        header = document.get("Header") if isinstance(document, dict) else None
        if isinstance(header, dict) and header.get("DocNo") == "x":
            header["DocNo"] = case_id
        cases.append(FocusCase(case_id, cat, _screen(document), expect=expect))
    return cases


REJ = frozenset({"rejected"})
STORED = frozenset({"stored"})


def _foot(value: Any) -> dict[str, Any]:
    doc = _order("x")
    doc["Footer"] = [{"NetAmount": value}]
    return doc


def _nest(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"n": value}
    return value


def reply_cases() -> list[FocusCase]:
    cat = "focus.reply"
    deep = "[" * 100_000 + "]" * 100_000
    return [
        FocusCase("focus-reply-not-json", cat, b"<html>502 Bad Gateway</html>"),
        FocusCase("focus-reply-empty", cat, b""),
        FocusCase("focus-reply-json-nested-100k", cat,
                  b'{"result": 1, "data": [' + deep.encode() + b"]}"),
        FocusCase("focus-reply-list-nested-100k", cat, listing=b'{"result": 1, "data": '
                  + deep.encode() + b"}"),  # fmt: skip
        FocusCase("focus-reply-unknown-charset", cat, _screen(_order("focus-reply-unknown-charset")),
                  content_type="application/json; charset=x-klingon-9"),
        FocusCase("focus-reply-utf16-declared-utf8", cat,
                  _screen(_order("focus-reply-utf16-declared-utf8")).decode().encode("utf-16")),
        FocusCase("focus-reply-bom-json", cat,
                  b"\xef\xbb\xbf" + _screen(_order("focus-reply-bom-json")),
                  expect=frozenset({"rejected", "stored"})),
        FocusCase("focus-reply-int-5000-digits", cat, _raw_screen(
            '{"Header": {"DocNo": "focus-reply-int-5000-digits", "Date": 1' + "0" * 5000 + "}}")),
        FocusCase("focus-reply-result-as-string", cat, b'{"result": "1", "data": []}'),
        FocusCase("focus-reply-array-not-object", cat, b"[1, 2, 3]"),
        FocusCase("focus-reply-data-null", cat, b'{"result": 1, "data": null}'),
        FocusCase("focus-reply-data-not-documents", cat, b'{"result": 1, "data": [1, "a"]}'),
        FocusCase("focus-reply-error-message-huge", cat,
                  json.dumps({"result": -1, "message": "E" * 100_000}).encode()),
        FocusCase("focus-list-rows-not-objects", cat, listing=b'{"result": 1, "data": [1, 2]}'),
        FocusCase("focus-list-row-without-docno", cat,
                  listing=b'{"result": 1, "data": [{"Date": "2025-10-01"}]}'),
        FocusCase("focus-list-data-object", cat, listing=b'{"result": 1, "data": {"DocNo": 1}}'),
        FocusCase("focus-list-docno-nul", cat,
                  listing=b'{"result": 1, "data": [{"DocNo": "SO\\u0000X"}]}',
                  screen=_screen(_order("SO\x00X"))),
        FocusCase("focus-list-docno-surrogate", cat,
                  listing=b'{"result": 1, "data": [{"DocNo": "SO\\ud800"}]}',
                  screen=_raw_screen('{"Header": {"DocNo": "SO\\ud800", "Date": "2025-10-01"}}')),
    ]  # fmt: skip


CASES = document_cases() + reply_cases()
BY_ID = {c.id: c for c in CASES}
register("focus", [c.id for c in CASES])


class _Focus:
    def __init__(self) -> None:
        self.case: FocusCase | None = None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._reply(LOGIN)

            def do_GET(self) -> None:  # noqa: N802
                case = outer.case
                assert case is not None
                if "/List/" in self.path:
                    listing = case.listing
                    if listing is None:
                        listing = json.dumps(
                            {"result": 1, "data": [{"DocNo": case.id, "Date": "2025-10-01"}]}
                        ).encode()
                    self._reply(listing)
                else:
                    self._reply(case.screen, case.content_type)

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def focus_server() -> Iterator[_Focus]:
    server = _Focus()
    yield server
    server.close()


@pytest.mark.parametrize("case_id", [c.id for c in CASES])
def test_hostile_focus_reply(
    focus_server: _Focus, bad_warehouse: psycopg.Connection, case_id: str
) -> None:
    case = BY_ID[case_id]
    focus_server.case = case
    settings = FocusSettings(url=focus_server.url, retries=0, backoff_s=0.0, backoff_max_s=0.0)
    started = time.monotonic()
    report = None
    try:
        with FocusClient(settings) as client:
            report = sync_kind(bad_warehouse, client, "sales_orders", full=True)
    except FocusError as exc:
        outcome, detail = "rejected", str(exc)
        assert exc.message.strip()
    except Exception as exc:  # noqa: BLE001 - anything else is a crash
        outcome, detail = "crashed", crash_detail(exc)
    else:
        assert report.accounted, report.as_dict()
        if report.rejected:
            outcome, detail = "rejected", "; ".join(r["reason"] for r in report.rejects)[:500]
        elif report.landed:
            outcome, detail = "stored", f"{report.landed} documents"
        elif report.duplicates:
            outcome, detail = "duplicate", f"{report.duplicates} documents"
        else:
            outcome, detail = "dropped", f"nothing landed or rejected: {report.as_dict()}"
    seconds = time.monotonic() - started
    result = record(Result(case_id, case.category, outcome, detail, seconds))
    assert result.outcome in case.expect, f"{result.outcome}: {detail}"
    assert seconds < 30, seconds
    if result.outcome == "rejected" and report is not None:
        (stored,) = bad_warehouse.execute(
            "SELECT count(*) FROM raw.rejects WHERE source = 'focus' AND reason = ANY(%s)",
            ([r["reason"] for r in report.rejects],),
        ).fetchone()
        assert stored >= 1  # the reject row is there, with the document as its payload
