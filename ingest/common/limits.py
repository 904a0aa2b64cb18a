"""Caps on untrusted input, shared by the connectors: nothing is read whole before its size
is known, and nothing grows without a limit.

- :func:`spool_bounded` copies chunks (an HTTP body) into a file and stops with
  :class:`LimitExceeded` once more than ``max_bytes`` arrived (Tally responses).
- :func:`read_bounded` reads a stream into memory up to a cap (Focus replies).
- :func:`store_file_range` streams a byte range of a file (one mbox message too large to
  read) into the content store, returning its SHA-256 and size, never holding it whole.
- :func:`check_zip_budget` refuses a ZIP container (an XLSX workbook) whose members would
  expand beyond a total size or at a suspicious compression ratio, from the central
  directory alone (Python's ``zipfile`` never inflates a member past its declared size).
- :class:`XmlTextCapper` rewrites an XML byte stream so that no element's text exceeds a
  byte budget: the text is cut at a character boundary and a marker appended, so a parser
  never materialises a 64 MiB cell and the reader can tell which values were cut.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

_CHUNK = 1 << 20


class LimitExceeded(ValueError):
    """Input is larger than a configured cap; ``what`` names the input, ``limit`` the cap."""

    def __init__(self, what: str, limit: int, message: str | None = None) -> None:
        super().__init__(message or f"{what} is larger than the limit of {limit} bytes")
        self.what = what
        self.limit = limit


def spool_bounded(chunks: Iterable[bytes], out: IO[bytes], max_bytes: int, what: str) -> int:
    """Write ``chunks`` to ``out``; raise :class:`LimitExceeded` as soon as more than
    ``max_bytes`` arrived (the caller discards ``out``). Returns the bytes written."""
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > max_bytes:
            raise LimitExceeded(what, max_bytes)
        out.write(chunk)
    return total


def read_bounded(stream: BinaryIO, max_bytes: int, what: str) -> bytes:
    """Read ``stream`` to its end, at most ``max_bytes``; more raises :class:`LimitExceeded`."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise LimitExceeded(what, max_bytes)
    return data


@dataclass(frozen=True, slots=True)
class StoredRange:
    """A byte range copied into the content store."""

    sha256: str
    size: int
    path: Path


def store_file_range(root: Path, source: Path, start: int, stop: int) -> StoredRange:
    """Copy bytes ``[start, stop)`` of ``source`` into the content store under ``root``,
    1 MiB at a time, hashing as it goes; returns the digest, size and blob path.

    For mail: an mbox message over ``MAIL_MAX_MESSAGE_BYTES`` is stored this way (from
    ``mailbox.mbox._toc[key]``) instead of ``get_bytes`` reading it whole; then
    ``record_reject(..., payload=None, payload_path=stored.path, sha256=stored.sha256,
    size_bytes=stored.size)`` finds the blob already in place.
    """
    from ingest.common import store

    if stop < start:
        raise ValueError("stop before start")
    root.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=root)
    size = 0
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            src.seek(start)
            left = stop - start
            while left > 0 and (chunk := src.read(min(_CHUNK, left))):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
                left -= len(chunk)
        sha = digest.hexdigest()
        path = store.blob_path(root, sha)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return StoredRange(sha, size, path)


#: Members smaller than this are not held to the ratio (tiny XML parts compress oddly).
RATIO_MIN_BYTES = 1 << 20


def check_zip_budget(
    archive: zipfile.ZipFile, max_total_bytes: int, max_ratio: float, what: str
) -> int:
    """Raise :class:`LimitExceeded` when the members would expand beyond ``max_total_bytes``
    altogether, or one member over :data:`RATIO_MIN_BYTES` expands more than ``max_ratio``
    times its compressed size. Returns the total uncompressed size.

    The sizes come from the central directory; ``zipfile`` stops inflating a member at its
    declared size (and fails its CRC check when the data goes on), so they are a real bound.
    """
    total = 0
    for info in archive.infolist():
        total += info.file_size
        if total > max_total_bytes:
            raise LimitExceeded(
                what,
                max_total_bytes,
                f"{what} expands to more than {max_total_bytes} bytes uncompressed",
            )
        if info.file_size > RATIO_MIN_BYTES:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > max_ratio:
                raise LimitExceeded(
                    what,
                    max_total_bytes,
                    f"{what}: part {info.filename!r} expands {ratio:.0f} times "
                    f"(limit {max_ratio:g}); refused as a possible zip bomb",
                )
    return total


_TAG_END = re.compile(rb"[\"'>]")
#: Length of the opening of each kind of special markup, keyed by its closing sequence.
_OPENERS = {b"?>": 2, b"-->": 4, b"]]>": 9}


