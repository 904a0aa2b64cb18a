"""Raw RFC 5322 bytes (or an Outlook .msg, see :mod:`ingest.mail.msg`) -> :class:`ParsedEmail`.
Pure: no files, no network, no database.

Real mailboxes are full of broken mail: misspelled charsets, headers in raw 8-bit,
truncated base64, missing MIME boundaries, dates no RFC would accept. The parser never
gives up on a message because one part of it is odd; it records what was wrong in
``parse_defects`` and keeps going. It raises :class:`Unparseable` only when the input is
not an email at all (or is larger than the configured bound), so the caller can reject
it with the reason and the raw bytes.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.header import decode_header
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from ingest.mail.msg import MsgUnreadable, is_outlook_msg, msg_to_rfc822

#: Default bound on one message's raw size; the stdlib needs ~9x an attachment in memory.
DEFAULT_MAX_BYTES = 25 * 1024 * 1024
#: MIME nesting deeper than this is not walked (attackers and broken mailers nest forever).
MAX_MIME_DEPTH = 32
#: Longest body text kept per message; the rest is cut (and noted as a defect).
MAX_BODY_CHARS = 200_000
#: HTML fed to the text extractor per message; the rest is not parsed (noted as a defect).
MAX_HTML_CHARS = 5 * MAX_BODY_CHARS
#: Longest header value decoded (RFC 2047 decoding is quadratic in the number of
#: encoded-words); subjects are stored cut to 2,000 characters anyway.
MAX_HEADER_DECODE_CHARS = 16_384
#: Longest Date value read (real dates are under 100 characters; the fuzzy fallback
#: parser is slow on megabytes of digits).
MAX_DATE_CHARS = 256
_MAX_UTC_OFFSET = timedelta(hours=18)
#: A Content-Type or Content-Disposition header longer than this, or with more parameters,
#: refuses the message: the stdlib parses their parameters in quadratic time (a megabyte
#: of ";" costs minutes), and no mailer writes such headers.
MAX_CONTENT_HEADER_BYTES = 8192
MAX_CONTENT_HEADER_PARAMS = 100

#: Headers of which at least one must be present for the input to count as an email.
_EMAIL_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "subject",
        "date",
        "message-id",
        "received",
        "return-path",
        "sender",
        "delivered-to",
        "mime-version",
        "reply-to",
        "in-reply-to",
        "references",
    }
)
_AUTO_SUBJECT = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto[- ]?reply|autoreply|auto[- ]?response|"
    r"abwesenheitsnotiz|r[ée]ponse automatique|respuesta autom[aá]tica|on leave|on vacation)",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(undeliver(ed|able)|delivery (status notification|failure|has failed)|"
    r"returned mail|mail delivery (failed|failure|subsystem)|failure notice|"
    r"non[- ]?delivery report)",
    re.IGNORECASE,
)
_BOUNCE_SENDERS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"})
_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|antw|wg|sv|vs|tr|rif|enc|ref)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*"
    r"|\[[^\]]{0,40}\]\s*)",
    re.IGNORECASE,
)
_ANGLE_ID = re.compile(r"<([^<>\s]+)>")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_WS = re.compile(r"\s+")
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CHARSET_FIXES = {
    "uft-8": "utf-8",
    "uft8": "utf-8",
    "utf-8-sig": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
    "x-unknown": "",
    "unknown-8bit": "",
    "x-unknown-8bit": "",
    "ansi_x3.4-1968": "ascii",
    "x-user-defined": "cp1252",
    "us-ascii": "cp1252",  # 8-bit bytes under a us-ascii label are nearly always cp1252
}


class Unparseable(Exception):
    """The input cannot be stored as an email; ``reason`` says why (the caller records it in raw.rejects)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MessageTooLarge(Unparseable):
    """The raw message is larger than the configured bound."""


@dataclass(frozen=True, slots=True)
class ParsedAttachment:
    """One attachment: its bytes, their SHA-256 and a display-only file name."""

    sha256: str
    filename: str
    content_type: str
    size_bytes: int
    #: The decoded bytes; emptied once the file is in the store.
    payload: bytes = field(repr=False)


