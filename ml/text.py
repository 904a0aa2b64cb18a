"""Email text as the models see it: subject and the new part of the body.

Replies carry the whole thread below the new text, and signatures carry disclaimers;
both drown the few words that say what the sender wants, so they are trimmed first.
Quoted history is recognised by the extractor's rules (`ml.extract.quoting`), so both
models agree on what the sender wrote.
"""

from __future__ import annotations

import re

from ml.extract.quoting import strip_quoted

# "-- " is the RFC 3676 signature separator; the rest are the sign-offs Indian business
# mail uses before a name/designation/phone block.
_SIGNATURE_START = re.compile(
    r"""^\s*(?:
        --\s*$
      | (?:thanks\s*(?:&|and)\s*)?(?:best\s+|warm\s+|kind\s+|with\s+)?regards?\b.{0,20}$
      | thanks\s*(?:&|and)\s*regards.{0,20}$
      | yours\s+(?:faithfully|sincerely|truly)\b.{0,20}$
      | disclaimer\s*:
      | sent\s+from\s+(?:my\s+)?\w+
      | get\s+outlook\s+for\s+\w+
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def strip_signature(body: str) -> str:
    """The body up to its sign-off or signature separator (the whole body if it has none)."""
    lines = body.split("\n")
    for i, line in enumerate(lines):
        if i > 0 and _SIGNATURE_START.match(line):
            return "\n".join(lines[:i]).strip()
    return body.strip()


def _tidy(text: str) -> str:
    text = _SPACES.sub(" ", text)
    return _BLANK_LINES.sub("\n\n", text).strip()


def classification_text(subject: str | None, body: str | None) -> str:
    """Subject and the new, unsigned part of the body: the classifier's and embedder's input."""
    subject = (subject or "").strip()
    content = strip_signature(strip_quoted(body or ""))
    return _tidy(f"{subject}\n{content}" if subject else content)


def extraction_text(subject: str | None, body: str | None) -> str:
    """Subject and the whole body, as the extractor expects: it blanks quoted history itself
    (keeping offsets) and signatures stay, since they carry GSTIN, PAN and CIN."""
    subject = (subject or "").strip()
    return f"{subject}\n{body or ''}" if subject else (body or "")
