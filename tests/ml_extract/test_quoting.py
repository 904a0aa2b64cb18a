"""Quoted history and forwarding headers are not the sender's words."""

from __future__ import annotations

from ml.extract import mask_quoted, strip_quoted

REPLY = """Please send 5 MT ZnO.

On Mon, 3 Nov 2025 at 10:02, Sales <sales@pebbledemo.in> wrote:
> Our rate for Stearic Acid is Rs 126/kg.
> GSTIN 27AAPFU0939F1ZV
"""

WRAPPED = """ok noted

On Mon, 3 Nov 2025 at 10:02, Sales Team Pebble Demo Chemicals <sales@pebbledemo.in>
wrote:

> rate Rs 52/kg
"""

OUTLOOK = """Kindly dispatch today.

-----Original Message-----
From: Sales <sales@pebbledemo.in>
Sent: 03 November 2025 10:02
Subject: SO/25-26/01877
Material against SO/25-26/01877 dispatched.
"""

OUTLOOK_NO_MARKER = """Thanks, received.

From: Sales <sales@pebbledemo.in>
Sent: Monday, November 3, 2025 10:02 AM
To: Ravi <ravi@abc.in>
Subject: RE: INV/25-26/00412
Please find INV/25-26/00412.
"""

FORWARD = """Please follow up.

---------- Forwarded message ---------
From: Neha Sood <neha@himclean.in>
Date: Sat, 21 Jun 2025 at 18:40
Subject: Enquiry SO/25-26/01111
To: Arjun <arjun@pebbledemo.in>

We need LABSA 10 drums.
"""


def test_reply_quote_and_attribution_are_removed():
    assert strip_quoted(REPLY) == "Please send 5 MT ZnO.\n"


def test_wrapped_attribution_is_removed():
    assert strip_quoted(WRAPPED) == "ok noted\n"


def test_original_message_starts_history():
    assert strip_quoted(OUTLOOK) == "Kindly dispatch today.\n"
    assert strip_quoted(OUTLOOK_NO_MARKER) == "Thanks, received.\n"


def test_forwarded_headers_go_but_the_forwarded_body_stays():
    kept = strip_quoted(FORWARD)
    assert "Neha Sood" not in kept and "SO/25-26/01111" not in kept
    assert "We need LABSA 10 drums." in kept
    assert kept.startswith("Please follow up.")


def test_mask_keeps_offsets():
    masked = mask_quoted(REPLY)
    assert len(masked) == len(REPLY)
    assert masked.count("\n") == REPLY.count("\n")
    assert masked.startswith("Please send 5 MT ZnO.")
    assert "Stearic" not in masked and "wrote" not in masked
    assert mask_quoted("no quotes here") == "no quotes here"


def test_extract_ignores_quoted_lines_unless_asked(extractor):
    labels = {e.label for e in extractor.extract(REPLY)}
    assert labels == {"QUANTITY", "PRODUCT"}
    with_quoted = extractor.extract(REPLY, include_quoted=True)
    assert {"PRICE", "GSTIN"} <= {e.label for e in with_quoted}
    stearic = next(e for e in with_quoted if e.value == "Stearic Acid")
    assert REPLY[stearic.start : stearic.end] == "Stearic Acid"


def test_forwarded_body_is_extracted(extractor):
    entities = extractor.extract(FORWARD)
    assert [(e.label, e.value) for e in entities] == [
        ("PRODUCT", "Linear Alkyl Benzene Sulphonic Acid"),
        ("QUANTITY", 2200.0),
    ]