@dataclass(slots=True)
class ParsedEmail:
    """Everything the warehouse stores about one message (strings are NUL-free UTF-8)."""

    email_key: str
    message_id: str | None
    subject: str | None
    from_addr: str | None
    from_name: str | None
    to_addrs: list[str]
    cc_addrs: list[str]
    delivered_to: list[str]
    sent_at: datetime | None
    in_reply_to: str | None
    references: list[str]
    thread_key: str
    subject_key: str
    body_text: str
    has_html: bool
    attachments: list[ParsedAttachment]
    is_auto_reply: bool
    is_bulk: bool
    is_bounce: bool
    parse_defects: list[str]
    size_bytes: int


def email_key(raw: bytes) -> str:
    """The identity of a message's exact bytes: SHA-256 hex."""
    return hashlib.sha256(raw).hexdigest()


# --- text decoding ------------------------------------------------------------------------


def text_codec(charset: str | None) -> str | None:
    """A Python text codec for a MIME charset label, or None when it is unknown or unsafe.

    Tolerates the misspellings seen in the wild (``uft-8``, ``cp-850``, quoted labels) and
    refuses codecs that are not text encodings (``zlib``, ``base64``) or that interpret
    escapes (``unicode_escape``): a charset label is untrusted input.
    """
    if not charset:
        return None
    name = charset.strip().strip("\"'").strip().lower()
    if not name:
        return None
    name = _CHARSET_FIXES.get(name, name)
    if not name:
        return None
    candidates = [name, re.sub(r"^(cp|ibm|windows|iso)[-_ ]+(\d)", r"\1\2", name)]
    candidates.append(name.replace("uft", "utf"))
    for candidate in candidates:
        try:
            info = codecs.lookup(candidate)
        except (LookupError, ValueError):
            continue
        if not getattr(info, "_is_text_encoding", True) or "escape" in info.name:
            return None
        if info.name in {"idna", "punycode", "undefined", "mbcs", "oem"}:
            return None
        return info.name
    return None


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, bool]:
    """Decode ``data`` as ``charset``; fall back to UTF-8, then cp1252, with replacement.

    Returns the text and whether a fallback was needed (a defect worth recording).
    """
    codec = text_codec(charset)
    if codec is not None:
        try:
            return data.decode(codec), False
        except UnicodeDecodeError:
            return data.decode(codec, errors="replace"), True
        except Exception:  # noqa: BLE001 - some codecs raise odd errors on odd input
            pass
    try:
        return data.decode("utf-8"), charset is not None
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), True


def _clean(text: str) -> str:
    """Make ``text`` safe for PostgreSQL text: no NULs, no lone surrogates."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", errors="replace").decode("utf-8")
    return text


def _raw_header_text(value: str) -> str:
    """A raw header value (8-bit bytes as surrogates) as real text, unfolded."""
    value = _FOLD.sub("", value)
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        data = value.encode("ascii", errors="surrogateescape")
        value, _ = decode_bytes(data, None)
    return value


def decode_header_value(value: str) -> str:
    """Header text with RFC 2047 encoded-words decoded; never raises. Only the first
    :data:`MAX_HEADER_DECODE_CHARS` characters are read."""
    if len(value) > MAX_HEADER_DECODE_CHARS:
        value = value[:MAX_HEADER_DECODE_CHARS]
    value = _raw_header_text(value)
    if "=?" not in value:
        return _clean(value.strip())
    try:
        parts = decode_header(value)
    except Exception:  # noqa: BLE001 - broken encoded-words: keep the raw text
        return _clean(value.strip())
    out: list[str] = []
    for chunk, charset in parts:
        if isinstance(chunk, str):
            out.append(chunk)
        else:
            text, _ = decode_bytes(chunk, charset)
            out.append(text)
    return _clean(_WS.sub(" ", "".join(out)).strip())


# --- headers ------------------------------------------------------------------------------


class _Headers:
    """Case-insensitive access to a message's raw header values (first or all)."""

    def __init__(self, msg: Message) -> None:
        self.values: dict[str, list[str]] = {}
        for name, value in msg.raw_items():
            if not isinstance(value, str):
                value = str(value)
            self.values.setdefault(name.strip().lower(), []).append(value)

    def raw(self, name: str) -> str | None:
        found = self.values.get(name)
        return found[0] if found else None

    def text(self, name: str) -> str | None:
        raw = self.raw(name)
        if raw is None:
            return None
        text = decode_header_value(raw)
        return text or None

    def all_raw(self, name: str) -> list[str]:
        return self.values.get(name, [])

    def has(self, name: str) -> bool:
        return name in self.values


