"""Parsing units: one test per pitfall of real-world mail."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest

from ingest.mail.parse import (
    MessageTooLarge,
    Unparseable,
    decode_header_value,
    display_filename,
    html_to_text,
    normalise_subject,
    parse_email,
    text_codec,
)

IST = timezone(timedelta(hours=5, minutes=30))


def test_plain_message_fields(make_mail):
    parsed = parse_email(make_mail())
    assert parsed.message_id == "m1@example.in"
    assert parsed.from_addr == "ravi@apexrubber.in"
    assert parsed.from_name == "Ravi Kumar"
    assert parsed.to_addrs == ["sales@pebbledemo.in"]
    assert parsed.sent_at == datetime(2025, 11, 3, 10, 15, tzinfo=IST)
    assert parsed.body_text == "Please send your best rate for 5 MT."
    assert not parsed.has_html and not parsed.is_auto_reply and not parsed.is_bounce
    assert not parsed.is_bulk
    assert parsed.parse_defects == []


def test_rfc2047_headers_and_names_are_decoded(make_mail):
    raw = make_mail(
        subject="=?UTF-8?B?4oK5MTI1L2tnIHJhdGU=?= =?utf-8?q?_bhejo?=",
        sender='"=?iso-8859-1?q?J=F6rg_M=FCller?=" <Jorg@Example.DE>',
        extra_headers="Cc: =?utf-8?q?Priya_Sharma?= <priya@x.in>, amit@y.in",
    )
    parsed = parse_email(raw)
    assert parsed.subject == "₹125/kg rate bhejo"
    assert parsed.from_name == "Jörg Müller"
    assert parsed.from_addr == "jorg@example.de"
    assert parsed.cc_addrs == ["priya@x.in", "amit@y.in"]


def test_raw_8bit_utf8_header_is_decoded():
    raw = "From: a@b.in\r\nSubject: गाड़ी नहीं आई\r\n\r\nbody\r\n".encode()
    assert parse_email(raw).subject == "गाड़ी नहीं आई"


@pytest.mark.parametrize("label", ["uft-8", "x-unknown-8bit", "cp-850", "no-such-charset"])
def test_unknown_or_misspelled_charset_is_decoded_with_replacement(label):
    body = "Rate ₹125 — final".encode()
    raw = (
        b"From: a@b.in\r\nSubject: x\r\nContent-Type: text/plain; charset="
        + label.encode()
        + b"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + body
    )
    parsed = parse_email(raw)
    assert "Rate" in parsed.body_text and "final" in parsed.body_text
    if label == "uft-8":
        assert parsed.body_text == "Rate ₹125 — final"  # the misspelling is understood


def test_charset_label_is_untrusted():
    assert text_codec("cp-850") == "cp850"
    assert text_codec("UFT-8") == "utf-8"
    assert text_codec("zlib") is None
    assert text_codec("unicode_escape") is None
    assert text_codec("x-unknown-8bit") is None


def test_encoded_word_with_unknown_charset_does_not_raise():
    assert decode_header_value("=?x-bogus?q?caf=C3=A9?=") == "café"
    assert "Hello" in decode_header_value("Hello =?utf-8?b?!!!notbase64?=")


def test_broken_base64_is_recorded_as_defect_not_exception():
    raw = (
        b"From: a@b.in\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"SGVsbG8gd29ybGQ=AAA*&^%\r\n"
    )
    parsed = parse_email(raw)
    assert any("Base64" in d or "Padding" in d for d in parsed.parse_defects), parsed.parse_defects


def test_html_only_message_becomes_safe_text():
    html = (
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        "<p>Dear Sir,</p><script>alert('x')</script><p>Please quote <b>5 MT</b>.</p>"
        "<img src=x onerror=alert(1)></body></html>"
    )
    raw = (
        "From: a@b.in\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/html; charset=utf-8\r\n\r\n" + html
    ).encode()
    parsed = parse_email(raw)
    assert parsed.has_html
    assert "Dear Sir," in parsed.body_text and "5 MT" in parsed.body_text
    assert "alert" not in parsed.body_text and "color" not in parsed.body_text
    assert "<" not in parsed.body_text


def test_plain_part_preferred_over_html_in_alternative():
    raw = (
        b"From: a@b.in\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nplain words\r\n"
        b"--b\r\nContent-Type: text/html\r\n\r\n<p>html words</p>\r\n--b--\r\n"
    )
    parsed = parse_email(raw)
    assert parsed.body_text == "plain words"
    assert parsed.has_html


def test_html_to_text_handles_garbage():
    assert html_to_text("") == ""
    assert html_to_text("<<<>>><p>ok").endswith("ok")


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("Mon, 03 Nov 2025 10:15:00 +0530", datetime(2025, 11, 3, 4, 45, tzinfo=UTC)),
        ("03 Nov 2025 10:15:00 GMT+0530", datetime(2025, 11, 3, 4, 45, tzinfo=UTC)),
        ("Mon, 3 Nov 2025 10:15:00 +0530 (IST)", datetime(2025, 11, 3, 4, 45, tzinfo=UTC)),
        ("2025-11-03 10:15:00", datetime(2025, 11, 3, 10, 15, tzinfo=UTC)),
        ("garbage", None),
        ("Mon, 03 Nov 1899 10:15:00 +0000", None),
    ],
)
def test_dates_with_fallbacks(make_mail, date, expected):
    parsed = parse_email(make_mail(date=date))
    assert parsed.sent_at == expected
    if expected is None:
        assert "UnparseableDate" in parsed.parse_defects


def test_missing_date_falls_back_to_received():
    raw = (
        b"Received: from mx.example.in by mx.pebble.in; Tue, 04 Nov 2025 09:00:00 +0000\r\n"
        b"From: a@b.in\r\nSubject: x\r\n\r\nbody\r\n"
    )
    assert parse_email(raw).sent_at == datetime(2025, 11, 4, 9, 0, tzinfo=UTC)


def test_message_id_normalised_and_optional(make_mail):
    assert parse_email(make_mail(message_id="  <ABC.123@Mail.Example>  ")).message_id == (
        "ABC.123@Mail.Example"
    )
    assert parse_email(make_mail(message_id="bare-id@x")).message_id == "bare-id@x"
    assert parse_email(make_mail(message_id=None)).message_id is None


def test_thread_key_uses_references_root(make_mail):
    reply = parse_email(
        make_mail(
            subject="Re: Rate for SBR 1502",
            message_id="<m3@x>",
            extra_headers="In-Reply-To: <m2@x>\r\nReferences: <m1@example.in>\r\n <m2@x>",
        )
    )
    assert reply.references == ["m1@example.in", "m2@x"]
    assert reply.in_reply_to == "m2@x"
    assert reply.thread_key == "m1@example.in"


def test_thread_key_falls_back_to_subject_and_participants(make_mail):
    original = parse_email(make_mail())
    outlook_reply = parse_email(
        make_mail(
            subject="RE: AW: Fwd: Rate for SBR 1502",
            sender="sales@pebbledemo.in",
            to="Ravi <ravi@apexrubber.in>",
            message_id="<r@x>",
        )
    )
    other = parse_email(make_mail(sender="someone@else.in", message_id="<o@x>"))
    assert original.thread_key == outlook_reply.thread_key
    assert original.thread_key.startswith("s:")
    assert other.thread_key != original.thread_key


def test_normalise_subject_strips_prefixes():
    assert normalise_subject("Re: RE: Fw: FWD: Antw: AW:  Rate  Bhejo") == "rate bhejo"
    assert normalise_subject("[External] Re: PO 4500") == "po 4500"
    assert normalise_subject(None) == ""


@pytest.mark.parametrize(
    "extra",
    [
        "Auto-Submitted: auto-replied",
        "X-Autoreply: yes",
        "X-Autorespond: on",
        "Precedence: auto_reply",
    ],
)
def test_auto_reply_headers(make_mail, extra):
    parsed = parse_email(make_mail(extra_headers=extra))
    assert parsed.is_auto_reply and not parsed.is_bulk


@pytest.mark.parametrize(
    "extra",
    ["Precedence: bulk", "Precedence: junk", "Auto-Submitted: auto-generated"],
)
def test_bulk_mail_flagged_apart_from_auto_replies(make_mail, extra):
    parsed = parse_email(make_mail(subject="Bid invitation: zinc oxide", extra_headers=extra))
    assert parsed.is_bulk and not parsed.is_auto_reply


@pytest.mark.parametrize("subject", ["Out of Office: Ravi", "Automatic reply: Rate"])
def test_auto_reply_subjects(make_mail, subject):
    assert parse_email(make_mail(subject=subject)).is_auto_reply


def test_auto_submitted_no_is_not_auto(make_mail):
    parsed = parse_email(make_mail(extra_headers="Auto-Submitted: no"))
    assert not parsed.is_auto_reply and not parsed.is_bulk


@pytest.mark.parametrize(
    "sender", ["MAILER-DAEMON@mx.example.in", "Mail System <postmaster@example.in>"]
)
def test_bounce_by_sender(make_mail, sender):
    assert parse_email(make_mail(sender=sender)).is_bounce


def test_bounce_by_delivery_status_report():
    raw = (
        b"From: Mail Delivery System <bounces@mx.in>\r\nSubject: Returned\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
        b"--r\r\nContent-Type: text/plain\r\n\r\nCould not deliver.\r\n"
        b"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.in\r\n\r\n"
        b"Final-Recipient: rfc822; x@y.in\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--r--\r\n"
    )
    parsed = parse_email(raw)
    assert parsed.is_bounce and not parsed.is_auto_reply
    assert "Could not deliver." in parsed.body_text


def test_attachments_hashed_and_names_sanitised():
    pdf = b"%PDF-1.4 fake"
    raw = (
        b"From: a@b.in\r\nSubject: PO\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="m"\r\n\r\n'
        b"--m\r\nContent-Type: text/plain\r\n\r\nPO attached\r\n"
        b"--m\r\nContent-Type: application/pdf\r\n"
        b'Content-Disposition: attachment; filename="../../etc/passwd.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(pdf) + b"\r\n--m--\r\n"
    )
    parsed = parse_email(raw)
    assert parsed.body_text == "PO attached"
    [attachment] = parsed.attachments
    assert attachment.filename == "passwd.pdf"
    assert attachment.payload == pdf and attachment.size_bytes == len(pdf)
    assert attachment.content_type == "application/pdf"
    import hashlib

    assert attachment.sha256 == hashlib.sha256(pdf).hexdigest()


def test_display_filename():
    assert display_filename("..\\..\\windows\\evil.exe", "x") == "evil.exe"
    assert display_filename(".htaccess", "x") == "htaccess"
    assert display_filename("inv\x00oice\u202e.pdf", "x") == "invoice.pdf"
    assert display_filename("../", "fallback") == "fallback"
    assert display_filename(None, "fallback") == "fallback"


def test_rfc2231_filename_decoded():
    raw = (
        b"From: a@b.in\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="m"\r\n\r\n'
        b"--m\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Disposition: attachment; filename*=UTF-8''%E0%A4%95%E0%A5%8B%E0%A4%9F.xlsx\r\n"
        b"\r\nabc\r\n--m--\r\n"
    )
    assert parse_email(raw).attachments[0].filename == "कोट.xlsx"


def test_missing_boundary_keeps_text_and_notes_defect():
    raw = (
        b"From: a@b.in\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="never"\r\n\r\nJust some text\r\n'
    )
    parsed = parse_email(raw)
    assert parsed.parse_defects  # recorded, not raised


def test_too_large_message_is_refused_before_parsing(make_mail):
    raw = make_mail(body="x" * 5000)
    with pytest.raises(MessageTooLarge, match="too large"):
        parse_email(raw, max_bytes=1024)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (b"   \r\n\r\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"Apache License\nVersion 2.0\n\nTERMS AND CONDITIONS", "no email headers"),
    ],
)
def test_not_an_email_is_unparseable(raw, reason):
    with pytest.raises(Unparseable, match=reason):
        parse_email(raw)


def test_nul_bytes_and_surrogates_never_reach_text():
    raw = b"From: a@b.in\r\nSubject: a\xff\xfeb\r\n\r\nbody\x00with nul \xc3\x28\r\n"
    parsed = parse_email(raw)
    assert "\x00" not in parsed.body_text
    parsed.body_text.encode("utf-8")
    assert parsed.subject is not None
    parsed.subject.encode("utf-8")


def test_deep_nesting_is_bounded():
    depth = 200
    parts = [b"From: a@b.in\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"]
    for level in range(depth):
        parts.append(
            f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n'.encode()
        )
    parts.append(b"Content-Type: text/plain\r\n\r\ninnermost\r\n")
    for level in reversed(range(depth)):
        parts.append(f"--b{level}--\r\n".encode())
    parsed = parse_email(b"".join(parts))
    assert "MimeNestingTooDeep" in parsed.parse_defects
