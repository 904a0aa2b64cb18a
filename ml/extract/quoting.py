"""Separate what the sender wrote from quoted history and forwarded headers.

Rules, in order of application:

* lines starting with `>` (after optional spaces) are quoted history;
* an attribution line such as `On Mon, 3 Nov 2025 at 10:02, Ravi <r@x.in> wrote:` (also when
  the mail client wrapped it over two lines) belongs to the history below it;
* `-----Original Message-----` starts reply history: it and everything after it is history;
* `---------- Forwarded message ---------` (and `Begin forwarded message:`) is followed by a
  block of header lines (`From:`, `Sent:`, `Date:`, `To:`, `Cc:`, `Subject:`); the marker and
  the header block are dropped, the forwarded body is kept because the sender passed it on to
  be acted upon (`keep_forwarded=False` drops it as history too);
* an Outlook reply header (a `From:` line followed by `Sent:`/`Date:` and `Subject:` lines
  without a marker) starts reply history like `-----Original Message-----`.
"""

from __future__ import annotations

import re

_QUOTE_LINE = re.compile(r"^[ \t]*>")
_ATTRIBUTION = re.compile(r"^[ \t]*On\b.{0,300}\bwrote:[ \t]*$", re.IGNORECASE)
_ATTRIBUTION_START = re.compile(r"^[ \t]*On\s+\S.{0,200}$", re.IGNORECASE)
_ATTRIBUTION_END = re.compile(r"^.{0,200}\bwrote:[ \t]*$", re.IGNORECASE)
_ORIGINAL = re.compile(r"^[ \t]*-{2,}\s*Original Message\s*-{2,}[ \t]*$", re.IGNORECASE)
_FORWARDED = re.compile(
    r"^[ \t]*(?:-{2,}\s*Forwarded message\s*-{2,}|Begin forwarded message:)[ \t]*$",
    re.IGNORECASE,
)
_HEADER = re.compile(r"^[ \t]*\*?(From|Sent|Date|To|Cc|Bcc|Subject|Reply-To)\*?:", re.IGNORECASE)


def _quoted_line_flags(lines: list[str], keep_forwarded: bool = True) -> list[bool]:
    """One flag per line: True where the line is quoted history or a forwarding header.

    With `keep_forwarded` False, a forwarded message's body counts as history too.
    """
    flags = [False] * len(lines)
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i].rstrip("\r\n")
        if _QUOTE_LINE.match(line):
            flags[i] = True
        elif _ORIGINAL.match(line):
            for j in range(i, n):
                flags[j] = True
            break
        elif _FORWARDED.match(line):
            if not keep_forwarded:
                for j in range(i, n):
                    flags[j] = True
                break
            flags[i] = True
            j = i + 1
            while j < n and not lines[j].strip():
                flags[j] = True
                j += 1
            while j < n and (_HEADER.match(lines[j]) or _is_header_continuation(lines, j)):
                flags[j] = True
                j += 1
            i = j
            continue
        elif _ATTRIBUTION.match(line):
            flags[i] = True
        elif (
            _ATTRIBUTION_START.match(line)
            and i + 1 < n
            and _ATTRIBUTION_END.match(lines[i + 1].rstrip("\r\n"))
            and not _ATTRIBUTION.match(lines[i + 1].rstrip("\r\n"))
            and _next_is_quoted(lines, i + 2)
        ):
            flags[i] = flags[i + 1] = True
            i += 2
            continue
        elif _is_outlook_header(lines, i):
            for j in range(i, n):
                flags[j] = True
            break
        i += 1
    return flags


def _is_header_continuation(lines: list[str], j: int) -> bool:
    """A wrapped header value (an indented line right after a header line)."""
    return j > 0 and lines[j][:1] in (" ", "\t") and bool(lines[j].strip())


def _next_is_quoted(lines: list[str], j: int) -> bool:
    while j < len(lines) and not lines[j].strip():
        j += 1
    return j < len(lines) and bool(_QUOTE_LINE.match(lines[j]))


def _is_outlook_header(lines: list[str], i: int) -> bool:
    """`From:` followed within four lines by `Sent:`/`Date:` and `Subject:` headers."""
    if not re.match(r"^[ \t]*\*?From\*?:", lines[i], re.IGNORECASE):
        return False
    window = lines[i + 1 : i + 6]
    names = {m.group(1).lower() for line in window if (m := _HEADER.match(line))}
    return ("sent" in names or "date" in names) and "subject" in names


def mask_quoted(text: str, keep_forwarded: bool = True) -> str:
    """`text` with quoted history and forwarding headers blanked out by spaces.

    The result has the same length and line breaks as `text`, so character offsets found in
    it are offsets into `text`.
    """
    if ">" not in text and ":" not in text and "--" not in text:
        return text
    lines = text.splitlines(keepends=True)
    flags = _quoted_line_flags(lines, keep_forwarded)
    if not any(flags):
        return text
    out: list[str] = []
    for line, quoted in zip(lines, flags, strict=True):
        if quoted:
            body = line.rstrip("\r\n")
            out.append(" " * len(body) + line[len(body) :])
        else:
            out.append(line)
    return "".join(out)


def strip_quoted(text: str, keep_forwarded: bool = True) -> str:
    """What the sender wrote: `text` without quoted history lines and forwarding headers.

    A forwarded message's body is kept (the sender passed it on to be acted upon) unless
    `keep_forwarded` is False.
    """
    lines = text.splitlines(keepends=True)
    flags = _quoted_line_flags(lines, keep_forwarded)
    kept = "".join(line for line, quoted in zip(lines, flags, strict=True) if not quoted)
    return kept.rstrip() + ("\n" if text.endswith("\n") and kept.strip() else "")
