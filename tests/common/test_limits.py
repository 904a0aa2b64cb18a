"""The shared input caps (``ingest/common/limits.py``) on real bytes and files."""

from __future__ import annotations

import hashlib
import io
import mailbox
import random
from email.message import EmailMessage
from pathlib import Path
from xml.etree import ElementTree

import pytest

from ingest.common import store
from ingest.common.limits import (
    LimitExceeded,
    XmlTextCapper,
    read_bounded,
    spool_bounded,
    store_file_range,
)
from ingest.common.rejects import record_reject

_DOC = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!-- a comment > with a bracket -->'
    '<sst xmlns="x"><si><t>short &amp; ok</t></si>'
    "<si><t>" + "é&amp;€" * 5000 + "</t></si>"
    "<si><r><t>" + "ab" * 300 + "</t></r><r><t>" + "cd" * 300 + "</t></r></si>"
    '<si><t a="x>y">tiny</t></si><si><![CDATA[<raw>]]></si></sst>'
).encode()


@pytest.mark.parametrize("seed", range(12))
def test_xml_text_capper_cuts_whole_characters_in_any_chunking(seed: int) -> None:
    """However the bytes arrive, the output parses, short text is unchanged, a long text
    (one run, or many runs of one rich-text string) is cut once, within budget, at a whole
    character or entity, and ends with the marker."""
    rnd = random.Random(seed)
    capper = XmlTextCapper(1000, b"#CUT#")
    out = bytearray()
    i = 0
    while i < len(_DOC):
        step = rnd.randint(1, (3, 50, 5000)[seed % 3])
        out += capper.feed(_DOC[i : i + step])
        i += step
    out += capper.feed(b"", final=True)
    texts = ["".join(si.itertext()) for si in ElementTree.fromstring(bytes(out))]
    assert texts[0] == "short & ok"
    assert texts[1].endswith("#CUT#") and len(texts[1].encode()) <= 1000 + 5
    assert texts[1][:-5] == ("é&€" * 5000)[: len(texts[1]) - 5]
    assert texts[2] == ("ab" * 300 + "cd" * 300)[:1000] + "#CUT#"  # both runs count
    assert texts[3:] == ["tiny", "<raw>"]
    assert capper.truncated == 2


def test_xml_text_capper_refuses_doctype_and_endless_tags() -> None:
    with pytest.raises(ValueError, match="DOCTYPE"):
        XmlTextCapper(100, b"#").feed(b'<!DOCTYPE x [<!ENTITY a "b">]><x/>', final=True)
    with pytest.raises(LimitExceeded):
        XmlTextCapper(100, b"#", max_tag_bytes=1024).feed(b'<x a="' + b"y" * 5000)


def test_spool_and_read_stop_at_the_cap() -> None:
    out = io.BytesIO()
    assert spool_bounded([b"ab"] * 5, out, 10, "answer") == 10
    with pytest.raises(LimitExceeded, match="answer is larger than the limit of 9 bytes"):
        spool_bounded([b"ab"] * 5, io.BytesIO(), 9, "answer")
    assert read_bounded(io.BytesIO(b"x" * 10), 10, "reply") == b"x" * 10
    with pytest.raises(LimitExceeded):
        read_bounded(io.BytesIO(b"x" * 11), 10, "reply")


def test_oversize_mbox_message_is_stored_from_its_byte_range(warehouse, tmp_path: Path) -> None:
    """How mail keeps an mbox message over MAIL_MAX_MESSAGE_BYTES without reading it: its
    byte range goes to the content store, and the reject points at the blob (payload NULL,
    SHA-256 and size of exactly those bytes)."""
    path = tmp_path / "sales.mbox"
    box = mailbox.mbox(str(path))
    for size in (100, 3 << 20):
        message = EmailMessage()
        message["Subject"] = f"{size} bytes"
        message.set_content("x" * size)
        box.add(message)
    box.flush()
    box.close()
    box = mailbox.mbox(str(path), create=False)
    keys = list(box.iterkeys())
    start, stop = box._toc[keys[1]]  # noqa: SLF001 - as ingest/mail/client.py reads it
    box.close()

    stored = store_file_range(store.rejects_root(), path, start, stop)
    expected = path.read_bytes()[start:stop]
    assert stored.size == len(expected) == stop - start
    assert stored.sha256 == hashlib.sha256(expected).hexdigest()
    assert stored.path == store.blob_path(store.rejects_root(), stored.sha256)
    assert stored.path.read_bytes() == expected

    with warehouse.transaction():
        record_reject(
            warehouse,
            source="mail",
            source_kind="mbox",
            locator=f"{path}#1",
            reason=f"too large: {stored.size} bytes > limit 1048576",
            payload=None,
            payload_path=stored.path,
            sha256=stored.sha256,
            size_bytes=stored.size,
        )
    row = warehouse.execute(
        "SELECT sha256, size_bytes, payload, payload_in_store FROM raw.rejects"
    ).fetchone()
    assert row == (stored.sha256, stored.size, None, True)
