"""The drop-folder ledger ``ops.drop_files``: which file (path, size, SHA-256) the mail and
lead-list landings handled, in which run, and how it ended.

The drop sensors used to keep one mtime cursor (strict ``>`` under a file cap), which
skipped files moved in with an old mtime and files sharing the cut-off mtime beyond the
cap, and moved on before the run succeeded. With the ledger a file is done only when a
run handled those exact bytes with outcome ``success`` (or refused it); anything else is
offered again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CREATE = """
CREATE TABLE ops.drop_files (
    source      text NOT NULL CHECK (source IN ('mail', 'prelead')),
    path        text NOT NULL,
    sha256      text NOT NULL,
    size_bytes  bigint,
    mtime_ns    bigint,
    run_id      text,
    outcome     text NOT NULL CHECK (outcome IN ('running', 'success', 'failed', 'refused')),
    reason      text,
    first_seen  timestamptz NOT NULL DEFAULT now(),
    handled_at  timestamptz,
    PRIMARY KEY (source, path, sha256)
)
"""
COMMENTS = (
    "COMMENT ON TABLE ops.drop_files IS 'Files of the drop folders handed to a landing run: "
    "one row per path and content; done when outcome is success or refused'",
    "COMMENT ON COLUMN ops.drop_files.sha256 IS 'SHA-256 of the file''s bytes (of the link "
    "text for a symbolic link, which is never followed)'",
    "COMMENT ON COLUMN ops.drop_files.outcome IS 'running | success (every message or row "
    "landed, a duplicate or in raw.rejects) | failed (offered again) | refused (a link or a "
    "path outside the drop folder, recorded in raw.rejects)'",
    "COMMENT ON COLUMN ops.drop_files.mtime_ns IS 'modification time when handled: an "
    "unchanged size and mtime let the sensor skip the file without hashing it'",
)


def upgrade() -> None:
    op.execute(CREATE)
    for statement in COMMENTS:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("Pebble's migrations are forward-only")
