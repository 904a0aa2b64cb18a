"""Drop folders watched by sensors (mail, prelead): what is new, what has settled, what a
run handled, and what a run may read at all; plus the guard every automation shares (no
new run while a `pebble materialize` is landing the same sources).

The ledger ``ops.drop_files`` (migration 0004) is the memory of the drop sensors, not a
cursor: a file (path, size, SHA-256) is done when a run handled those bytes with outcome
``success`` or refused it. So a file moved in with an old mtime, files sharing an mtime
beyond the per-run cap, and the files of a failed run are all offered again. A file is
offered only once its size and times have stayed the same across two sensor ticks at
least ``PEBBLE_DROP_SETTLE_S`` apart (a file still being written is left alone), and
only files that need it are hashed (an unchanged size and mtime of a handled file is
enough to skip it).

Runs read only inside their drop root: every path a run is given (by the sensor or in the
launch form) is normalised without following links and refused, into ``raw.rejects``, if
it leaves the root or passes through a symbolic link (:func:`confine`).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The loaders' word for a link they did not follow (ingest/mail/client.py, prelead/sync.py).
LINK_REFUSED = "symbolic link not followed"
#: Tag on the runs a drop sensor starts; how a sensor finds its own runs.
TRIGGER_TAG = "pebble/trigger"
#: Outcomes after which a file (these bytes at this path) is not offered again.
DONE = ("success", "refused")
#: Pending files the sensor's cursor remembers, as a multiple of ``max_files``.
OBSERVED_MAX_FACTOR = 4
#: Dagster run states of a run that is still to finish.
UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


class DropSettings(BaseSettings):
    """How the drop sensors pace themselves (``PEBBLE_DROP_*``)."""

    model_config = SettingsConfigDict(env_prefix="PEBBLE_DROP_", env_file=".env", extra="ignore")

    #: A file is offered once its size and times have not changed for this long (seen on
    #: two ticks at least this far apart), so a file still being written is not read.
    settle_s: float = Field(default=10.0, ge=0)
    #: At most this many files go to one run; the next tick offers the rest.
    max_files: int = Field(default=5000, ge=1)


# --- scanning -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DropFile:
    """One entry of a drop folder as ``lstat`` sees it (links are never followed)."""

    path: str
    size: int
    mtime_ns: int
    ctime_ns: int
    is_link: bool

    def observation(self) -> list[int]:
        return [self.size, self.mtime_ns, self.ctime_ns]


def _entry(path: Path) -> DropFile | None:
    try:
        st = path.lstat()
    except OSError:
        return None  # moved away between listing and stat
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        return None
    return DropFile(str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, stat.S_ISLNK(st.st_mode))


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() and (path / "new").is_dir()


def scan(
    folder: Path, *, suffixes: tuple[str, ...] | None = None, recursive: bool = True
) -> list[DropFile]:
    """Regular files and symbolic links under ``folder`` (links reported, never entered),
    sorted by (mtime, path). Hidden files, Maildir ``tmp/`` (mail still being delivered)
    and hidden folders other than Maildir++ sub-folders of a Maildir are left out."""
    found: list[DropFile] = []
    if not folder.is_dir() or folder.is_symlink():
        return found
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        maildir = _is_maildir(here)
        kept: list[str] = []
        for name in dirs:
            child = here / name
            if child.is_symlink():
                files.append(name)  # reported as a link; os.walk would not enter it anyway
            elif maildir and name == "tmp":
                continue
            elif name.startswith(".") and not (maildir and _is_maildir(child)):
                continue
            elif recursive:
                kept.append(name)
        dirs[:] = kept
        for name in files:
            if name.startswith("."):
                continue
            if suffixes and Path(name).suffix.lower() not in suffixes:
                continue
            entry = _entry(here / name)
            if entry is not None:
                found.append(entry)
    found.sort(key=lambda f: (f.mtime_ns, f.path))
    return found


def content_digest(entry: DropFile) -> str:
    """SHA-256 of the file's bytes; of ``symlink:<target>`` for a link (never followed)."""
    if entry.is_link:
        try:
            target = os.readlink(entry.path)
        except OSError:
            target = ""
        return hashlib.sha256(f"symlink:{target}".encode()).hexdigest()
    digest = hashlib.sha256()
    fd = os.open(entry.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- the ledger -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LedgerRow:
    path: str
    sha256: str
    size: int | None
    mtime_ns: int | None
    outcome: str
    run_id: str | None


def ledger_rows(
    conn: psycopg.Connection, source: str, paths: list[str]
) -> dict[str, list[LedgerRow]]:
    """The ledger rows of these paths (every content each has had)."""
    rows: dict[str, list[LedgerRow]] = {}
    if not paths:
        return rows
    cur = conn.execute(
        "SELECT path, sha256, size_bytes, mtime_ns, outcome, run_id FROM ops.drop_files"
        " WHERE source = %s AND path = ANY(%s)",
        (source, paths),
    )
    for row in cur:
        rows.setdefault(row[0], []).append(LedgerRow(*row))
    return rows


_UPSERT = """
INSERT INTO ops.drop_files AS d (source, path, sha256, size_bytes, mtime_ns, run_id, outcome,
                                 reason, handled_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, CASE WHEN %s = 'running' THEN NULL ELSE now() END)
ON CONFLICT (source, path, sha256) DO UPDATE
   SET size_bytes = EXCLUDED.size_bytes, mtime_ns = EXCLUDED.mtime_ns,
       run_id = EXCLUDED.run_id, outcome = EXCLUDED.outcome, reason = EXCLUDED.reason,
       handled_at = EXCLUDED.handled_at
"""


def record_files(
    conn: psycopg.Connection,
    source: str,
    files: Iterable[tuple[DropFile, str]],
    *,
    run_id: str | None,
    outcome: str,
    reason: str | None = None,
) -> None:
    """Write the outcome of (file, sha256) pairs, in one transaction."""
    params = [
        (source, f.path, sha, f.size, f.mtime_ns, run_id, outcome, reason, outcome)
        for f, sha in files
    ]
    if not params:
        return
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(_UPSERT, params)


def _touch(conn: psycopg.Connection, source: str, entry: DropFile, sha: str) -> None:
    """A handled file whose times changed but bytes did not: remember the new times, so
    the next tick skips it without hashing."""
    conn.execute(
        "UPDATE ops.drop_files SET size_bytes = %s, mtime_ns = %s"
        " WHERE source = %s AND path = %s AND sha256 = %s",
        (entry.size, entry.mtime_ns, source, entry.path, sha),
    )


def _handled_unchanged(entry: DropFile, rows: list[LedgerRow]) -> bool:
    return any(
        r.outcome in DONE and r.size == entry.size and r.mtime_ns == entry.mtime_ns for r in rows
    )


# --- the sensor -----------------------------------------------------------------------------


@dataclass(slots=True)
class Offer:
    """What one sensor tick decided."""

    files: list[tuple[DropFile, str]]
    waiting: int
    seen: dict[str, list[float]]


def plan_offer(
    conn: psycopg.Connection,
    source: str,
    entries: list[DropFile],
    seen: dict[str, list[float]],
    *,
    now: float,
    settings: DropSettings,
) -> Offer:
    """Files to hand to a run: not done per the ledger, settled, at most ``max_files``.

    ``seen`` maps a path to the ``[size, mtime_ns, ctime_ns, first_seen_s]`` observed on
    earlier ticks; the returned ``seen`` is the next tick's (pending files only)."""
    ledger = ledger_rows(conn, source, [e.path for e in entries])
    offered: list[tuple[DropFile, str]] = []
    next_seen: dict[str, list[float]] = {}
    waiting = 0
    for entry in entries:
        rows = ledger.get(entry.path, [])
        if _handled_unchanged(entry, rows):
            continue
        before = seen.get(entry.path)
        if before is None and len(next_seen) >= OBSERVED_MAX_FACTOR * settings.max_files:
            waiting += 1  # keeps the cursor small; observed once the others have gone
            continue
        if before is None or list(before[:3]) != entry.observation():
            next_seen[entry.path] = [*entry.observation(), now]  # new or still changing
            waiting += 1
            continue
        next_seen[entry.path] = before
        if now - before[3] < settings.settle_s or len(offered) >= settings.max_files:
            waiting += 1
            continue
        try:
            sha = content_digest(entry)
        except OSError:
            continue  # gone, or turned into a link, since the scan: the next tick sees it
        if any(r.sha256 == sha and r.outcome in DONE for r in rows):
            _touch(conn, source, entry, sha)
            continue
        offered.append((entry, sha))
    return Offer(offered, waiting, next_seen)


def last_sensor_run(context: dg.SensorEvaluationContext, trigger: str) -> dg.DagsterRun | None:
    runs = context.instance.get_runs(filters=dg.RunsFilter(tags={TRIGGER_TAG: trigger}), limit=1)
    return runs[0] if runs else None


def unfinished_sensor_run(
    context: dg.SensorEvaluationContext, trigger: str
) -> dg.DagsterRun | None:
    runs = context.instance.get_runs(
        filters=dg.RunsFilter(tags={TRIGGER_TAG: trigger}, statuses=UNFINISHED), limit=1
    )
    return runs[0] if runs else None


def drop_tick(
    context: dg.SensorEvaluationContext,
    *,
    source: str,
    folder: Path,
    warehouse: Any,
    run_config: Callable[[list[str]], dg.RunConfig],
    suffixes: tuple[str, ...] | None = None,
) -> dg.SensorResult | dg.SkipReason:
    """One tick of a drop sensor: a run request for the settled files not yet handled.

    While a run this sensor started is unfinished, nothing else is offered (its files are
    not done yet). The run key names the sensor's previous run, so files a failed or
    cancelled run left undone are requested again under a new key."""
    if skip := busy():
        return skip
    trigger = f"{source}_drop_sensor"
    if pending := unfinished_sensor_run(context, trigger):
        return dg.SkipReason(f"waiting for run {pending.run_id} to finish")
    cursor = json.loads(context.cursor) if context.cursor else {}
    seen = cursor.get("seen", {}) if isinstance(cursor, dict) else {}
    entries = scan(folder, suffixes=suffixes)
    with warehouse.connection() as conn:
        offer = plan_offer(conn, source, entries, seen, now=time.time(), settings=DropSettings())
    next_cursor = json.dumps({"seen": offer.seen}, separators=(",", ":"))
    if not offer.files:
        reason = (
            f"{offer.waiting} file(s) in {folder} waiting to settle"
            if offer.waiting
            else f"nothing new in {folder}"
        )
        return dg.SensorResult(skip_reason=dg.SkipReason(reason), cursor=next_cursor)
    previous = last_sensor_run(context, trigger)
    digest = hashlib.sha256(
        "\n".join(f"{f.path}\0{sha}" for f, sha in offer.files).encode()
    ).hexdigest()[:16]
    request = dg.RunRequest(
        run_key=f"{source}-drop:{previous.run_id if previous else 'first'}:{digest}",
        run_config=run_config([f.path for f, _ in offer.files]),
        tags={TRIGGER_TAG: trigger},
    )
    return dg.SensorResult(run_requests=[request], cursor=next_cursor)


def busy() -> dg.SkipReason | None:
    """A reason to skip this tick while a materialisation of every source is running (the
    first run of `pebble up`, or a `pebble materialize`): it lands the same folders and
    servers, and the next tick after it picks up whatever is still new."""
    from pebble.status import read_status

    status = read_status()
    if status is not None and status.running:
        return dg.SkipReason(
            f"waiting for materialisation {status.run_id or ''} (pid {status.pid}) to finish"
        )
    return None


# --- what a run may read --------------------------------------------------------------------


def confine(path: str | Path, root: Path) -> tuple[Path | None, str | None]:
    """``path`` (relative ones are taken from ``root``) as a path inside ``root`` that
    passes through no symbolic link, or None and the reason it is refused.

    The path is normalised lexically (``..`` removed without asking the file system), so a
    link can neither be followed nor used to climb out; a link anywhere below the root,
    the last component included, is refused rather than read."""
    given = Path(path)
    candidate = Path(os.path.normpath(given if given.is_absolute() else root / given))
    try:
        relative = candidate.relative_to(root)
    except ValueError:
        return None, f"outside the drop folder {root}"
    current = root
    for part in relative.parts:
        current = current / part
        if current.is_symlink():
            return None, LINK_REFUSED
    if not Path(os.path.realpath(candidate)).is_relative_to(root):
        return None, f"outside the drop folder {root}"
    return candidate, None


def refuse(
    conn: psycopg.Connection, source: str, path: str, reason: str, root: Path, run_id: str | None
) -> dict[str, str]:
    """Record a refused path in ``raw.rejects`` (no payload: nothing was read) and, when it
    lies in the drop folder, in the ledger (so the sensor does not offer it again)."""
    from ingest.common.rejects import record_reject

    with conn.transaction():
        reject = record_reject(
            conn,
            source=source,
            source_kind="path",
            locator=str(path),
            reason=reason,
            payload=None,
            run_id=run_id,
        )
    candidate = Path(os.path.normpath(Path(path) if Path(path).is_absolute() else root / path))
    entry = _entry(candidate) if candidate.is_relative_to(root) else None
    if entry is not None and entry.is_link:  # a link the sensor offers: done once refused
        record_files(
            conn,
            source,
            [(entry, content_digest(entry))],
            run_id=run_id,
            outcome="refused",
            reason=reason,
        )
    return reject.as_dict()


@dataclass(slots=True)
class DropRun:
    """What a landing run may load from a drop folder, and the files its ledger covers."""

    paths: list[Path] | None
    files: list[tuple[DropFile, str]]
    rejects: list[dict[str, str]]


def prepare_run(
    conn: psycopg.Connection,
    *,
    source: str,
    root: Path,
    paths: list[str],
    run_id: str | None,
    listing: Callable[[Path], list[DropFile]],
) -> DropRun:
    """Confine ``paths`` to ``root`` (refusals recorded) and mark the files they hold
    ``running`` in the ledger. No paths means the whole drop folder (``paths`` None for
    the loader); ``listing`` lists the files a folder load covers."""
    rejects: list[dict[str, str]] = []
    allowed: list[Path] = []
    for given in paths:
        confined, reason = confine(given, root)
        if confined is None:
            rejects.append(refuse(conn, source, given, reason or "refused", root, run_id))
        else:
            allowed.append(confined)
    covered: list[DropFile] = []
    links: list[DropFile] = []
    for folder_or_file in allowed if paths else [root]:
        if folder_or_file.is_dir():
            for entry in listing(folder_or_file):
                (links if entry.is_link else covered).append(entry)
        elif (entry := _entry(folder_or_file)) is not None and not entry.is_link:
            covered.append(entry)
    # links inside a folder load are refused (and recorded) by the loader as it walks
    record_files(
        conn,
        source,
        [(entry, content_digest(entry)) for entry in links],
        run_id=run_id,
        outcome="refused",
        reason=LINK_REFUSED,
    )
    ledger = ledger_rows(conn, source, [e.path for e in covered])
    files: list[tuple[DropFile, str]] = []
    for entry in covered:
        if _handled_unchanged(entry, ledger.get(entry.path, [])):
            continue  # a whole-folder load: handled before, its row stays as it is
        try:
            files.append((entry, content_digest(entry)))
        except OSError:
            continue  # gone since listing: the loader reports it as not found
    record_files(conn, source, files, run_id=run_id, outcome="running")
    return DropRun(allowed if paths else None, files, rejects)


@contextmanager
def ledger_outcome(
    conn: psycopg.Connection, source: str, run: DropRun, run_id: str | None
) -> Iterator[None]:
    """Mark the run's files ``success`` when the block ends, ``failed`` (offered again) when
    it raises. A failure to write ``failed`` (the database gone) leaves them ``running``,
    which the sensor also offers again once the run is over."""
    try:
        yield
    except BaseException as exc:
        try:
            record_files(
                conn,
                source,
                run.files,
                run_id=run_id,
                outcome="failed",
                reason=f"{type(exc).__name__}: {exc}"[:500],
            )
        except psycopg.Error:
            pass
        raise
    record_files(conn, source, run.files, run_id=run_id, outcome="success")


# --- retries --------------------------------------------------------------------------------

#: Errors worth another attempt: the warehouse restarting or a dropped connection,
#: a serialisation failure or deadlock (psycopg's TransactionRollback), a network timeout.
TRANSIENT: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    ConnectionError,
    TimeoutError,
)


def transient_only(
    sync: Callable[..., Any], passthrough: tuple[type[BaseException], ...] = ()
) -> Callable[..., Any]:
    """``sync`` whose non-transient errors fail the asset at once (a Dagster failure that
    the landing's retry policy does not retry): re-reading the same bad input or hitting
    the same bug again only delays the failure. ``passthrough`` errors (a connector's
    typed errors) reach the landing factory as they are."""

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return sync(*args, **kwargs)
        except (*TRANSIENT, *passthrough, dg.Failure):
            raise
        except Exception as exc:
            raise dg.Failure(
                description=f"{type(exc).__name__}: {exc}"[:2000], allow_retries=False
            ) from exc

    return wrapped
