"""Outlook ``.msg`` files (what Outlook writes when a mail is dragged out of it) as RFC 822.

A ``.msg`` is an OLE2 compound file, not a MIME message. :func:`msg_to_rfc822` reads it with
``extract-msg`` and writes the equivalent MIME message: the original Internet headers when
Outlook kept them (``PR_TRANSPORT_MESSAGE_HEADERS``: From, To, Cc, Date, Subject,
Message-ID, In-Reply-To, References...), else headers built from the item's properties; the
plain body, the HTML body as its alternative, and the attachments (an attached Outlook item
becomes an attached ``message/rfc822``). :func:`ingest.mail.parse.parse_email` then lands it
like any .eml; the email key stays the SHA-256 of the ``.msg`` file's own bytes, so the same
file handed over twice is a duplicate.

A file that is OLE2 but not a readable Outlook mail raises :class:`MsgUnreadable` with the
reason, which the loader records in ``raw.rejects``.
"""

from __future__ import annotations

import logging
import re
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.parser import BytesParser, HeaderParser
from email.policy import compat32
from email.utils import format_datetime, formataddr, getaddresses
from typing import Any

#: The first bytes of every OLE2 compound file (.msg, and also old .doc/.xls).
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: Outlook message classes that are mail (notes, signed/encrypted notes, reports, meeting
#: mail); contacts, tasks, appointments and sticky notes are not.
MAIL_CLASSES = ("ipm.note", "report.ipm.note", "ipm.schedule.meeting", "ipm.post")
#: Headers of the original mail that describe its old MIME body, which is rebuilt here.
_BODY_HEADERS = frozenset(
    {"content-type", "content-transfer-encoding", "mime-version", "content-disposition"}
)
#: Attached Outlook items are converted this deep, no deeper.
MAX_DEPTH = 3

#: An SMTP address (Outlook also stores Exchange X.500 names, which hold "/" and "=").
_SMTP = re.compile(r"[^@\s/=<>]+@[^@\s/=<>]+\.[^@\s/=<>]+")
#: Outlook quotes display names with single quotes: 'Name' <a@b>.
_SINGLE_QUOTED = re.compile(r"'([^'<>\"]*)'\s*<")

log = logging.getLogger(__name__)


class MsgUnreadable(ValueError):
    """The bytes are an OLE2 file but not an Outlook mail that can be read."""


def is_outlook_msg(raw: bytes) -> bool:
    """True for an OLE2 compound file (how an Outlook ``.msg`` starts)."""
    return raw[:8] == OLE2_MAGIC


def msg_to_rfc822(raw: bytes) -> bytes:
    """The RFC 822 bytes of an Outlook ``.msg`` file; :class:`MsgUnreadable` says why not."""
    import extract_msg

    logging.getLogger("extract_msg").setLevel(logging.ERROR)
    try:
        item = extract_msg.openMsg(raw, strict=False)
    except Exception as exc:  # noqa: BLE001 - olefile and extract-msg raise many kinds
        raise MsgUnreadable(f"Outlook .msg file could not be read: {_why(exc)}") from None
    try:
        return _convert(item, 0).as_bytes()
    except MsgUnreadable:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken stream inside the file
        raise MsgUnreadable(f"Outlook .msg file could not be read: {_why(exc)}") from None
    finally:
        try:
            item.close()
        except Exception:  # noqa: BLE001 - closing never matters more than the result
            pass


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def _convert(item: Any, depth: int) -> Message:
    class_type = str(getattr(item, "classType", "") or "")
    if not class_type.lower().startswith(MAIL_CLASSES):
        raise MsgUnreadable(f"an Outlook item of class {class_type or 'unknown'}, not an email")
    body = _text(getattr(item, "body", None))
    html = _html(item)
    alternative: Message
    if body and html:
        alternative = MIMEMultipart("alternative")
        alternative.attach(MIMEText(body, "plain", "utf-8"))
        alternative.attach(MIMEText(html, "html", "utf-8"))
    elif html:
        alternative = MIMEText(html, "html", "utf-8")
    else:
        alternative = MIMEText(body or "", "plain", "utf-8")
    parts = list(_attachments(item, depth))
    if parts:
        root: Message = MIMEMultipart("mixed")
        root.attach(alternative)
        for part in parts:
            root.attach(part)
    else:
        root = alternative
    _set_headers(root, item)
    return root


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value).replace("\x00", "").replace("\r\n", "\n")


