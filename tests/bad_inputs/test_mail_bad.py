"""Hostile mail through the real loader (``ingest.mail.land.land_bytes`` for the generated
messages in one batch, ``ingest.mail.sync.sync`` for the 50 MB header files): MIME bombs,
deep nesting, broken encodings, huge headers, NUL bytes and UTF-16.

Each message is stored (broken parts recorded in ``parse_defects``), recognised as a
duplicate, or rejected with a reason; none may reach the parser's catch-all.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from ingest.mail.land import land_bytes
from ingest.mail.sync import sync

from .conftest import Result, crash_detail, record, register

HEAD = b"From: Ravi <ravi@buyer.example>\r\nTo: sales@pebble.example\r\nMIME-Version: 1.0\r\n"


@dataclass(frozen=True)
class MailCase:
    id: str
    category: str
    raw: bytes
    #: outcomes this case may end in
    expect: frozenset[str] = frozenset({"stored", "rejected"})
    #: extra check on the stored row (dict) or the reject reason (str)
    check: Callable[[object], None] | None = field(default=None, compare=False)


def _msg(subject: str, extra: bytes = b"", body: bytes = b"hello\r\n") -> bytes:
    return HEAD + b"Subject: " + subject.encode() + b"\r\n" + extra + b"\r\n" + body


def _multipart(subject: str, parts: list[bytes], boundary: bytes = b"b") -> bytes:
    out = [HEAD, b"Subject: ", subject.encode(), b"\r\n",
           b'Content-Type: multipart/mixed; boundary="', boundary, b'"\r\n\r\n']  # fmt: skip
    for part in parts:
        out += [b"--", boundary, b"\r\n", part, b"\r\n"]
    out += [b"--", boundary, b"--\r\n"]
    return b"".join(out)


def _text_part(text: bytes, headers: bytes = b"Content-Type: text/plain\r\n") -> bytes:
    return headers + b"\r\n" + text


def _nested_multipart(depth: int) -> bytes:
    out = [HEAD, b"Subject: nested multipart\r\n"]
    for i in range(depth):
        out.append(b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n' % (i, i))
    out.append(b"Content-Type: text/plain\r\n\r\nbottom\r\n")
    out += [b"--n%d--\r\n" % i for i in reversed(range(depth))]
    return b"".join(out)


def _rfc822_chain(depth: int, attached: bool) -> bytes:
    out = [HEAD, b"Subject: message chain\r\n"]
    disposition = b"Content-Disposition: attachment; filename=fwd.eml\r\n" if attached else b""
    for i in range(depth):
        out.append(b"Content-Type: message/rfc822\r\n" + disposition)
        out.append(b"\r\nFrom: hop%d@relay.example\r\nSubject: hop %d\r\n" % (i, i))
    out.append(b"Content-Type: text/plain\r\n\r\nbottom\r\n")
    return b"".join(out)


def _defect(name: str) -> Callable[[object], None]:
    def check(row: object) -> None:
        assert isinstance(row, dict) and name in row["parse_defects"], row

    return check


def _reason(*words: str) -> Callable[[object], None]:
    def check(reason: object) -> None:
        assert isinstance(reason, str) and all(w in reason for w in words), reason

    return check


def _body_has(text: str) -> Callable[[object], None]:
    def check(row: object) -> None:
        assert isinstance(row, dict) and text in row["body_text"], row["body_text"][:200]

    return check


def _nul_free(row: object) -> None:
    assert isinstance(row, dict)
    for key in ("subject", "body_text", "from_name", "from_addr"):
        assert "\x00" not in (row[key] or ""), key


REJECTED = frozenset({"rejected"})
STORED = frozenset({"stored"})


def mime_bombs() -> list[MailCase]:
    cat = "mail.mime_bomb"
    cases = []
    for n in (1_000, 10_000, 50_000):
        parts = [_text_part(b"part %d" % i) for i in range(n)]
        cases.append(MailCase(f"mime-text-parts-{n}", cat, _multipart(f"{n} parts", parts),
                              STORED))  # fmt: skip
    for n in (1_000, 20_000):
        parts = [
            b"Content-Type: application/octet-stream\r\nContent-Disposition: attachment; "
            b'filename="f%d.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJD' % i
            for i in range(n)
        ]
        cases.append(MailCase(f"mime-attachments-{n}", cat, _multipart(f"{n} files", parts),
                              STORED))  # fmt: skip
    distinct = [
        b'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="p%d.pdf"'
        b"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(b"%d" % i * 50)
        for i in range(2_000)
    ]
    cases.append(MailCase("mime-distinct-attachments-2000", cat,
                          _multipart("2000 pdfs", distinct), STORED))  # fmt: skip
    cases.append(MailCase("mime-empty-parts-200k", cat,
                          _msg("empty parts", b'Content-Type: multipart/mixed; boundary="x"\r\n',
                               b"--x\r\n" * 200_000 + b"--x--\r\n")))  # fmt: skip
    cases.append(MailCase("mime-boundary-never-closed", cat,
                          _msg("unclosed", b'Content-Type: multipart/mixed; boundary="x"\r\n',
                               b"--x\r\nContent-Type: text/plain\r\n\r\nopen " * 5_000)))  # fmt: skip
    cases.append(MailCase("mime-missing-boundary-param", cat,
                          _msg("no boundary", b"Content-Type: multipart/mixed\r\n",
                               b"--x\r\nContent-Type: text/plain\r\n\r\nlost\r\n--x--\r\n")))  # fmt: skip
    cases.append(MailCase("mime-empty-boundary", cat,
                          _msg("empty boundary", b'Content-Type: multipart/mixed; boundary=""\r\n',
                               b"--\r\nContent-Type: text/plain\r\n\r\nx\r\n----\r\n")))  # fmt: skip
    cases.append(MailCase("mime-boundary-1mb", cat,
                          _msg("long boundary", b'Content-Type: multipart/mixed; boundary="'
                               + b"b" * 1_000_000 + b'"\r\n', b"--b\r\n\r\nx\r\n"),
                          REJECTED, _reason("Content-Type", "longer")))  # fmt: skip
    cases.append(MailCase("mime-content-type-1m-semicolons", cat,
                          _msg("semicolons", b"Content-Type: text/plain" + b";" * 1_000_000 + b"\r\n"),
                          REJECTED, _reason("Content-Type")))  # fmt: skip
    cases.append(MailCase("mime-content-type-100k-params", cat,
                          _msg("params", b"Content-Type: text/plain; "
                               + b"; ".join(b"p%d=v" % i for i in range(100_000)) + b"\r\n"),
                          REJECTED, _reason("Content-Type")))  # fmt: skip
    cases.append(MailCase("mime-disposition-5k-params", cat,
                          _multipart("params", [b"Content-Type: application/pdf\r\n"
                                                b"Content-Disposition: attachment; "
                                                + b"; ".join(b"x%d=1" % i for i in range(5_000))
                                                + b"\r\n\r\nQUJD"]),
                          REJECTED, _reason("Content-Disposition")))  # fmt: skip
    cases.append(MailCase("mime-rfc2231-20k-continuations", cat,
                          _multipart("continuations", [b"Content-Type: application/pdf\r\n"
                                                       b"Content-Disposition: attachment; "
                                                       + b"; ".join(b"filename*%d*=utf-8''A%d" % (i, i)
                                                                    for i in range(20_000))
                                                       + b"\r\n\r\nQUJD"]),
                          REJECTED))  # fmt: skip
    many_params = b"; ".join(b"p%d=v" % i for i in range(60))
    cases.append(MailCase("mime-60-params-still-fine", cat,
                          _msg("sixty params", b"Content-Type: text/plain; " + many_params + b"\r\n"),
                          STORED))  # fmt: skip
    cases.append(MailCase("mime-2000-parts-with-fat-headers", cat,
                          _multipart("fat", [b"Content-Type: text/plain;" + b";" * 99 + b" a="
                                             + b"b" * 8000 + b"\r\n\r\nx" for _ in range(2_000)]),
                          STORED))  # fmt: skip
    cases.append(MailCase("mime-html-5mb-of-tags", cat,
                          _msg("html bomb", b"Content-Type: text/html\r\n", b"<b>x</b>" * 600_000),
                          STORED, _defect("HtmlTruncated")))  # fmt: skip
    cases.append(MailCase("mime-html-50k-nested-divs", cat,
                          _msg("divs", b"Content-Type: text/html\r\n", b"<div>" * 50_000 + b"x"),
                          STORED))  # fmt: skip
    cases.append(MailCase("mime-100k-header-lines", cat,
                          HEAD + b"Subject: headers\r\n"
                          + b"".join(b"X-H%d: v\r\n" % i for i in range(100_000)) + b"\r\nbody",
                          STORED))  # fmt: skip
    cases.append(MailCase("mime-text-part-with-base64-zip-bomb-attachment", cat,
                          _multipart("zip", [b"Content-Type: application/zip\r\n"
                                             b"Content-Disposition: attachment; filename=b.zip\r\n"
                                             b"Content-Transfer-Encoding: base64\r\n\r\n"
                                             + base64.encodebytes(_zip_of_zeros())]),
                          STORED))  # fmt: skip
    return cases


def _zip_of_zeros() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\0" * (20 << 20))
    return buffer.getvalue()


def deep_nesting() -> list[MailCase]:
    cat = "mail.deep_nesting"
    cases = [
        MailCase(f"nest-multipart-{d}", cat, _nested_multipart(d), STORED,
                 _defect("MimeNestingTooDeep"))
        for d in (40, 200, 600)
    ]  # fmt: skip
    cases += [
        MailCase(f"nest-multipart-{d}", cat, _nested_multipart(d), REJECTED, _reason("nested"))
        for d in (1_500, 5_000, 10_000)
    ]
    cases += [MailCase(f"nest-rfc822-{d}", cat, _rfc822_chain(d, False), STORED) for d in (40, 400)]
    cases += [
        MailCase(f"nest-rfc822-{d}", cat, _rfc822_chain(d, False), REJECTED, _reason("nested"))
        for d in (2_000, 10_000)
    ]
    cases += [
        MailCase(f"nest-rfc822-attached-{d}", cat, _rfc822_chain(d, True)) for d in (30, 300, 3_000)
    ]
    mixed = [HEAD, b"Subject: alternating\r\n"]
    for i in range(3_000):
        if i % 2:
            mixed.append(b"Content-Type: message/rfc822\r\n\r\nSubject: in %d\r\n" % i)
        else:
            mixed.append(b'Content-Type: multipart/mixed; boundary="m%d"\r\n\r\n--m%d\r\n' % (i, i))
    mixed.append(b"Content-Type: text/plain\r\n\r\nx\r\n")
    cases.append(MailCase("nest-alternating-3000", cat, b"".join(mixed), REJECTED))
    return cases


def broken_encodings() -> list[MailCase]:
    cat = "mail.broken_encoding"
    cases: list[MailCase] = []

    def body_case(
        name: str,
        cte: bytes,
        payload: bytes,
        charset: bytes = b"utf-8",
        expect: frozenset[str] = STORED,
        check=None,
    ) -> None:  # noqa: ANN001
        extra = b"Content-Type: text/plain; charset=" + charset + b"\r\n"
        if cte:
            extra += b"Content-Transfer-Encoding: " + cte + b"\r\n"
        cases.append(MailCase(f"enc-{name}", cat, _msg(f"enc {name}", extra, payload), expect,
                              check))  # fmt: skip

    body_case("b64-invalid-chars", b"base64", b"!!!@@@###$$$" * 1000)
    body_case("b64-bad-padding", b"base64", b"SGVsbG8===" + b"=" * 100)
    body_case("b64-truncated", b"base64", b"SGVsbG8gd29ybG")
    body_case("b64-whitespace-only", b"base64", b" \r\n\t\r\n" * 1000)
    body_case("b64-of-invalid-utf8", b"base64", base64.b64encode(b"\xff\xfe\xc3\x28" * 500))
    body_case("b64-huge-line", b"base64", base64.b64encode(b"x" * 3_000_000))
    body_case("qp-bad-escapes", b"quoted-printable", b"=ZZ=G1=\r\n=0" + b"=" * 100_000)
    body_case("qp-soft-break-at-end", b"quoted-printable", b"line=")
    body_case("qp-of-nul-bytes", b"quoted-printable", b"a=00b=00c" * 1000, check=_nul_free)
    body_case("cte-unknown", b"x-rot13-please", b"uryyb")
    body_case("cte-uuencode-garbage", b"x-uuencode", b"begin 644 f\r\n!!!!garbage\r\nend\r\n")
    body_case("cte-uuencode-no-begin", b"uuencode", b"M9&%T82!G;VYE\r\n")
    body_case("cte-8bit-binary", b"binary", bytes(range(1, 256)) * 100)
    body_case("cte-repeated", b"base64, quoted-printable", b"SGVsbG8=")
    for label in (b"x-unknown-charset", b"zlib", b"base64", b"rot13", b"unicode_escape",
                  b"raw_unicode_escape", b"idna", b"punycode", b"undefined", b"uu_codec",
                  b"hex", b"utf-7", b'"utf-8\\"', b"utf-8\x01", b"c" * 5000, b"utf-32",
                  b"utf-16"):  # fmt: skip
        name = label[:20].decode("latin-1").replace("\\", "").replace('"', "q")
        name = "".join(c if c.isalnum() or c in "-_" else "x" for c in name)
        body_case(f"charset-{name}", b"8bit", "caf\u00e9 \u20b9 \u0915\u0902".encode() * 50,
                  charset=label)  # fmt: skip
    body_case("charset-utf8-declared-latin1-bytes", b"8bit", b"caf\xe9 na\xefve " * 200)
    body_case(
        "charset-shift-jis-declared-invalid", b"8bit", b"\x81\x82\x83" * 500, charset=b"shift_jis"
    )
    body_case("charset-utf8-overlong", b"8bit", b"\xc0\xaf\xe0\x80\xaf" * 500)
    body_case("charset-utf8-surrogates", b"8bit", b"\xed\xa0\x80\xed\xbf\xbf" * 500)
    body_case(
        "charset-mixed-in-one-body",
        b"8bit",
        "\u20b9 ".encode() + "\u00e9".encode("latin-1") + "\u0915".encode("utf-16-le") * 99,
    )
    subjects = {
        "rfc2047-bad-base64": b"=?utf-8?b?!!!notbase64!!!?=",
        "rfc2047-unknown-charset": b"=?x-klingon?q?qapla=27?=",
        "rfc2047-codec-zlib": b"=?zlib?b?eJzLSM3JyQcABiwCFQ==?=",
        "rfc2047-unterminated": b"=?utf-8?q?never ends",
        "rfc2047-mixed-charsets": b"=?iso-8859-1?q?caf=E9?= =?koi8-r?b?8NLJ18XU?= =?utf-8?b?4oK5?=",
        "rfc2047-nul": b"=?utf-8?q?a=00b?=",
        "rfc2047-200k-words": b"=?utf-8?b?QUJD?= " * 200_000,
        "raw-8bit-garbage": bytes(range(128, 256)) * 20,
        "subject-5mb": b"A" * 5_000_000,
        "subject-folded-500k-lines": b"A \r\n " * 500_000,
    }
    for name, value in subjects.items():
        raw = HEAD + b"Subject: " + value + b"\r\n\r\nbody\r\n"
        cases.append(MailCase(f"hdr-{name}", cat, raw, STORED, _nul_free))
    cases.append(MailCase("hdr-from-30k-encoded-words", cat,
                          b"From: " + b"=?utf-8?q?A?= " * 30_000 + b"<a@x.example>\r\n"
                          b"To: sales@pebble.example\r\n\r\nbody", STORED))  # fmt: skip
    cases.append(MailCase("hdr-to-100k-addresses", cat,
                          b"From: a@x.example\r\nTo: "
                          + b", ".join(b"u%d@x.example" % i for i in range(100_000))
                          + b"\r\nSubject: many\r\n\r\nbody", STORED))  # fmt: skip
    cases.append(MailCase("hdr-date-1m-digits", cat,
                          HEAD + b"Subject: d\r\nDate: " + b"1" * 1_000_000 + b"\r\n\r\nbody",
                          STORED, _defect("UnparseableDate")))  # fmt: skip
    cases.append(MailCase("hdr-date-year-99999", cat,
                          HEAD + b"Subject: d\r\nDate: Mon, 1 Jan 99999 00:00:00 +0000\r\n\r\nb",
                          STORED))  # fmt: skip
    cases.append(MailCase("hdr-date-offset-9999", cat,
                          HEAD + b"Subject: d\r\nDate: Mon, 1 Jan 2024 00:00:00 +9999\r\n\r\nb",
                          STORED))  # fmt: skip
    cases.append(MailCase("hdr-references-100k", cat,
                          HEAD + b"Subject: r\r\nReferences: "
                          + b" ".join(b"<id%d@x>" % i for i in range(100_000)) + b"\r\n\r\nb",
                          STORED))  # fmt: skip
    cases.append(MailCase("hdr-message-id-1mb", cat,
                          HEAD + b"Subject: m\r\nMessage-ID: <" + b"x" * 1_000_000 + b">\r\n\r\nb",
                          STORED))  # fmt: skip
    cases.append(MailCase("hdr-filename-rfc2231-bad-charset", cat,
                          _multipart("f", [b"Content-Type: application/pdf\r\nContent-Disposition: "
                                           b"attachment; filename*=x-nope''%FF%FE%00.pdf\r\n\r\nQUJD"]),
                          STORED))  # fmt: skip
    cases.append(MailCase("hdr-filename-traversal-and-bidi", cat,
                          _multipart("f", ["Content-Type: application/pdf\r\nContent-Disposition: "
                                           "attachment; filename=\"../../etc/\u202epasswd.pdf\"\r\n"
                                           "\r\nQUJD".encode()]),
                          STORED))  # fmt: skip
    return cases


def nul_and_utf16() -> list[MailCase]:
    cat = "mail.nul_utf16"
    plain = _msg("utf16 test", b"Content-Type: text/plain\r\n", b"hello there\r\n")
    return [
        MailCase(
            "mail-utf16le-no-bom", cat, plain.decode().encode("utf-16-le"), REJECTED, _reason("NUL")
        ),
        MailCase(
            "mail-utf16be-no-bom", cat, plain.decode().encode("utf-16-be"), REJECTED, _reason("NUL")
        ),
        MailCase("mail-utf16-with-bom", cat, plain.decode().encode("utf-16"), REJECTED),
        MailCase("mail-utf32", cat, plain.decode().encode("utf-32"), REJECTED),
        MailCase(
            "mail-nul-in-header-block",
            cat,
            HEAD + b"Subject: a\x00b\r\n\r\nbody",
            REJECTED,
            _reason("NUL"),
        ),
        MailCase(
            "mail-nul-in-body", cat, _msg("nul body", b"", b"a\x00b\x00c" * 1000), STORED, _nul_free
        ),
        MailCase("mail-nul-only", cat, b"\x00" * 10_000, REJECTED),
        MailCase(
            "mail-nul-in-html-body",
            cat,
            _msg("nul html", b"Content-Type: text/html\r\n", b"<p>a\x00b</p>" * 100),
            STORED,
            _nul_free,
        ),
        MailCase(
            "mail-nul-in-attachment-name",
            cat,
            _multipart(
                "nul name",
                [
                    b"Content-Type: application/pdf\r\nContent-Disposition: "
                    b'attachment; filename="a\x00b.pdf"\r\n\r\nQUJD'
                ],
            ),
            STORED,
        ),  # fmt: skip
        MailCase(
            "mail-nul-after-8k-of-headers",
            cat,
            HEAD + b"X-Pad: " + b"p" * 9000 + b"\r\nSubject: late\x00nul\r\n\r\nbody",
            frozenset({"stored", "rejected"}),
            _nul_free,
        ),
        MailCase("mail-binary-garbage", cat, bytes(range(256)) * 400, REJECTED),
        MailCase("mail-empty", cat, b"", REJECTED, _reason("empty")),
        MailCase("mail-whitespace-only", cat, b" \r\n\t" * 1000, REJECTED),
        MailCase(
            "mail-no-headers-just-text",
            cat,
            b"just some text\r\nno headers here\r\n",
            REJECTED,
            _reason("no email headers"),
        ),
        MailCase(
            "mail-outlook-msg-magic-garbage",
            cat,
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4000,
            REJECTED,
        ),
    ]


def duplicates() -> list[MailCase]:
    cat = "mail.duplicate"
    raw = _msg("same bytes twice", b"", b"the very same message\r\n")
    return [
        MailCase("dup-first", cat, raw, STORED),
        MailCase("dup-second-identical-bytes", cat, raw, frozenset({"duplicate"})),
    ]


CASES = mime_bombs() + deep_nesting() + broken_encodings() + nul_and_utf16() + duplicates()
BY_ID = {c.id: c for c in CASES}
register("mail", [c.id for c in CASES])  # category per case is finer; ids checked globally
BIG_HEADER_CASES = register("mail", ["hdr50mb-default-limit", "hdr50mb-raised-limit"])


def _outcomes(conn: psycopg.Connection, cases: list[MailCase]) -> dict[str, tuple[str, object]]:
    """(outcome, stored row or reject reason) per case, read back from the warehouse."""
    names = [c.id for c in cases]
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT email_key, source, subject, body_text, from_name, from_addr, parse_defects,"
            " mailbox, attachment_count FROM raw.emails WHERE email_key = ANY(%s)",
            ([hashlib.sha256(c.raw).hexdigest() for c in cases],),
        ).fetchall()
        rejects = cur.execute(
            "SELECT locator, reason FROM raw.rejects WHERE source = 'mail' AND locator = ANY(%s)",
            (names,),
        ).fetchall()
    by_key = {r["email_key"]: r for r in rows}
    reasons = {r["locator"]: r["reason"] for r in rejects}
    out: dict[str, tuple[str, object]] = {}
    for case in cases:
        row = by_key.get(hashlib.sha256(case.raw).hexdigest())
        if case.id in reasons:
            out[case.id] = ("rejected", reasons[case.id])
        elif row is not None and row["source"] == case.id:
            out[case.id] = ("stored", row)
        elif row is not None:
            out[case.id] = ("duplicate", row)
        else:
            out[case.id] = ("dropped", "neither stored, duplicate nor rejected")
    return out


@pytest.fixture(scope="module")
def mail_landed(bad_warehouse: psycopg.Connection) -> dict[str, tuple[str, object, float]]:
    """Land every generated message in one ``land_bytes`` call (one case at a time when
    the batch itself fails, to tell which case broke it)."""
    conn = bad_warehouse
    started = time.monotonic()
    crashed: dict[str, str] = {}
    try:
        report = land_bytes(conn, [(c.id, c.raw) for c in CASES])
        assert report.accounted, report.as_dict()
        assert report.seen == len(CASES)
    except Exception:  # noqa: BLE001 - find the culprit case by case
        for case in CASES:
            try:
                land_bytes(conn, [(case.id, case.raw)])
            except Exception as exc:  # noqa: BLE001
                crashed[case.id] = crash_detail(exc)
    per_case = (time.monotonic() - started) / len(CASES)
    results = {}
    for name, (outcome, data) in _outcomes(conn, CASES).items():
        if name in crashed:
            outcome, data = "crashed", crashed[name]
        results[name] = (outcome, data, per_case)
    return results


@pytest.mark.parametrize("case_id", [c.id for c in CASES])
def test_hostile_message(mail_landed, case_id: str) -> None:
    case = BY_ID[case_id]
    outcome, data, seconds = mail_landed[case_id]
    detail = data if isinstance(data, str) else f"stored, defects {data['parse_defects'][:4]}"
    result = record(Result(case_id, case.category, outcome, detail, seconds))
    assert result.outcome in case.expect, f"{result.outcome}: {detail}"
    if case.check is not None:
        case.check(data)
    if result.outcome == "stored":
        _nul_free(data)


def test_the_batch_landed_quickly(mail_landed) -> None:
    # All generated messages in one loader call; a quadratic parser path would show here.
    (_, _, per_case) = next(iter(mail_landed.values()))
    assert per_case * len(CASES) < 90, f"{per_case * len(CASES):.0f} s for {len(CASES)} cases"


def _big_header_file(path: Path) -> Path:
    """A message with one 50 MB header line, written to disk in chunks."""
    with path.open("wb") as out:
        out.write(HEAD + b"Subject: fifty megabytes of header\r\nX-Huge: ")
        chunk = b"A" * (1 << 20)
        for _ in range(50):
            out.write(chunk)
        out.write(b"\r\n\r\nthe body after a 50 MB header\r\n")
    return path


@pytest.fixture(scope="module")
def big_header(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _big_header_file(tmp_path_factory.mktemp("hdr50mb") / "huge-header.eml")


def test_50mb_header_over_the_size_limit_is_quarantined_unread(
    bad_warehouse: psycopg.Connection, big_header: Path
) -> None:
    started = time.monotonic()
    try:
        report = sync(bad_warehouse, [big_header])
        row = bad_warehouse.execute(
            "SELECT reason, payload_in_store, size_bytes FROM raw.rejects "
            "WHERE source = 'mail' AND locator = %s",
            (str(big_header),),
        ).fetchone()
        outcome = "rejected" if row else "dropped"
        detail = row[0] if row else "no reject row"
    except Exception as exc:  # noqa: BLE001
        report, row, outcome, detail = None, None, "crashed", crash_detail(exc)
    result = record(
        Result("hdr50mb-default-limit", "mail.huge_header", outcome, detail,
               time.monotonic() - started)
    )  # fmt: skip
    assert result.outcome == "rejected", detail
    assert report is not None and report.rejected == 1 and report.accounted
    assert row is not None and "too large" in row[0] and row[1] is True
    assert row[2] == big_header.stat().st_size


def test_50mb_header_under_a_raised_limit_is_parsed_in_bounded_time(
    bad_warehouse: psycopg.Connection, big_header: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAIL_MAX_MESSAGE_BYTES", str(64 << 20))
    copy = big_header.with_name("huge-header-raised.eml")
    copy.write_bytes(big_header.read_bytes() + b"(raised limit)\r\n")
    started = time.monotonic()
    try:
        report = sync(bad_warehouse, [copy])
        row = bad_warehouse.execute(
            "SELECT subject, body_text, size_bytes FROM raw.emails WHERE source = %s", (str(copy),)
        ).fetchone()
        outcome, detail = ("stored", f"subject {row[0]!r}") if row else ("dropped", "no row")
    except Exception as exc:  # noqa: BLE001
        report, row, outcome, detail = None, None, "crashed", crash_detail(exc)
    seconds = time.monotonic() - started
    result = record(Result("hdr50mb-raised-limit", "mail.huge_header", outcome, detail, seconds))
    assert result.outcome == "stored", detail
    assert report is not None and report.landed == 1
    assert row is not None and row[0] == "fifty megabytes of header"
    assert "the body after a 50 MB header" in row[1]
    assert seconds < 60
