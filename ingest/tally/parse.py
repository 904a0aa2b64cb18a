"""Stream-parse Tally XML exports in bounded memory.

Tally answers in UTF-16 (with or without a BOM) or UTF-8, and its output is not valid
XML 1.0: reserved names carry ``&#4;`` and other control characters appear as references
or raw. The stream is decoded in chunks, cleaned of those characters, re-encoded as UTF-8
and fed to an incremental lxml parser; each object element (STOCKITEM, LEDGER, VOUCHER,
...) is handed out as it completes and then freed, so memory stays flat however large the
export is.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from ingest.tally.errors import TallyParseError, TallyResponseError

OBJECT_TAGS = ("STOCKITEM", "STOCKGROUP", "LEDGER", "VOUCHER", "COMPANY")
#: Other master types found in "All Masters" style exports: freed, never handed out.
_SKIPPED_TAGS = (
    "TALLYMESSAGE",
    "GROUP",
    "UNIT",
    "GODOWN",
    "CURRENCY",
    "VOUCHERTYPE",
    "COSTCENTRE",
    "COSTCATEGORY",
    "STOCKCATEGORY",
)
CHUNK_SIZE = 4 << 20

# Character references to code points XML 1.0 forbids (everything below 0x20 except
# tab, LF and CR); Tally writes &#4; before reserved names.
_ILLEGAL_REF = re.compile(
    r"&#(?:[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F])|0*(?:[0-8]|1[1-24-9]|2[0-9]|3[01]));"
)
_RAW_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def detect_encoding(head: bytes) -> tuple[str, int]:
    """(codec, BOM length) from a document's first bytes: BOM first, then the NUL pattern."""
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    if len(head) >= 2:
        if head[0] != 0 and head[1] == 0:
            return "utf-16-le", 0
        if head[0] == 0 and head[1] != 0:
            return "utf-16-be", 0
    return "utf-8", 0


def sanitize(text: str) -> str:
    """Text with illegal character references and raw control characters removed."""
    if "&#" in text:
        text = _ILLEGAL_REF.sub("", text)
    if _RAW_CONTROL.search(text):
        text = _RAW_CONTROL.sub("", text)
    return text


class _Cleaner:
    """Decode chunks to sanitised text, holding back a reference split across chunks."""

    def __init__(self, codec: str) -> None:
        self._decoder = codecs.getincrementaldecoder(codec)(errors="replace")
        self._carry = ""
        self._first = True

    def feed(self, data: bytes, final: bool = False) -> str:
        text = self._carry + self._decoder.decode(data, final)
        self._carry = ""
        if not final:
            amp = text.rfind("&", max(0, len(text) - 16))
            if amp != -1 and ";" not in text[amp:]:
                text, self._carry = text[:amp], text[amp:]
        if self._first and text:
            # The declaration names the original encoding; the parser now sees UTF-8.
            text = _XML_DECLARATION.sub("", text.lstrip("\ufeff"), count=1)
            self._first = False
        return sanitize(text)


def _chunks(source: bytes | BinaryIO | Iterable[bytes], chunk_size: int) -> Iterator[bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        source = io.BytesIO(bytes(source))
    if hasattr(source, "read"):
        while chunk := source.read(chunk_size):  # type: ignore[union-attr]
            yield chunk
        return
    for chunk in source:  # type: ignore[union-attr]
        if chunk:
            yield chunk


def _free(elem: etree._Element) -> None:
    """Release an element and everything before it in the tree, up to the root."""
    elem.clear(keep_tail=False)
    node = elem
    while (parent := node.getparent()) is not None:
        while node.getprevious() is not None:
            del parent[0]
        node = parent


def iter_elements(
    source: bytes | BinaryIO | Iterable[bytes],
    tags: Iterable[str] = OBJECT_TAGS,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[etree._Element]:
    """Each completed object element of an export, in document order.

    An element is valid only until the next one is requested (it is freed then).
    Raises TallyResponseError for ``<LINEERROR>`` and TallyParseError for a malformed,
    truncated or empty document.
    """
    wanted = tuple(tag.upper() for tag in tags)
    parser = etree.XMLPullParser(
        events=("end",),
        tag=(*wanted, *_SKIPPED_TAGS, "LINEERROR"),
        encoding="utf-8",
        huge_tree=True,
        resolve_entities=False,
        no_network=True,
        remove_comments=True,
        remove_pis=True,
    )
    cleaner: _Cleaner | None = None
    fed = False
    got_objects = False

    def drain() -> Iterator[etree._Element]:
        nonlocal got_objects
        for _, elem in parser.read_events():
            tag = elem.tag
            if tag == "LINEERROR":
                raise TallyResponseError(" ".join((elem.text or "").split()) or "Tally error")
            if tag in wanted:
                got_objects = True
                yield elem
            elif next(elem.iterancestors(*wanted), None) is not None:
                continue  # a field of an object still being read
            _free(elem)

    try:
        for chunk in _chunks(source, chunk_size):
            if cleaner is None:
                codec, bom = detect_encoding(chunk[:4])
                cleaner = _Cleaner(codec)
                chunk = chunk[bom:]
            text = cleaner.feed(chunk)
            if text:
                fed = fed or bool(text.strip())
                parser.feed(text.encode("utf-8"))
                yield from drain()
        if cleaner is not None:
            tail = cleaner.feed(b"", final=True)
            if tail:
                fed = fed or bool(tail.strip())
                parser.feed(tail.encode("utf-8"))
        if not fed:
            raise TallyParseError("Tally sent an empty response")
        try:
            root = parser.close()
        except etree.XMLSyntaxError as exc:
            raise TallyParseError(
                f"Tally's response ended before the document was complete (truncated?): {exc}"
            ) from None
        yield from drain()
    except etree.XMLSyntaxError as exc:
        raise TallyParseError(f"Tally's response is not well-formed XML: {exc}") from None
    if root.tag == "RESPONSE" and not got_objects:
        message = " ".join("".join(root.itertext()).split())
        if message and "running" not in message.lower():
            raise TallyResponseError(message)


def iter_file_elements(path: Path, tags: Iterable[str] = OBJECT_TAGS) -> Iterator[etree._Element]:
    """:func:`iter_elements` over a saved export file."""
    with Path(path).open("rb") as handle:
        yield from iter_elements(handle, tags)
