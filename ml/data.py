"""Labelled emails for training and evaluation: the demo world, the hand-written set and
human corrections, all turned into one shape (:class:`LabelledEmail`)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from ml.taxonomy import check_label

_MAX_MESSAGE_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class LabelledEmail:
    """One email with its true labels.

    `thread` (the first message id of its conversation) and `template` (the id of the
    phrasing a generator wrote it from) group emails that must stay on one side of a
    held-out split; empty when unknown.
    """

    key: str
    subject: str
    body: str
    stream: str
    intent: str
    sender: str = ""
    source: str = "world"
    thread: str = ""
    template: str = ""


#: What each hand-written set measures, by the metrics key it is reported under.
EVAL_SET_MEASURES: dict[str, str] = {
    "handwritten": (
        "generalisation to hand-written mail the code has never seen "
        "(tests/data/eval/handwritten_v2.jsonl)"
    ),
    "handwritten_v1": (
        "regression only: the frozen v1 set leaked into the product alias list and bench "
        "settings, so it does not measure generalisation (tests/data/eval/handwritten_v1.jsonl)"
    ),
}


class DataError(ValueError):
    """Training or evaluation data that cannot be used as given."""


def message_text(raw: bytes) -> tuple[str, str, str]:
    """(subject, sender, plain-text body) of a raw RFC 822 message.

    Undecodable charsets fall back to a replacement decode; an HTML-only message is
    reduced to its text.
    """
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    return _subject_sender_body(msg)


def _subject_sender_body(msg: EmailMessage) -> tuple[str, str, str]:
    subject = str(msg.get("subject", "") or "")
    sender = str(msg.get("from", "") or "")
    return subject, sender, _body_text(msg)


_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


def thread_root(msg: EmailMessage, fallback: str = "") -> str:
    """The conversation a message belongs to: the first id in References, else In-Reply-To,
    else its own Message-ID (else `fallback`). Replies and follow-ups share their root."""
    for header in ("references", "in-reply-to", "message-id"):
        found = _MESSAGE_ID.findall(str(msg.get(header, "") or ""))
        if found:
            return found[0]
    return fallback


def _body_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        text = part.get_content()
    except (LookupError, ValueError):
        payload = part.get_payload(decode=True) or b""
        text = payload.decode("utf-8", errors="replace")
    if part.get_content_type() == "text/html":
        from bs4 import BeautifulSoup

        text = BeautifulSoup(text, "html.parser").get_text("\n")
    return str(text)


def _resolve_inside(root: Path, relative: str) -> Path:
    """`root / relative`, refusing anything that escapes `root`."""
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root):
        raise DataError(f"truth file names a path outside the world: {relative!r}")
    return candidate


def _message_path(world: Path, record: dict) -> Path:
    name = str(record.get("file") or "")
    if not name:
        raise DataError(f"truth record {record.get('message_id')!r} has no file")
    mailbox = str(record.get("mailbox") or "")
    candidates = [world, world / "mail", world / "mail" / "maildir"]
    if mailbox:
        candidates.append(world / "mail" / "maildir" / mailbox)
    for base in candidates:
        path = _resolve_inside(world, str(base.relative_to(world) / name))
        if path.is_file():
            return path
    raise DataError(f"message file {name!r} of {record.get('message_id')!r} not found in {world}")


def _resolve_threads(examples: list[LabelledEmail]) -> list[LabelledEmail]:
    """Threads followed through the corpus: a message whose root is another message of the
    corpus (an auto-reply to our reply) joins that message's thread."""
    thread_of = {e.key: e.thread for e in examples}
    resolved = []
    for e in examples:
        root, hops = e.thread, 0
        while root in thread_of and thread_of[root] != root and hops < 50:
            root, hops = thread_of[root], hops + 1
        resolved.append(e if root == e.thread else replace(e, thread=root))
    return resolved


def load_world_examples(world: Path | str) -> list[LabelledEmail]:
    """Every labelled message of a generated demo world (`mail/truth.jsonl` + its Maildir)."""
    world = Path(world).resolve()
    truth = world / "mail" / "truth.jsonl"
    if not truth.is_file():
        raise DataError(f"no demo world at {world} (missing mail/truth.jsonl)")
    examples: list[LabelledEmail] = []
    with open(truth, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            stream, intent = record.get("stream"), record.get("intent")
            try:
                check_label(stream, intent)
            except ValueError as exc:
                raise DataError(f"{truth}:{lineno}: {exc}") from None
            path = _message_path(world, record)
            if path.stat().st_size > _MAX_MESSAGE_BYTES:
                continue  # an oversized message says nothing a classifier can use
            msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            subject, sender, body = _subject_sender_body(msg)
            key = str(record.get("message_id") or path.name)
            examples.append(
                LabelledEmail(
                    key=key,
                    subject=subject,
                    body=body,
                    stream=stream,
                    intent=intent,
                    sender=sender,
                    source="world",
                    thread=thread_root(msg, key),
                    template=str(record.get("template") or ""),
                )
            )
    return _resolve_threads(examples)


def load_jsonl_examples(path: Path | str, source: str = "handwritten") -> list[LabelledEmail]:
    """Labelled emails from JSON Lines `{"id", "from"?, "subject", "body", "stream", "intent"}`."""
    path = Path(path)
    examples: list[LabelledEmail] = []
    for lineno, record in _jsonl(path):
        try:
            check_label(record.get("stream"), record.get("intent"))
        except ValueError as exc:
            raise DataError(f"{path}:{lineno}: {exc}") from None
        examples.append(
            LabelledEmail(
                key=str(record.get("id", f"{path.name}:{lineno}")),
                subject=str(record.get("subject") or ""),
                body=str(record.get("body") or ""),
                stream=record["stream"],
                intent=record["intent"],
                sender=str(record.get("from") or ""),
                source=source,
            )
        )
    return examples


def load_eval_sets(paths: Mapping[str, Path | str]) -> dict[str, list[LabelledEmail]]:
    """The hand-written sets that exist among `paths` (metrics key -> file), loaded."""
    return {name: load_jsonl_examples(path) for name, path in paths.items() if Path(path).is_file()}


def corrections_to_examples(corrections: Iterable[tuple[str, str, str]]) -> list[LabelledEmail]:
    """Human corrections `(text, stream, intent)` as labelled emails (text is the body)."""
    examples = []
    for n, (text, stream, intent) in enumerate(corrections):
        check_label(stream, intent)
        examples.append(
            LabelledEmail(
                key=f"correction:{n}",
                subject="",
                body=text,
                stream=stream,
                intent=intent,
                source="correction",
            )
        )
    return examples


def load_corrections(path: Path | str) -> list[tuple[str, str, str]]:
    """Human corrections from JSON Lines `{"text", "stream", "intent"}` as triples."""
    path = Path(path)
    triples = []
    for lineno, record in _jsonl(path):
        text, stream, intent = record.get("text"), record.get("stream"), record.get("intent")
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{path}:{lineno}: 'text' must be a non-empty string")
        try:
            check_label(stream, intent)
        except ValueError as exc:
            raise DataError(f"{path}:{lineno}: {exc}") from None
        triples.append((text, stream, intent))
    return triples


def _jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise DataError(f"{path}:{lineno}: expected a JSON object")
            yield lineno, record
