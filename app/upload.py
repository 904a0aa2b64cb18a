"""Mail uploaded in the app (.eml, Outlook .msg) goes through the same loader as everything
else: the files are written into the mail drop folder, under ``uploads/<user>/``, and the
mail drop sensor (orchestration/defs/mail/automation.py) lands them like any dropped file:
the same accounting (every message stored, a duplicate, or quarantined in raw.rejects with
the reason), the same dedup (the email key is the SHA-256 of the file's bytes, so the same
mail uploaded twice is a duplicate), the .msg reader of ``ingest.mail.msg``.

Why not land them here: the app's database role (``pebble_app``) reads and appends events;
it cannot write ``raw.*``. So the app only queues the bytes (written to a hidden temporary
file in the same folder, then renamed, so the sensor never sees half a file) and follows
them in the drop ledger ``ops.drop_files``, which the app may read:

- no ledger row yet: queued (the sensor offers a file once it has not changed for
  ``PEBBLE_DROP_SETTLE_S`` seconds, on ticks 30 s apart);
- ``running``: landing; ``failed``: offered again; ``refused``: with the ledger's reason;
- ``success``: the file was handled. Landed when ``staging.stg_mail__emails`` holds its key
  (a duplicate when that row landed before the run took this file), quarantined when
  ``staging.stg_ingest__rejects`` holds its path (with the reason).

The card appears after that landing, when the landing run has rebuilt the cards. The
functions without Streamlit (:func:`queue_uploads`, :func:`upload_status`) are tested directly;
:func:`render_upload` is the widget the Kanban shows.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import psycopg

from pebble.auth import User, require

#: Who may upload mail: the people who work the cards.
UPLOAD_ROLES: tuple[str, ...] = ("sales", "ops")
#: What the uploader accepts (the loader also reads mbox and Maildir; the app takes mail files).
UPLOAD_SUFFIXES: tuple[str, ...] = (".eml", ".msg")
#: The drop folder's sub-folder for uploads: ``uploads/<user>/``.
UPLOADS = "uploads"
STATUS_COLUMNS: tuple[str, ...] = ("file", "state", "detail")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Queued:
    """One uploaded file: where it was queued (``path`` None when refused at once)."""

    name: str
    path: str | None
    sha256: str
    size: int
    queued_at: datetime
    refused: str | None = None


@dataclass(frozen=True)
class UploadStatus:
    name: str
    state: str
    detail: str


def _safe(text: str, fallback: str, limit: int = 80) -> str:
    cleaned = _UNSAFE.sub("-", text).strip("-.")[:limit].strip("-.")
    return cleaned or fallback


def user_folder(user: User, root: Path | None = None) -> Path:
    """``<mail drop folder>/uploads/<user>``; the user name made file-system safe."""
    if root is None:
        from pebble.settings import get_settings

        root = get_settings().mail_drops
    return root / UPLOADS / _safe(user.name.lower(), "user", 64)


def _max_bytes() -> int:
    from ingest.mail.settings import MailSettings

    return MailSettings().max_message_bytes


def _write_atomically(folder: Path, final: Path, data: bytes) -> None:
    """The bytes under ``final``, appearing whole: a hidden temporary file (the sensor skips
    hidden files) in the same folder, flushed to disk, then renamed."""
    fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, final)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def queue_uploads(
    user: User,
    files: Iterable[tuple[str, bytes]],
    *,
    root: Path | None = None,
    now: datetime | None = None,
) -> list[Queued]:
    """Write uploaded (name, bytes) into the user's upload folder of the mail drop folder.

    The name is for display only: the file is stored as ``<time>-<sha256[:12]>-<name>`` with
    safe characters, so two uploads never overwrite each other and nothing climbs out of
    the folder. A file of another type, an empty one or one above the loader's size limit
    is refused here (``refused`` says why) and not written."""
    require(user, *UPLOAD_ROLES, action="upload mail")
    now = now or datetime.now(UTC)
    folder = user_folder(user, root)
    folder.mkdir(parents=True, exist_ok=True)
    limit = _max_bytes()
    out: list[Queued] = []
    for name, data in files:
        shown = str(name)[:200]
        data = bytes(data)
        sha = hashlib.sha256(data).hexdigest()
        suffix = Path(shown).suffix.lower()
        refused = None
        if suffix not in UPLOAD_SUFFIXES:
            refused = f"not a mail file: only {' and '.join(UPLOAD_SUFFIXES)} are taken"
        elif not data:
            refused = "empty file"
        elif len(data) > limit:
            refused = f"too large: {len(data)} bytes > limit {limit}"
        if refused:
            out.append(Queued(shown, None, sha, len(data), now, refused))
            continue
        stem = _safe(Path(shown).stem, "mail")
        final = folder / f"{now:%Y%m%dT%H%M%S%f}-{sha[:12]}-{stem}{suffix}"
        _write_atomically(folder, final, data)
        out.append(Queued(shown, str(final), sha, len(data), now))
    return out


_WAITING = "waiting for the mail drop sensor (it lands settled files every 30 s)"


def upload_status(conn: psycopg.Connection, queued: Sequence[Queued]) -> list[UploadStatus]:
    """Where each queued file is, from the drop ledger and the landed mail (see the module
    docstring). Without a readable ledger every queued file is "queued"."""
    paths = [q.path for q in queued if q.path]
    try:
        ledger = {
            (path, sha): (outcome, reason, first_seen)
            for path, sha, outcome, reason, first_seen in conn.execute(
                "SELECT path, sha256, outcome, reason, first_seen FROM ops.drop_files"
                " WHERE source = 'mail' AND path = ANY(%s)",
                (paths,),
            ).fetchall()
        }
    except (psycopg.errors.UndefinedTable, psycopg.errors.InsufficientPrivilege):
        return [
            UploadStatus(q.name, "refused", q.refused)
            if q.refused
            else UploadStatus(q.name, "queued", _WAITING)
            for q in queued
        ]
    out = []
    for q in queued:
        if q.refused or q.path is None:
            out.append(UploadStatus(q.name, "refused", q.refused or "not queued"))
            continue
        outcome, reason, first_seen = ledger.get((q.path, q.sha256), (None, None, None))
        if outcome is None:
            out.append(UploadStatus(q.name, "queued", _WAITING))
        elif outcome == "running":
            out.append(UploadStatus(q.name, "landing", "a landing run is reading it"))
        elif outcome == "failed":
            out.append(UploadStatus(q.name, "failed", f"{reason or 'run failed'}; tried again"))
        elif outcome == "refused":
            out.append(UploadStatus(q.name, "refused", reason or "refused by the loader"))
        else:
            out.append(_handled(conn, q, first_seen))
    return out


def _handled(conn: psycopg.Connection, q: Queued, handed_over: datetime | None) -> UploadStatus:
    """A file a run handled: landed, a duplicate (its mail landed before the run took this
    file: both times are the warehouse's clock), or quarantined."""
    try:
        landed = conn.execute(
            "SELECT loaded_at FROM staging.stg_mail__emails WHERE email_key = %s LIMIT 1",
            (q.sha256,),
        ).fetchone()
        reject = None
        if landed is None:
            reject = conn.execute(
                "SELECT reason FROM staging.stg_ingest__rejects WHERE locator = %s"
                " ORDER BY rejected_at DESC LIMIT 1",
                (q.path,),
            ).fetchone()
    except (psycopg.errors.UndefinedTable, psycopg.errors.InsufficientPrivilege):
        return UploadStatus(q.name, "handled", "landed or quarantined (see the landing run)")
    if landed is not None:
        if landed[0] is not None and handed_over is not None and landed[0] < handed_over:
            return UploadStatus(
                q.name, "duplicate", f"the same mail landed before, at {landed[0]:%d %b %Y %H:%M}"
            )
        return UploadStatus(q.name, "landed", "its card shows once the cards are rebuilt")
    if reject is not None:
        return UploadStatus(q.name, "quarantined", str(reject[0]))
    return UploadStatus(q.name, "handled", "landed or quarantined (see the landing run)")


def status_frame(statuses: Sequence[UploadStatus]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"file": s.name, "state": s.state, "detail": s.detail} for s in statuses],
        schema={c: pl.String for c in STATUS_COLUMNS},
    )


