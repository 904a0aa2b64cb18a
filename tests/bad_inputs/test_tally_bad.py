"""Hostile Tally answers through the real client and pulls (``ingest.tally.sync.pull_*``
with a ``TallyClient`` over HTTP): DOCTYPE and entity tricks (billion laughs, external
entities, external DTDs, DOCTYPEs hidden by encodings and chunk boundaries), malformed and
truncated documents, and values out of any range.

A tiny local HTTP server plays Tally: it answers the company request normally and the
collection request with the case's document. Each case ends in a typed ``TallyError`` with
a message, in ``raw.rejects`` rows with reasons, or in rows landed; nothing from
``/etc/passwd`` ever reaches a row.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
import pytest

from ingest.tally import sync as tally_sync
from ingest.tally.client import TallyClient
from ingest.tally.errors import TallyError

from .conftest import Result, crash_detail, record, register

COMPANY = (
    b"<ENVELOPE><BODY><DATA><COLLECTION><COMPANY NAME='Pebble Demo'><NAME>Pebble Demo</NAME>"
    b"<BOOKSFROM>20250401</BOOKSFROM><LASTVOUCHERDATE>20250405</LASTVOUCHERDATE>"
    b"</COMPANY></COLLECTION></DATA></BODY></ENVELOPE>"
)
LAUGHS = "".join(f'<!ENTITY l{i} "' + f"&l{i - 1};" * 10 + '">' for i in range(1, 10))


@dataclass(frozen=True)
class TallyCase:
    id: str
    collection: str  # stock-groups, stock-items, ledgers or vouchers
    body: bytes
    expect: frozenset[str] = frozenset({"rejected"})
    check: Callable[[psycopg.Connection], None] | None = field(default=None, compare=False)


def _doc(inner: str, prolog: str = "") -> bytes:
    return f"{prolog}<ENVELOPE><BODY><DATA><COLLECTION>{inner}</COLLECTION></DATA></BODY></ENVELOPE>".encode()


def _group(guid: str, extra: str = "", name: str | None = None) -> str:
    return f"<STOCKGROUP NAME='{name or guid}'><GUID>{guid}</GUID>{extra}</STOCKGROUP>"


def _no_passwd(conn: psycopg.Connection) -> None:
    for table in ("tally_stock_groups", "tally_ledgers", "tally_stock_items", "tally_vouchers"):
        (hits,) = conn.execute(
            f"SELECT count(*) FROM raw.{table} t WHERE t::text LIKE '%%root:%%'"  # noqa: S608
        ).fetchone()
        assert hits == 0, table


def doctype_cases() -> list[TallyCase]:
    body = _group("dt-victim", "<PARENT>&xxe;</PARENT>")
    cases = [
        TallyCase("tally-billion-laughs", "stock-groups",
                  _doc(_group("bl", "<PARENT>&l9;</PARENT>"),
                       f'<?xml version="1.0"?><!DOCTYPE ENVELOPE [<!ENTITY l0 "lol">{LAUGHS}]>')),
        TallyCase("tally-quadratic-blowup", "stock-groups",
                  _doc(_group("qb", "<PARENT>" + "&big;" * 20_000 + "</PARENT>"),
                       f'<!DOCTYPE ENVELOPE [<!ENTITY big "{"x" * 50_000}">]>')),
        TallyCase("tally-xxe-etc-passwd", "stock-groups",
                  _doc(body, '<!DOCTYPE ENVELOPE [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>')),
        TallyCase("tally-xxe-parameter-entity", "stock-groups",
                  _doc(body, '<!DOCTYPE ENVELOPE [<!ENTITY % p SYSTEM "file:///etc/passwd">%p;]>')),
        TallyCase("tally-external-dtd-http", "stock-groups",
                  _doc(_group("ed"), '<!DOCTYPE ENVELOPE SYSTEM "http://127.0.0.1:9/evil.dtd">')),
        TallyCase("tally-external-dtd-public", "stock-groups",
                  _doc(_group("ep"), '<!DOCTYPE ENVELOPE PUBLIC "-//X//Y" "file:///etc/passwd">')),
        TallyCase("tally-doctype-lowercase", "stock-groups",
                  _doc(body, '<!doctype ENVELOPE [<!entity xxe SYSTEM "file:///etc/passwd">]>')),
        TallyCase("tally-doctype-after-comment-and-pi", "stock-groups",
                  _doc(body, '<?xml version="1.0"?><!-- hi --><?pi x?>'
                             '<!DOCTYPE ENVELOPE [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>')),
        TallyCase("tally-doctype-declared-latin1", "stock-groups",
                  _doc(body, '<?xml version="1.0" encoding="ISO-8859-1"?>'
                             '<!DOCTYPE ENVELOPE [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>')),
        TallyCase("tally-doctype-after-root", "stock-groups",
                  _doc(body) + b'<!DOCTYPE ENVELOPE [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'),
        TallyCase("tally-doctype-inside-root", "stock-groups",
                  b'<ENVELOPE><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                  + body.encode() + b"</ENVELOPE>"),
        TallyCase("tally-entity-without-doctype", "stock-groups", _doc(body)),
        TallyCase("tally-entity-in-attribute", "stock-groups",
                  _doc("<STOCKGROUP NAME='&xxe;'><GUID>ea</GUID></STOCKGROUP>")),
        TallyCase("tally-xinclude-ignored", "stock-groups",
                  _doc(_group("xi", "<PARENT><xi:include xmlns:xi='http://www.w3.org/2001/"
                                    "XInclude' href='file:///etc/passwd' parse='text'/></PARENT>")),
                  frozenset({"stored", "rejected"}), _no_passwd),
        TallyCase("tally-xml-stylesheet-pi", "stock-groups",
                  _doc(_group("pi"), '<?xml-stylesheet type="text/xsl" href="file:///etc/passwd"?>'),
                  frozenset({"stored"}), _no_passwd),
        TallyCase("tally-cdata-with-entity-text", "stock-groups",
                  _doc(_group("cd", "<PARENT><![CDATA[&xxe; <!DOCTYPE x>]]></PARENT>")),
                  frozenset({"stored"}), _no_passwd),
    ]  # fmt: skip
    for codec, bom in (("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"),
                       ("utf-16-le", b""), ("utf-16-be", b""), ("utf-8", b"\xef\xbb\xbf")):  # fmt: skip
        text = _doc(body, '<!DOCTYPE ENVELOPE [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>')
        name = f"tally-doctype-{codec}-{'bom' if bom else 'no-bom'}"
        cases.append(TallyCase(name, "stock-groups", bom + text.decode().encode(codec)))
    # A DOCTYPE split across the parser's 4 MiB chunks, after a long comment.
    pad = "<!--" + " " * ((4 << 20) - 11) + "-->"
    cases.append(TallyCase("tally-doctype-split-across-chunks", "stock-groups",
                           _doc(body, pad + '<!DOCTYPE ENVELOPE [<!ENTITY xxe SYSTEM '
                                '"file:///etc/passwd">]>')))  # fmt: skip
    cases.append(TallyCase("tally-doctype-in-lineerror", "stock-groups",
                           b'<!DOCTYPE R [<!ENTITY x "y">]><RESPONSE><LINEERROR>&x;</LINEERROR>'
                           b"</RESPONSE>"))  # fmt: skip
    return cases


def malformed_cases() -> list[TallyCase]:
    ok = frozenset({"stored"})
    return [
        TallyCase("tally-empty-body", "stock-groups", b""),
        TallyCase("tally-bom-only", "stock-groups", b"\xff\xfe"),
        TallyCase("tally-whitespace-only", "stock-groups", b"   \r\n  "),
        TallyCase("tally-truncated-mid-tag", "stock-groups", _doc(_group("tr"))[:-20]),
        TallyCase("tally-truncated-mid-entity", "stock-groups", _doc(_group("te"))[:40] + b"&#x4"),
        TallyCase("tally-two-roots", "stock-groups", _doc(_group("r1")) + _doc(_group("r2"))),
        TallyCase("tally-not-xml", "stock-groups", b"HTTP/1.1 200 OK\r\n{\"json\": true}"),
        TallyCase("tally-lineerror", "stock-groups",
                  b"<RESPONSE><LINEERROR>Could not set 'SVCurrentCompany'</LINEERROR></RESPONSE>"),
        TallyCase("tally-response-text", "stock-groups", b"<RESPONSE>Unknown Request</RESPONSE>"),
        TallyCase("tally-deep-nesting-100k", "stock-groups",
                  _doc(_group("dn", "<A>" * 100_000 + "</A>" * 100_000))),
        # decoded with U+FFFD for the bad bytes, as Tally's own odd bytes are
        TallyCase("tally-invalid-utf8", "stock-groups", _doc(_group("iu")).replace(b"iu", b"\xff\xfe\xc3("), ok),
        TallyCase("tally-utf16-odd-length", "stock-groups", b"\xff\xfe" + _doc(_group("ol")).decode().encode("utf-16-le")[:-1]),
        TallyCase("tally-lone-surrogate-reference", "stock-groups",
                  _doc(_group("ls", name="A&#xD800;B"))),
        TallyCase("tally-illegal-char-references", "stock-groups",
                  _doc(_group("ic", "<PARENT>&#4;&#0;&#x1F;Primary</PARENT>")), ok),
        TallyCase("tally-raw-control-chars", "stock-groups",
                  _doc(_group("rc", "<PARENT>\x01\x02\x03\x00Primary</PARENT>")), ok),
        TallyCase("tally-1mb-name", "stock-groups", _doc(_group("ln", name="N" * 1_000_000)), ok),
        TallyCase("tally-100k-siblings", "stock-groups",
                  _doc("".join(_group(f"sib{i}") for i in range(20_000))), ok),
        TallyCase("tally-no-identity", "stock-groups",
                  _doc("<STOCKGROUP><PARENT>Primary</PARENT></STOCKGROUP>" + _group("ni-ok")),
                  ok | {"rejected"}),
    ]  # fmt: skip


def value_cases() -> list[TallyCase]:
    big = "9" * 400
    ledger = "<LEDGER NAME='{n}'><GUID>{n}</GUID>{x}</LEDGER>"
    item = "<STOCKITEM NAME='{n}'><GUID>{n}</GUID>{x}</STOCKITEM>"

    def voucher(n: str, x: str) -> str:
        return (f"<VOUCHER VCHTYPE='Sales'><GUID>{n}</GUID><DATE>20250402</DATE>"
                f"<VOUCHERNUMBER>{n}</VOUCHERNUMBER><PARTYLEDGERNAME>P</PARTYLEDGERNAME>{x}</VOUCHER>")  # fmt: skip

    fields = [
        ("alterid-400-digits", "stock-groups", _group("v1", f"<ALTERID>{big}</ALTERID>")),
        ("alterid-over-bigint", "stock-groups", _group("v2", f"<ALTERID>{'9' * 25}</ALTERID>")),
        ("masterid-negative-huge", "stock-groups", _group("v3", f"<MASTERID>-{'9' * 30}</MASTERID>")),
        ("alterid-text", "stock-groups", _group("v4", "<ALTERID>abc</ALTERID>")),
        ("opening-balance-400-digits", "ledgers", ledger.format(n="v5", x=f"<OPENINGBALANCE>{big}</OPENINGBALANCE>")),
        ("opening-balance-nan", "ledgers", ledger.format(n="v6", x="<OPENINGBALANCE>NaN</OPENINGBALANCE>")),
        ("opening-balance-infinity", "ledgers", ledger.format(n="v7", x="<OPENINGBALANCE>Infinity</OPENINGBALANCE>")),
        ("closing-qty-400-digits", "stock-items", item.format(n="v8", x=f"<CLOSINGBALANCE>{big} kg</CLOSINGBALANCE>")),
        ("closing-rate-huge-with-commas", "stock-items", item.format(n="v9", x="<CLOSINGRATE>" + ",".join(["999"] * 150) + "/kg</CLOSINGRATE>")),
        ("closing-value-text", "stock-items", item.format(n="v10", x="<CLOSINGVALUE>lots</CLOSINGVALUE>")),
        ("gst-rate-400-digits", "stock-items", item.format(n="v11", x=f"<GSTDETAILS.LIST><GSTRATE>{big}</GSTRATE></GSTDETAILS.LIST>")),
        ("voucher-amount-400-digits", "vouchers", voucher("v12", f"<LEDGERENTRIES.LIST><LEDGERNAME>P</LEDGERNAME><AMOUNT>{big}</AMOUNT></LEDGERENTRIES.LIST>")),
        ("voucher-line-qty-400-digits", "vouchers", voucher("v13", f"<ALLINVENTORYENTRIES.LIST><STOCKITEMNAME>X</STOCKITEMNAME><ACTUALQTY>{big} kg</ACTUALQTY></ALLINVENTORYENTRIES.LIST>")),
        ("voucher-date-year-99999", "vouchers", voucher("v14", "").replace("<DATE>20250402", "<DATE>999990402")),
        ("voucher-date-month-13", "vouchers", voucher("v15", "").replace("20250402", "20251340")),
        ("voucher-date-text", "vouchers", voucher("v16", "").replace("20250402", "yesterday")),
    ]  # fmt: skip
    cases = [
        TallyCase(f"tally-value-{name}", collection, _doc(inner), frozenset({"rejected"}))
        for name, collection, inner in fields
    ]
    cases.append(TallyCase("tally-value-good-beside-bad", "ledgers",
                           _doc(ledger.format(n="good1", x="<OPENINGBALANCE>10</OPENINGBALANCE>")
                                + ledger.format(n="bad1", x=f"<OPENINGBALANCE>{big}</OPENINGBALANCE>")),
                           frozenset({"rejected"}), _good_one_landed))  # fmt: skip
    return cases


def _good_one_landed(conn: psycopg.Connection) -> None:
    (n,) = conn.execute("SELECT count(*) FROM raw.tally_ledgers WHERE guid = 'good1'").fetchone()
    assert n == 1  # one bad value costs only its own record


CASES = doctype_cases() + malformed_cases() + value_cases()
BY_ID = {c.id: c for c in CASES}
register("tally", [c.id for c in CASES])


class _Tally:
    """Answers the company request with :data:`COMPANY` and every other with ``body``."""

    def __init__(self) -> None:
        self.body = b""
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                envelope = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                text = envelope.decode("utf-16" if envelope[:2] == b"\xff\xfe" else "utf-8")
                reply = COMPANY if "PebbleCompanyExport" in text else outer.body
                self.send_response(200)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def tally_server() -> Iterator[_Tally]:
    server = _Tally()
    yield server
    server.close()


PULLS = {
    "stock-groups": tally_sync.pull_stock_groups,
    "stock-items": tally_sync.pull_stock_items,
    "ledgers": tally_sync.pull_ledgers,
    "vouchers": tally_sync.pull_vouchers,
}


@pytest.mark.parametrize("case_id", [c.id for c in CASES])
def test_hostile_tally_answer(
    tally_server: _Tally, bad_warehouse: psycopg.Connection, case_id: str
) -> None:
    case = BY_ID[case_id]
    tally_server.body = case.body
    client = TallyClient(url=tally_server.url, retries=0, backoff_s=0.0, read_timeout_s=30.0,
                         max_response_bytes=64 << 20)  # fmt: skip
    started = time.monotonic()
    try:
        report = PULLS[case.collection](bad_warehouse, client)
    except TallyError as exc:
        outcome, detail = "rejected", f"{type(exc).__name__}: {exc}"
        assert str(exc).strip()
    except Exception as exc:  # noqa: BLE001 - anything else is a crash
        outcome, detail = "crashed", crash_detail(exc)
    else:
        assert report.accounted, report.as_dict()
        if report.rejected:
            outcome, detail = "rejected", "; ".join(r["reason"] for r in report.rejects)[:500]
        elif report.landed:
            outcome, detail = "stored", f"{report.landed} rows"
        elif report.duplicates:
            outcome, detail = "duplicate", f"{report.duplicates} rows"
        else:
            outcome, detail = "dropped", f"a document with nothing in it: {report.as_dict()}"
    seconds = time.monotonic() - started
    result = record(Result(case_id, f"tally.{_category(case_id)}", outcome, detail, seconds))
    assert result.outcome in case.expect, f"{result.outcome}: {detail}"
    assert seconds < 30, seconds
    _no_passwd(bad_warehouse)
    if case.check is not None:
        case.check(bad_warehouse)


def _category(case_id: str) -> str:
    if case_id.startswith("tally-value-"):
        return "values"
    if any(word in case_id for word in ("doctype", "xxe", "laughs", "dtd", "entity", "quadratic",
                                        "xinclude", "stylesheet", "cdata")):  # fmt: skip
        return "doctype_entities"
    return "malformed"


def test_a_rejected_record_keeps_its_reason_and_xml(bad_warehouse: psycopg.Connection) -> None:
    """The out-of-range values above went to raw.rejects with the object's XML."""
    rows = bad_warehouse.execute(
        "SELECT locator, reason, payload FROM raw.rejects WHERE source = 'tally' "
        "AND locator IN ('v1', 'bad1')"
    ).fetchall()
    assert {r[0] for r in rows} == {"v1", "bad1"}
    for _, reason, payload in rows:
        assert "out of range" in reason and payload and b"<" in bytes(payload)