class XmlTextCapper:
    """Stream filter over XML bytes (UTF-8) that caps the text inside each container.

    The text budget (``max_text_bytes``) is reset at every start tag named in ``reset_tags``
    (for a worksheet and shared strings: ``c``, ``si``, ``row``) and counts every text run
    until the next reset, so a rich-text string of many runs is capped as a whole. Where the
    budget runs out the text is cut before a split character or entity, ``marker`` is
    appended once, and later text in the container is dropped; tags are kept, so the
    document stays well-formed. ``truncated`` counts the cuts.

    A tag (with its attributes, or a CDATA section, comment or processing instruction)
    longer than ``max_tag_bytes`` and any DOCTYPE raise :class:`LimitExceeded` / ValueError:
    a spreadsheet part has neither.
    """

    def __init__(
        self,
        max_text_bytes: int,
        marker: bytes,
        reset_tags: Iterable[bytes] = (b"c", b"si", b"row"),
        max_tag_bytes: int = 1 << 16,
    ) -> None:
        self.max_text_bytes = max_text_bytes
        self.marker = marker
        self.reset_tags = frozenset(reset_tags)
        self.max_tag_bytes = max_tag_bytes
        self.truncated = 0
        self._budget = max_text_bytes
        self._cut = False
        self._tag: bytearray | None = None  # bytes of the tag being read, from "<"
        self._quote: bytes | None = None
        self._special = b""
        self._pending = b""

    def feed(self, data: bytes, final: bool = False) -> bytes:
        """Filter the next bytes; the output may lag the input by a few bytes."""
        data = self._pending + data
        self._pending = b""
        out = bytearray()
        i, n = 0, len(data)
        while i < n:
            if self._tag is not None:
                i = self._read_tag(data, i, out)
                continue
            j = data.find(b"<", i)
            end = n if j < 0 else j
            if j < 0 and not final:
                end = _safe_end(data, i, n)
                self._pending = data[end:]
            self._text(data[i:end], out)
            if j < 0:
                break
            if n - j < 9 and not final:  # too few bytes to tell a comment or CDATA apart
                self._pending = data[j:]
                break
            self._tag = bytearray()
            self._quote = None
            self._special = _special_end(data[j : j + 9])
            i = j
        if final and (self._tag is not None or self._pending):
            raise ValueError("XML ends inside a tag")
        return bytes(out)

    def _text(self, text: bytes, out: bytearray) -> None:
        if not text:
            return
        if len(text) <= self._budget:
            out += text
            self._budget -= len(text)
            return
        if not self._cut:
            out += text[: _safe_cut(text, self._budget)] + self.marker
            self._cut = True
            self.truncated += 1
        self._budget = 0

    def _read_tag(self, data: bytes, i: int, out: bytearray) -> int:
        tag = self._tag
        assert tag is not None
        if self._special:  # comment, CDATA, processing instruction: ends at a fixed sequence
            prev = len(tag)
            tag += data[i : i + self.max_tag_bytes + 1]
            opener = _OPENERS[self._special]
            k = tag.find(self._special, max(opener, prev - len(self._special) + 1))
            if k < 0:
                self._check_tag_size(tag)
                return i + len(tag) - prev
            stop = k + len(self._special)
            del tag[stop:]
            self._check_tag_size(tag)
            self._close_tag(out)
            return i + stop - prev
        while i < len(data):
            if self._quote is not None:
                k = data.find(self._quote, i)
                if k < 0:
                    tag += data[i:]
                    self._check_tag_size(tag)
                    return len(data)
                tag += data[i : k + 1]
                self._quote = None
                i = k + 1
                continue
            m = _TAG_END.search(data, i)
            if m is None:
                tag += data[i:]
                self._check_tag_size(tag)
                return len(data)
            k = m.start()
            tag += data[i : k + 1]
            i = k + 1
            if data[k : k + 1] == b">":
                self._check_tag_size(tag)
                self._close_tag(out)
                return i
            self._quote = data[k : k + 1]
        return i

    def _check_tag_size(self, tag: bytearray) -> None:
        if len(tag) > self.max_tag_bytes:
            raise LimitExceeded(
                "an XML tag",
                self.max_tag_bytes,
                f"an XML tag is longer than {self.max_tag_bytes} bytes",
            )

    def _close_tag(self, out: bytearray) -> None:
        tag = bytes(self._tag or b"")
        self._tag = None
        if tag.startswith(b"<!") and not tag.startswith((b"<!--", b"<![CDATA[")):
            raise ValueError("XML declares a DOCTYPE or other markup declaration")
        if tag.startswith(b"<![CDATA["):
            body = len(tag) - 12
            if body > self._budget:
                raise LimitExceeded(
                    "a CDATA section", self.max_text_bytes, "a CDATA section is over the text limit"
                )
            self._budget -= body
        elif tag[1:2] not in (b"/", b"?", b"!") and _tag_name(tag) in self.reset_tags:
            self._budget = self.max_text_bytes
            self._cut = False
        out += tag


def _special_end(head: bytes) -> bytes:
    """The sequence that ends markup starting with ``head`` when it is not an ordinary tag
    (``-->``, ``]]>``, ``?>``), or b"" for an ordinary tag."""
    if head.startswith(b"<?"):
        return b"?>"
    if head.startswith(b"<!--"):
        return b"-->"
    if head.startswith(b"<![CDATA["):
        return b"]]>"
    return b""


def _tag_name(tag: bytes) -> bytes:
    """Local name of a start tag (``<x:c r="A1">`` -> ``c``)."""
    name = re.match(rb"<([^\s/>]+)", tag)
    if name is None:
        return b""
    return name.group(1).rsplit(b":", 1)[-1]


def _safe_cut(text: bytes, at: int) -> int:
    """A cut position <= ``at`` that splits neither a UTF-8 character nor an entity."""
    at = min(at, len(text))
    amp = text.rfind(b"&", max(0, at - 12), at)
    if amp >= 0 and b";" not in text[amp:at]:
        at = amp
    while 0 < at < len(text) and 0x80 <= text[at] < 0xC0:
        at -= 1
    return at


def _safe_end(data: bytes, start: int, end: int) -> int:
    """Where to stop emitting text at the end of a chunk: before a trailing entity or UTF-8
    character that may continue in the next chunk."""
    amp = data.rfind(b"&", max(start, end - 12), end)
    if amp >= 0 and b";" not in data[amp:end]:
        end = amp
    for back in range(1, 4):
        pos = end - back
        if pos < start:
            break
        byte = data[pos]
        if byte < 0x80:
            break
        if byte >= 0xC0:  # a lead byte: is its sequence complete?
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            if back < need:
                end = pos
            break
    return end
