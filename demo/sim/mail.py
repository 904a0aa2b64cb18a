"""Deliver the demo world's mail over time, as if customers kept writing during a demo.

Messages come from the world's Maildirs (``mail/maildir/<mailbox>/{new,cur}``), in the
order of their Date headers, and go to

- a drop folder laid out as one Maildir per mailbox (``<drop>/<mailbox>/new``), each file
  written to ``tmp/`` first and renamed into ``new/`` so a loader never sees half a file;
- an IMAP server via APPEND (when IMAP settings are given).

What was delivered is appended to a per-target state file, so a restart continues where
it stopped instead of delivering everything again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class WorldMessage:
    """One message of the demo world: its mailbox, file and send time."""

    mailbox: str
    path: Path
    sent_at: datetime

    @property
    def delivery_id(self) -> str:
        """Stable identity of this message within the world (mailbox/file name)."""
        return f"{self.mailbox}/{base_name(self.path.name)}"


def base_name(maildir_name: str) -> str:
    """A Maildir file name without its ``:2,FLAGS`` info part, reduced to safe characters."""
    name = maildir_name.split(":", 1)[0]
    return _SAFE_NAME.sub("_", name).strip("._") or hashlib.sha256(name.encode()).hexdigest()


def _sent_at(path: Path) -> datetime:
    try:
        with path.open("rb") as handle:
            headers = BytesHeaderParser().parse(handle)
        value = parsedate_to_datetime(str(headers.get("Date", "")))
    except (OSError, TypeError, ValueError, IndexError):
        return _EPOCH
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def world_messages(world: Path) -> list[WorldMessage]:
    """Every message of the world's Maildirs, oldest first (ties by mailbox and file)."""
    root = world / "mail" / "maildir"
    if not root.is_dir():
        raise FileNotFoundError(f"no Maildirs in {root}: generate the demo world first")
    found: list[WorldMessage] = []
    for box in sorted(p for p in root.iterdir() if p.is_dir()):
        for sub in ("new", "cur"):
            folder = box / sub
            if not folder.is_dir():
                continue
            for path in sorted(folder.iterdir()):
                if path.is_file() and not path.name.startswith("."):
                    found.append(WorldMessage(box.name, path, _sent_at(path)))
    found.sort(key=lambda m: (m.sent_at, m.mailbox, m.path.name))
    return found


class Target(Protocol):
    """Somewhere a message can be delivered to."""

    name: str

    def deliver(self, message: WorldMessage, raw: bytes) -> None: ...

    def close(self) -> None: ...