# --- the widget -------------------------------------------------------------------------------

HOW_IT_LANDS = (
    "Uploaded mail goes to the mail drop folder and lands with the next drop-folder run "
    "(the sensor checks every 30 s and takes a file once it has settled), through the same "
    "loader as `pebble mail load`: a mail landed before is a duplicate, a file that is not "
    "mail is quarantined with the reason. Its card appears after that landing."
)


def render_upload(user: User, *, key: str = "mail_upload") -> None:
    """The upload widget: .eml and Outlook .msg files (several at once), queued for the
    loader, with each file's state from the drop ledger ("Check again" polls it)."""
    import streamlit as st

    if user.role not in UPLOAD_ROLES:
        return
    queued_key = f"{key}_queued"
    with st.expander(
        "Upload mail (.eml, Outlook .msg)", expanded=bool(st.session_state.get(queued_key))
    ):
        _upload_body(user, key, queued_key)


def _upload_body(user: User, key: str, queued_key: str) -> None:
    import streamlit as st

    files = st.file_uploader(
        "Mail files",
        type=[s.lstrip(".") for s in UPLOAD_SUFFIXES],
        accept_multiple_files=True,
        key=f"{key}_files",
    )
    if st.button("Queue for landing", key=f"{key}_queue") and not files:
        st.info("Choose .eml or .msg files first.")
    elif files and st.session_state.get(f"{key}_queue"):
        queued = queue_uploads(user, [(f.name, f.getvalue()) for f in files])
        st.session_state[queued_key] = [*st.session_state.get(queued_key, []), *queued]
    st.caption(HOW_IT_LANDS)
    queued = st.session_state.get(queued_key) or []
    if not queued:
        return
    from app.card import connect

    try:
        with connect() as conn:
            statuses = upload_status(conn, queued)
    except psycopg.OperationalError:
        statuses = [
            UploadStatus(q.name, "refused" if q.refused else "queued", q.refused or _WAITING)
            for q in queued
        ]
    st.dataframe(status_frame(statuses), hide_index=True)
    st.button("Check again", key=f"{key}_poll")