def _html(item: Any) -> str:
    try:
        data = item.htmlBody
    except Exception:  # noqa: BLE001 - an RTF body that cannot be de-encapsulated
        return ""
    if not data:
        return ""
    encoding = getattr(item, "htmlEncoding", None) or "utf-8"
    try:
        return _text(data.decode(encoding, "replace"))
    except LookupError:
        return _text(data.decode("utf-8", "replace"))


def _attachments(item: Any, depth: int):
    for attachment in getattr(item, "attachments", None) or []:
        name = (
            getattr(attachment, "longFilename", None)
            or getattr(attachment, "shortFilename", None)
            or getattr(attachment, "displayName", None)
            or "attachment"
        )
        name = str(name).replace("\x00", "").strip() or "attachment"
        data = getattr(attachment, "data", None)
        if isinstance(data, bytes):
            subtype = "octet-stream"
            mimetype = str(getattr(attachment, "mimetype", None) or "")
            maintype, _, sub = mimetype.partition("/")
            part = MIMEApplication(data, subtype)
            if maintype and sub and "\n" not in mimetype:
                part.replace_header("Content-Type", f"{maintype}/{sub}")
            part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", name))
            yield part
        elif data is not None and hasattr(data, "classType") and depth < MAX_DEPTH:
            inner = _convert(data, depth + 1)
            part = MIMEMessage(BytesParser(policy=compat32).parsebytes(inner.as_bytes()))
            filename = name[:-4] + ".eml" if name.lower().endswith(".msg") else name + ".eml"
            part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", filename))
            yield part
        else:
            log.info("msg: attachment %r has no data that can be attached; left out", name)


def _header_value(value: str) -> str | Header:
    value = " ".join(str(value).replace("\x00", "").split())
    return value if value.isascii() else Header(value, "utf-8")


def _addresses(value: str | None) -> str | None:
    """Outlook's ``Name <a@b>; Other <c@d>`` as an RFC 822 address list."""
    if not value:
        return None
    text = _SINGLE_QUOTED.sub(r'"\1" <', str(value).replace("\x00", "").replace(";", ","))
    pairs = [(n, a) for n, a in getaddresses([text]) if n or a]
    if not pairs:
        return None
    return ", ".join(formataddr((n.strip("'\" "), a), charset="utf-8") for n, a in pairs)


def _set_headers(root: Message, item: Any) -> None:
    header_text = getattr(item, "headerText", None)
    present: set[str] = set()
    if header_text:
        text = str(header_text).replace("\x00", "")
        if text.startswith("Microsoft Mail Internet Headers Version 2.0"):
            text = text[43:].lstrip()
        original = HeaderParser(policy=compat32).parsestr(text)
        for key, value in original.items():
            if key.lower() in _BODY_HEADERS or value is None:
                continue
            root[key] = _header_value(value)
            present.add(key.lower())
    if "from" not in present:
        sender = _sender(item)
        if sender:
            root["From"] = sender
    for key, attr in (("To", "to"), ("Cc", "cc")):
        if key.lower() not in present and (value := _addresses(getattr(item, attr, None))):
            root[key] = value
    if "subject" not in present and (subject := _text(getattr(item, "subject", None)).strip()):
        root["Subject"] = _header_value(subject)
    if "date" not in present and getattr(item, "date", None) is not None:
        root["Date"] = format_datetime(item.date)
    for key, attr in (("Message-ID", "messageId"), ("In-Reply-To", "inReplyTo")):
        if key.lower() not in present and (value := _text(getattr(item, attr, None)).strip()):
            root[key] = _header_value(value)


def _sender(item: Any) -> str | None:
    name = _text(item.getStringStream("__substg1.0_0C1A")).strip()
    address = ""
    for stream in ("__substg1.0_5D01", "__substg1.0_0C1F", "__substg1.0_0065"):
        candidate = _text(item.getStringStream(stream)).strip()
        if _SMTP.fullmatch(candidate):
            address = candidate
            break
    if address:
        return formataddr((name, address), charset="utf-8")
    sender = _text(getattr(item, "sender", None))
    if _SMTP.search(sender):
        return _addresses(sender)
    return formataddr((name, ""), charset="utf-8") if name else None