def normalise_message_id(value: str | None) -> str | None:
    """A Message-ID without angle brackets or whitespace; None when absent or empty."""
    if not value:
        return None
    value = _raw_header_text(value)
    match = _ANGLE_ID.search(value)
    ident = match.group(1) if match else _WS.sub("", value).strip("<>")
    ident = _clean(ident)[:998]
    return ident or None


def _id_list(value: str | None) -> list[str]:
    if not value:
        return []
    value = _raw_header_text(value)
    ids = _ANGLE_ID.findall(value)
    if not ids:
        ids = [token.strip("<>") for token in value.split()]
    seen: dict[str, None] = {}
    for ident in ids:
        ident = _clean(ident)[:998]
        if ident:
            seen.setdefault(ident, None)
    return list(seen)


def _addresses(raw_values: list[str]) -> list[tuple[str, str]]:
    """(display name, lower-cased address) pairs from raw address headers."""
    if not raw_values:
        return []
    unfolded = [_raw_header_text(v) for v in raw_values]
    try:
        pairs = getaddresses(unfolded)
    except Exception:  # noqa: BLE001 - the stdlib address parser has raised on odd input
        pairs = []
    out: list[tuple[str, str]] = []
    for name, addr in pairs:
        addr = _clean(addr.strip().strip("<>").lower())
        if not addr or "@" not in addr and not addr.replace("-", "").isalnum():
            continue
        out.append((decode_header_value(name) if name else "", addr[:320]))
    return out


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    value = _raw_header_text(value[:MAX_DATE_CHARS]).strip()
    cleaned = re.sub(r"\([^)]*\)", " ", value).strip()
    # "GMT+0530" is common and the stdlib would read it as GMT, losing the offset.
    cleaned = re.sub(r"\b(GMT|UTC|UT)\s*(?=[+-]\d{4})", "", cleaned)
    candidates = [cleaned, value]
    for candidate in candidates:
        try:
            parsed = parsedate_to_datetime(candidate)
        except (TypeError, ValueError, IndexError, OverflowError):
            continue
        if parsed is not None:
            return _sane_datetime(parsed)
    try:
        from dateutil import parser as dateutil_parser  # fallback for free-text dates

        return _sane_datetime(dateutil_parser.parse(cleaned, fuzzy=True))
    except (ValueError, OverflowError, TypeError, LookupError):
        return None


def _sane_datetime(value: datetime) -> datetime | None:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # "-0000" and zone-less dates: no better guess
    if not 1980 <= value.year <= 2100:
        return None
    try:
        offset = value.utcoffset()
    except ValueError:
        return None
    # Real zones are within 14 hours of UTC; "+9999" parses (dateutil) to an offset that
    # no timezone can hold, and storing it would fail the whole batch.
    if offset is None or abs(offset) > _MAX_UTC_OFFSET:
        return None
    return value


def _received_date(headers: _Headers) -> datetime | None:
    received = headers.all_raw("received")
    for value in reversed(received):  # the oldest hop is last
        if ";" in value:
            parsed = _parse_date(value.rsplit(";", 1)[1])
            if parsed is not None:
                return parsed
    return None


def normalise_subject(subject: str | None) -> str:
    """The subject with reply/forward prefixes and list tags stripped, lower-cased."""
    text = unicodedata.normalize("NFKC", subject or "")
    while True:
        stripped = _REPLY_PREFIX.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    return _WS.sub(" ", text).strip().lower()


