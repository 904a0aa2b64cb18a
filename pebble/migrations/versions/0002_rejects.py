"""One rejects table for every source; the ``ops`` schema.

``raw.rejects`` replaces ``raw.quarantine`` (mail) and ``raw.focus_rejects`` (Focus RT).
Every row of both moves over before they are dropped:

- quarantine: source ``mail``, source_kind kept, locator = the old ``source`` (file path or
  ``imap:<folder>:<uid>``), payload/payload_in_store = raw/raw_in_store, rejected_at =
  quarantined_at;
- focus_rejects: source ``focus``, source_kind = kind, locator = doc_no, reason = error,
  payload = the document's JSON text as UTF-8 bytes, sha256 and size_bytes of that payload.

``ops`` holds the version table (created by ``env.py``) and, later, the event store.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CREATE_REJECTS = """
CREATE TABLE raw.rejects (
    reject_id        bigserial PRIMARY KEY,
    source           text NOT NULL,
    source_kind      text NOT NULL,
    locator          text NOT NULL,
    reason           text NOT NULL,
    sha256           text NOT NULL,
    payload          bytea,
    payload_in_store boolean NOT NULL DEFAULT false,
    size_bytes       bigint,
    run_id           text,
    rejected_at      timestamptz NOT NULL DEFAULT now(),
    resolved_at      timestamptz,
    UNIQUE (source, locator, sha256)
)
"""
COMMENTS = (
    "COMMENT ON TABLE raw.rejects IS 'Input that could not be landed, with the reason and "
    "its raw payload; one table for every source.'",
    "COMMENT ON COLUMN raw.rejects.source IS 'mail | tally | focus | prelead'",
    "COMMENT ON COLUMN raw.rejects.source_kind IS 'mail: eml/mbox/maildir/imap/upload; "
    "tally: collection; focus: voucher kind; prelead: csv/xlsx'",
    "COMMENT ON COLUMN raw.rejects.locator IS 'file path, imap:<folder>:<uid>, Tally GUID or "
    "name, Focus doc_no, prelead file (and row)'",
    "COMMENT ON COLUMN raw.rejects.payload IS 'raw bytes; NULL when kept in the content store'",
    "COMMENT ON COLUMN raw.rejects.resolved_at IS 'a later landing of the same locator succeeded'",
)
MOVE_QUARANTINE = """
INSERT INTO raw.rejects (source, source_kind, locator, reason, sha256, payload,
                         payload_in_store, size_bytes, rejected_at)
SELECT 'mail', source_kind, source, reason, sha256, raw, raw_in_store, size_bytes,
       quarantined_at
FROM raw.quarantine
ORDER BY quarantine_id
ON CONFLICT (source, locator, sha256) DO NOTHING
"""
MOVE_FOCUS_REJECTS = """
INSERT INTO raw.rejects (source, source_kind, locator, reason, sha256, payload, size_bytes,
                         rejected_at)
SELECT 'focus', kind, doc_no, error, encode(sha256(payload), 'hex'), payload,
       octet_length(payload), rejected_at
FROM (SELECT kind, doc_no, error, rejected_at, convert_to(document::text, 'UTF8') AS payload
      FROM raw.focus_rejects) AS r
ORDER BY rejected_at, kind, doc_no
ON CONFLICT (source, locator, sha256) DO NOTHING
"""


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS ops")
    op.execute(CREATE_REJECTS)
    for statement in COMMENTS:
        op.execute(statement)
    # the baseline guarantees both old tables exist, even on an empty warehouse
    op.execute(MOVE_QUARANTINE)
    op.execute(MOVE_FOCUS_REJECTS)
    _check_moved("raw.quarantine", "mail")
    _check_moved("raw.focus_rejects", "focus")
    op.execute("DROP TABLE raw.quarantine")
    op.execute("DROP TABLE raw.focus_rejects")


def _check_moved(table: str, source: str) -> None:
    """Refuse to drop ``table`` unless each of its rows has a row in raw.rejects (the whole
    migration then rolls back and nothing is lost)."""
    bind = op.get_bind()
    old = bind.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608
    new = bind.execute(
        text("SELECT count(*) FROM raw.rejects WHERE source = :source"), {"source": source}
    ).scalar_one()
    if new != old:
        raise RuntimeError(
            f"{table} has {old} rows but only {new} reached raw.rejects "
            "(two share a locator and payload); nothing was changed"
        )


def downgrade() -> None:
    raise NotImplementedError(
        "raw.rejects holds rejects of every source, which the old tables cannot take: "
        "restore a backup to go back"
    )
