"""Prelead screening: the queries and commands of the marketing page (no Streamlit here).

Reads ``marts.prelead_queue`` (the valid rows, scored, with their CRM duplicate candidates),
``staging.stg_prelead__batches`` / ``stg_prelead__rows`` (every landed batch and row, the
invalid ones with their problems) and the live fold ``ops.prelead_decisions``: a decision
shows at once, without a dbt build (the mart's own decision columns lag and are not read).

Writes only events: :func:`approve`, :func:`reject`, :func:`merge` (one row, at the version
the person saw) and :func:`bulk_decide` (every row a filter selects, one
:func:`pebble.events.append_many`: all or nothing). Each checks the role first
(:func:`pebble.auth.require`): marketing decides, a manager only reads.

Uploads do not write the warehouse (the app's role cannot write ``raw``): :func:`store_upload`
puts the bytes, atomically, into the prelead drop folder, where the prelead sensor lands
them through the same validated loader as any dropped file; :func:`upload_status` follows
the file through the drop ledger (``ops.drop_files``) to its batch or its refusal.
"""

from __future__ import annotations

from app.prelead.common import (
    DECIDERS,
    DECISION_FILTERS,
    DECISIONS,
    EVENT_OF,
    PAGE_SIZE,
    PROBLEMS,
    READERS,
    UPLOAD_STAGING,
    UPLOAD_SUFFIXES,
    QueueNotBuilt,
    SelectionChanged,
    UploadRefused,
    connect,
    split_prelead_id,
)
from app.prelead.decisions import (
    EXPORT_COLUMNS,
    BulkResult,
    approve,
    bulk_decide,
    bulk_decide_rows,
    conflict_message,
    decide,
    decision_count,
    decision_history,
    decisions_csv,
    merge,
    reject,
    row_history,
    selection,
)
from app.prelead.queue import (
    BATCH_SCHEMA,
    INVALID_SCHEMA,
    QUEUE_SCHEMA,
    Filters,
    RowDetail,
    candidate_frame,
    company_exists,
    invalid_rows,
    list_batches,
    problem_text,
    queue_count,
    queue_page,
    row_detail,
    score_reason_frame,
    search_companies,
)
from app.prelead.upload import (
    StoredUpload,
    UploadStatus,
    drop_folder,
    store_upload,
    upload_status,
)

__all__ = [
    "READERS",
    "DECIDERS",
    "PAGE_SIZE",
    "DECISION_FILTERS",
    "DECISIONS",
    "EVENT_OF",
    "PROBLEMS",
    "UPLOAD_SUFFIXES",
    "UPLOAD_STAGING",
    "QueueNotBuilt",
    "UploadRefused",
    "SelectionChanged",
    "connect",
    "split_prelead_id",
    "BATCH_SCHEMA",
    "list_batches",
    "Filters",
    "QUEUE_SCHEMA",
    "queue_page",
    "queue_count",
    "INVALID_SCHEMA",
    "problem_text",
    "invalid_rows",
    "RowDetail",
    "row_detail",
    "score_reason_frame",
    "candidate_frame",
    "search_companies",
    "company_exists",
    "decide",
    "approve",
    "reject",
    "merge",
    "selection",
    "BulkResult",
    "bulk_decide",
    "bulk_decide_rows",
    "conflict_message",
    "EXPORT_COLUMNS",
    "decision_history",
    "decision_count",
    "decisions_csv",
    "row_history",
    "StoredUpload",
    "drop_folder",
    "store_upload",
    "UploadStatus",
    "upload_status",
]