class DropFolderTarget:
    """A folder of Maildirs, one per mailbox; writes are atomic (tmp, then rename)."""

    def __init__(self, drop: Path) -> None:
        self.drop = drop
        self.name = "drop-" + hashlib.sha256(str(drop.resolve()).encode()).hexdigest()[:16]

    def deliver(self, message: WorldMessage, raw: bytes) -> None:
        box = self.drop / base_name(message.mailbox)
        for sub in ("tmp", "new", "cur"):
            (box / sub).mkdir(parents=True, exist_ok=True)
        name = base_name(message.path.name)
        tmp = box / "tmp" / f"{name}.{os.getpid()}"
        with tmp.open("wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, box / "new" / name)

    def close(self) -> None:
        return None


class ImapTarget:
    """An IMAP account; messages are APPENDed unread with their Date as internal date."""

    def __init__(self, settings, folder_template: str = "INBOX") -> None:  # noqa: ANN001
        from ingest.mail.client import connect

        self.settings = settings
        self.folder_template = folder_template
        self.client = connect(settings)
        self.created: set[str] = set()
        account = f"{settings.imap_user}@{settings.imap_host}:{settings.port}"
        self.name = "imap-" + hashlib.sha256(account.encode()).hexdigest()[:16]

    def _folder(self, mailbox: str) -> str:
        from ingest.mail.client import quote_folder

        folder = self.folder_template.format(mailbox=mailbox)
        if folder.upper() != "INBOX" and folder not in self.created:
            self.client.create(quote_folder(folder))  # "already exists" is fine
            self.created.add(folder)
        return quote_folder(folder)

    def deliver(self, message: WorldMessage, raw: bytes) -> None:
        import imaplib

        from ingest.mail.client import ImapError

        internal = imaplib.Time2Internaldate(message.sent_at) if message.sent_at > _EPOCH else None
        typ, data = self.client.append(self._folder(message.mailbox), None, internal, raw)
        if typ != "OK":
            raise ImapError(f"APPEND failed: {data!r}")

    def close(self) -> None:
        try:
            self.client.logout()
        except Exception:  # noqa: BLE001 - the connection may already be gone
            pass


@dataclass
class DeliveryState:
    """Delivery ids already delivered to one target (an append-only log file)."""

    path: Path
    delivered: set[str] = field(default_factory=set)

    @classmethod
    def open(cls, state_dir: Path, target: str) -> DeliveryState:
        path = state_dir / f"{target}.log"
        delivered: set[str] = set()
        if path.exists():
            delivered = {line.strip() for line in path.read_text("utf-8").splitlines() if line}
        return cls(path, delivered)

    def record(self, delivery_id: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(delivery_id + "\n")
        self.delivered.add(delivery_id)


@dataclass
class DeliveryReport:
    """What one run delivered, per target."""

    total: int = 0
    delivered: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)


def plan(
    messages: list[WorldMessage], start_fraction: float
) -> Iterator[tuple[WorldMessage, bool]]:
    """(message, at_once) pairs: the first ``start_fraction`` come at once, the rest paced."""
    at_once = int(len(messages) * min(max(start_fraction, 0.0), 1.0))
    for index, message in enumerate(messages):
        yield message, index < at_once


def deliver(
    world: Path,
    targets: list[Target],
    *,
    state_dir: Path,
    rate: float = 1.0,
    limit: int | None = None,
    start_fraction: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
    on_delivered: Callable[[WorldMessage], None] | None = None,
) -> DeliveryReport:
    """Deliver the world's mail to every target, skipping what each already received.

    ``rate`` is messages per second after the initial ``start_fraction``; ``limit`` caps
    how many messages this run delivers (per target).
    """
    messages = world_messages(world)
    states = {t.name: DeliveryState.open(state_dir, t.name) for t in targets}
    report = DeliveryReport(total=len(messages))
    interval = 1.0 / rate if rate > 0 else 0.0
    next_due = time.monotonic()
    count = 0
    for message, at_once in plan(messages, start_fraction):
        pending = [t for t in targets if message.delivery_id not in states[t.name].delivered]
        if not pending:
            for t in targets:
                report.skipped[t.name] = report.skipped.get(t.name, 0) + 1
            continue
        if limit is not None and count >= limit:
            break
        if not at_once and interval:
            delay = next_due - time.monotonic()
            if delay > 0:
                sleep(delay)
            next_due = max(next_due, time.monotonic()) + interval
        raw = message.path.read_bytes()
        for target in pending:
            target.deliver(message, raw)
            states[target.name].record(message.delivery_id)
            report.delivered[target.name] = report.delivered.get(target.name, 0) + 1
        count += 1
        if on_delivered is not None:
            on_delivered(message)
    return report


def run_cli(
    *,
    drop: Path | None,
    imap: bool | None,
    imap_folder: str,
    rate: float,
    limit: int | None,
    start_fraction: float,
    world: Path | None,
    state_dir: Path | None,
) -> int:
    """Body of ``pebble sim mail``; returns the exit code."""
    import json

    import typer

    from ingest.mail.client import ImapError
    from ingest.mail.settings import MailSettings
    from pebble.settings import get_settings

    settings = get_settings()
    mail_settings = MailSettings()
    use_imap = mail_settings.imap_configured if imap is None else imap
    if use_imap and not mail_settings.imap_configured:
        typer.echo(
            "error: --imap needs MAIL_IMAP_HOST, MAIL_IMAP_USER, MAIL_IMAP_PASSWORD", err=True
        )
        return 2
    targets: list[Target] = [DropFolderTarget(drop or settings.mail_drops)]
    try:
        if use_imap:
            targets.append(ImapTarget(mail_settings, imap_folder))
        report = deliver(
            world or settings.world,
            targets,
            state_dir=state_dir or settings.home / "sim" / "mail",
            rate=rate,
            limit=limit,
            start_fraction=start_fraction,
            on_delivered=lambda m: log.info("delivered %s", m.delivery_id),
        )
    except (FileNotFoundError, ImapError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        for target in targets:
            target.close()
    typer.echo(
        json.dumps(
            {"total": report.total, "delivered": report.delivered, "skipped": report.skipped}
        )
    )
    return 0
