"""The one result every connector's ``sync(conn, ...)`` returns.

A :class:`LandReport` counts what a landing saw and did: ``seen`` inputs (messages, rows,
records, documents), of which ``landed`` are new or changed rows, ``duplicates`` were
already there and ``rejected`` went to ``raw.rejects`` with a reason, plus the cursor
before and after. A source with several collections (Tally's stock items, ledgers,
vouchers ...) reports each in ``parts`` and their sum at the top.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class LandReport:
    """What one landing (or one collection of it) did."""

    source: str
    seen: int = 0
    landed: int = 0
    duplicates: int = 0
    rejected: int = 0
    #: rows updated in place (a changed document) — counted in ``landed`` as well
    updated: int = 0
    cursor_before: str | None = None
    cursor_after: str | None = None
    #: the raw tables this landing wrote, for the orchestration layer's metadata
    tables: tuple[str, ...] = ()
    #: per collection (Tally ``stock-items``, Focus ``sales_orders``, a mail folder ...)
    parts: dict[str, LandReport] = field(default_factory=dict)
    #: what was rejected and why: ``{"locator", "reason"}`` per ``raw.rejects`` row written
    rejects: list[dict[str, str]] = field(default_factory=list)
    #: source-specific extras (paths loaded, IMAP folders, batch names); JSON-able values
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, part: LandReport, name: str | None = None) -> LandReport:
        """Fold ``part`` into the totals (and into ``parts`` under ``name``); returns self."""
        self.seen += part.seen
        self.landed += part.landed
        self.duplicates += part.duplicates
        self.rejected += part.rejected
        self.updated += part.updated
        self.rejects.extend(part.rejects)
        self.tables = tuple(dict.fromkeys((*self.tables, *part.tables)))
        if name is not None:
            self.parts[name] = part
        return self

    @property
    def accounted(self) -> bool:
        """Every input seen is landed, a duplicate or rejected (nothing lost silently)."""
        return self.seen == self.landed + self.duplicates + self.rejected

    def as_metadata(self) -> dict[str, Any]:
        """Flat, JSON-able counts for Dagster metadata and the CLI's JSON output."""
        out: dict[str, Any] = {
            "seen": self.seen,
            "rows_added": self.landed,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
        }
        if self.updated:
            out["rows_updated"] = self.updated
        if self.cursor_before is not None or self.cursor_after is not None:
            out["cursor_before"] = str(self.cursor_before)
            out["cursor_after"] = str(self.cursor_after)
        out.update(self.extra)
        return out

    def as_dict(self) -> dict[str, Any]:
        """The whole report, parts included, for ``--json`` output and logs."""
        return {
            "source": self.source,
            **self.as_metadata(),
            # a part's rejects are listed once, at the top
            "parts": {
                name: {k: v for k, v in part.as_dict().items() if k != "rejects"}
                for name, part in self.parts.items()
            },
            "rejects": [dict(r) for r in self.rejects],
        }
