"""Great Expectations suite of the tender notices read."""

from __future__ import annotations

from orchestration.checks import Landed, keys_and_amounts

TENDER_DOCUMENTS = keys_and_amounts(
    "tender_documents",
    keys=("content_sha256",),
    amounts=("pages",),
    what="each notice (by content hash) once, page counts not negative",
    landed=Landed(column="read_at"),
)

SUITES = (TENDER_DOCUMENTS,)