def subject_thread_key(subject: str | None, participants: list[str]) -> str:
    """Thread key for mail without usable References: normalised subject + participants."""
    basis = normalise_subject(subject) + "\x1f" + ",".join(sorted(set(participants)))
    return "s:" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]


# --- body and attachments -----------------------------------------------------------------


def html_to_text(html: str) -> str:
    """Visible text of an HTML document; scripts, styles and markup are discarded.

    The HTML itself is never kept: only text leaves this function, so nothing downstream
    can render a sender's markup.
    """
    from bs4 import BeautifulSoup

    try:
        soup = BeautifulSoup(html, "lxml")
    except Exception:  # noqa: BLE001 - fall back to the forgiving pure-Python parser
        soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "head", "title", "noscript", "template", "iframe"]):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    text = soup.get_text("\n")
    lines = (_WS.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def display_filename(name: str | None, fallback: str) -> str:
    """A file name fit for display only: no directories, control characters or leading dots.

    Files are stored by content hash; this name is never used as a path.
    """
    if not name:
        return fallback
    name = unicodedata.normalize("NFC", name)
    name = re.split(r"[\\/]", name)[-1]
    name = _CTRL.sub("", name).strip().lstrip(".").strip()
    name = re.sub(r"[\u202a-\u202e\u2066-\u2069]", "", name)  # no bidi overrides in names
    return name[:200] or fallback


@dataclass(slots=True)
class _Walk:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[ParsedAttachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    has_html: bool = False
    delivery_report: bool = False


def _part_filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001 - malformed RFC 2231 parameters
        return None
    if name is None:
        return None
    return decode_header_value(str(name)) or None


def _disposition(part: Message) -> str:
    value = part.get("Content-Disposition")
    if value is None:
        return ""
    return str(value).split(";", 1)[0].strip().lower()


def _add_attachment(walk: _Walk, payload: bytes, filename: str | None, ctype: str) -> None:
    digest = hashlib.sha256(payload).hexdigest()
    walk.attachments.append(
        ParsedAttachment(
            sha256=digest,
            filename=display_filename(filename, f"attachment-{digest[:12]}"),
            content_type=_clean(ctype)[:200],
            size_bytes=len(payload),
            payload=payload,
        )
    )


def _walk(part: Message, walk: _Walk, depth: int) -> None:
    if depth > MAX_MIME_DEPTH:
        walk.defects.append("MimeNestingTooDeep")
        return
    walk.defects.extend(type(defect).__name__ for defect in part.defects)
    ctype = part.get_content_type()
    maintype = ctype.split("/", 1)[0]
    filename = _part_filename(part)
    disposition = _disposition(part)
    if ctype == "message/delivery-status":
        walk.delivery_report = True
    if part.is_multipart():
        payload = part.get_payload()
        if maintype == "message" and (filename or disposition == "attachment"):
            # An attached message (e.g. a forwarded .eml): keep it whole as a file.
            try:
                inner = payload[0].as_bytes() if payload else b""
            except Exception:  # noqa: BLE001 - re-serialising broken mail can fail
                inner = b""
                walk.defects.append("EnclosedMessageNotSerialisable")
            if inner:
                _add_attachment(walk, inner, filename or "message.eml", ctype)
            return
        if isinstance(payload, list):
            for sub in payload:
                if isinstance(sub, Message):
                    _walk(sub, walk, depth + 1)
        return
    try:
        data = part.get_payload(decode=True)
    except Exception as exc:  # noqa: BLE001 - the content-transfer decoder can fail
        walk.defects.append(f"PayloadDecodeError:{type(exc).__name__}")
        data = None
    walk.defects.extend(type(defect).__name__ for defect in part.defects)
    if data is None:
        data = b""
    is_attachment = (
        disposition == "attachment"
        or (filename is not None and disposition != "inline")
        or maintype not in ("text", "message")
    )
    if ctype in ("text/plain", "text/html") and not is_attachment:
        text, fell_back = decode_bytes(data, part.get_content_charset())
        if fell_back:
            walk.defects.append("CharsetFallback")
        if ctype == "text/html":
            walk.has_html = True
            walk.html.append(text)
        else:
            walk.plain.append(text)
        return
    if ctype == "text/html":
        walk.has_html = True
    if maintype == "text" and not is_attachment:
        return  # calendars, vcards, delivery reports: neither body nor a file
    if data or filename:
        _add_attachment(walk, data, filename, ctype)


# --- flags --------------------------------------------------------------------------------


def _is_auto_reply(headers: _Headers, subject: str | None) -> bool:
    """A machine's answer to a message: out-of-office, vacation, autoresponder."""
    auto_submitted = (headers.text("auto-submitted") or "").strip().lower()
    if auto_submitted.startswith("auto-replied"):
        return True
    if headers.has("x-autoreply") or headers.has("x-autorespond"):
        return True
    precedence = (headers.text("precedence") or "").strip().lower()
    if precedence in {"auto_reply", "auto-reply"}:
        return True
    return bool(subject and _AUTO_SUBJECT.search(subject))


def _is_bulk(headers: _Headers) -> bool:
    """Machine-sent mail that is not a reply: newsletters, portal alerts, notifications.

    Kept apart from auto-replies because some of it is business (tender alerts arrive with
    ``Precedence: bulk``); downstream decides per stream what to keep.
    """
    precedence = (headers.text("precedence") or "").strip().lower()
    if precedence in {"bulk", "junk", "list"}:
        return True
    auto_submitted = (headers.text("auto-submitted") or "").strip().lower()
    return bool(auto_submitted) and not auto_submitted.startswith(("no", "auto-replied"))


def _is_bounce(msg: Message, from_addr: str | None, subject: str | None, walk: _Walk) -> bool:
    if from_addr and from_addr.split("@", 1)[0] in _BOUNCE_SENDERS:
        return True
    if msg.get_content_type() == "multipart/report":
        report = str(msg.get_param("report-type") or "").lower()
        if report in ("delivery-status", ""):
            return True
    if walk.delivery_report:
        return True
    null_sender = (msg.get("Return-Path") or "").strip() == "<>"
    return bool(subject and _BOUNCE_SUBJECT.search(subject) and null_sender)


# --- entry point --------------------------------------------------------------------------


def parse_email(raw: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedEmail:
    """Parse one message. Raises :class:`Unparseable` (with a reason) when it is not an email.

    Never raises for merely broken mail: defects are listed in ``parse_defects``.
    """
    if len(raw) > max_bytes:
        raise MessageTooLarge(f"too large: {len(raw)} bytes > limit {max_bytes}")
    if not raw.strip():
        raise Unparseable("empty input")
    key, size = email_key(raw), len(raw)
    if is_outlook_msg(raw):
        # an Outlook .msg: landed as the MIME message it holds, keyed by the file's bytes
        try:
            raw = msg_to_rfc822(raw)
        except MsgUnreadable as exc:
            raise Unparseable(str(exc)) from None
    head = raw[:8192].split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    if b"\x00" in head:
        raise Unparseable("binary data, not an email (NUL bytes in the header block)")
    _check_content_headers(raw)
    try:
        msg = message_from_bytes(raw, policy=compat32)
    except RecursionError:
        # The stdlib parser recurses once per nested multipart or message/rfc822 part.
        raise Unparseable(
            "MIME parts nested too deep to parse (hundreds of levels; no mailer does that)"
        ) from None
    headers = _Headers(msg)
    if not _EMAIL_HEADERS.intersection(headers.values):
        raise Unparseable("no email headers found")

    walk = _Walk()
    _walk(msg, walk, 0)

    subject = headers.text("subject")
    from_pairs = _addresses(headers.all_raw("from")[:1])
    if from_pairs:
        from_name, from_addr = from_pairs[0]
    else:
        raw_from = headers.raw("from")
        from_name, from_addr = "", ""
        if raw_from:
            from_name, from_addr = parseaddr(_raw_header_text(raw_from))
            from_addr = _clean(from_addr.lower())
    to_pairs = _addresses(headers.all_raw("to"))
    cc_pairs = _addresses(headers.all_raw("cc"))
    delivered = _addresses(headers.all_raw("delivered-to") + headers.all_raw("x-original-to"))

    sent_at = _parse_date(headers.raw("date"))
    if sent_at is None:
        if headers.has("date"):
            walk.defects.append("UnparseableDate")
        sent_at = _received_date(headers)

    message_id = normalise_message_id(headers.raw("message-id"))
    in_reply_to_ids = _id_list(headers.raw("in-reply-to"))
    in_reply_to = in_reply_to_ids[0] if in_reply_to_ids else None
    references = _id_list(" ".join(headers.all_raw("references")))

    to_addrs = _unique(addr for _, addr in to_pairs)
    participants = [a for a in [from_addr, *to_addrs] if a]
    subj_key = subject_thread_key(subject, participants)
    root = references[0] if references else in_reply_to
    thread_key = root if root else subj_key

    if walk.plain:
        body = "\n\n".join(t.strip("\r\n") for t in walk.plain if t.strip())
    else:
        body = "\n\n".join(html_to_text(h) for h in _capped_html(walk))
    body = _clean(body.replace("\r\n", "\n"))
    if len(body) > MAX_BODY_CHARS:
        body = body[:MAX_BODY_CHARS]
        walk.defects.append("BodyTruncated")

    return ParsedEmail(
        email_key=key,
        message_id=message_id,
        subject=_clean(subject)[:2000] if subject else None,
        from_addr=from_addr or None,
        from_name=_clean(from_name) or None,
        to_addrs=to_addrs,
        cc_addrs=_unique(addr for _, addr in cc_pairs),
        delivered_to=_unique(addr for _, addr in delivered),
        sent_at=sent_at,
        in_reply_to=in_reply_to,
        references=references,
        thread_key=thread_key,
        subject_key=subj_key,
        body_text=body,
        has_html=walk.has_html,
        attachments=walk.attachments,
        is_auto_reply=_is_auto_reply(headers, subject),
        is_bulk=_is_bulk(headers),
        is_bounce=_is_bounce(msg, from_addr, subject, walk),
        parse_defects=_unique(walk.defects),
        size_bytes=size,
    )


_CONTENT_HEADER = re.compile(rb"(?im)^content-(?:type|disposition)[ \t]*:")


def _check_content_headers(raw: bytes) -> None:
    """Raise :class:`Unparseable` for a Content-Type or Content-Disposition header (folded
    lines included) over :data:`MAX_CONTENT_HEADER_BYTES` or with more than
    :data:`MAX_CONTENT_HEADER_PARAMS` parameters, anywhere in the message."""
    for match in _CONTENT_HEADER.finditer(raw):
        start = pos = match.end()
        limit = start + MAX_CONTENT_HEADER_BYTES
        while True:
            end = raw.find(b"\n", pos, limit + 1)
            if end < 0:
                end = min(len(raw), limit + 1)
                break
            if raw[end + 1 : end + 2] not in (b" ", b"\t"):
                break
            pos = end + 1
        name = match.group(0).rstrip(b": \t").decode("ascii", "replace")
        if end - start > MAX_CONTENT_HEADER_BYTES:
            raise Unparseable(
                f"a {name} header is longer than {MAX_CONTENT_HEADER_BYTES} bytes "
                "(refused: no mailer writes one, and parsing it costs minutes)"
            )
        if raw.count(b";", start, end) > MAX_CONTENT_HEADER_PARAMS:
            raise Unparseable(
                f"a {name} header has more than {MAX_CONTENT_HEADER_PARAMS} parameters "
                "(refused: no mailer writes one, and parsing it costs minutes)"
            )


def _capped_html(walk: _Walk) -> list[str]:
    """The HTML parts, cut to :data:`MAX_HTML_CHARS` altogether (a defect notes the cut)."""
    left = MAX_HTML_CHARS
    out: list[str] = []
    for html in walk.html:
        if len(html) > left:
            out.append(html[:left])
            walk.defects.append("HtmlTruncated")
            break
        out.append(html)
        left -= len(html)
    return out


def _unique(values) -> list[str]:  # noqa: ANN001 - any iterable of str
    return list(dict.fromkeys(v for v in values if v))
