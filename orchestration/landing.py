"""The one factory of landing assets: a source's raw tables as one Dagster multi-asset.

Every connector exposes ``sync(conn, ...) -> LandReport`` (ingest/common/report.py). A
landing asset opens a warehouse connection, calls its source's ``sync`` through a small
adapter (which passes the run's config and the source's resources), and turns the
:class:`~ingest.common.report.LandReport` into per-table metadata: rows in the table, and
for the table each collection lands in, what it saw, landed, skipped as duplicates and
rejected (rejects are rows of ``raw.rejects``, with their reason).

A connector's typed errors (``TALLY_CONNECTION_FAILED``, ``FOCUS_AUTH_FAILED`` ...) fail
the asset at once, with the error's code in the failure's metadata: the connector has
already retried behind its circuit breaker, so Dagster does not retry them again. Other
errors (a dropped database connection, say) are retried by the landing's retry policy.

Written without ``from __future__ import annotations``: Dagster reads the config class
from the asset function's annotation, which here is a variable of the factory.
"""

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import dagster as dg
import psycopg
from psycopg import sql

OWNERS = ["team:data-platform"]
#: Transient faults (e.g. the warehouse restarting) are retried with backoff and jitter.
LANDING_RETRY = dg.RetryPolicy(
    max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)

#: Rejects of one run listed in the primary table's metadata (all of them are in raw.rejects).
MAX_REJECTS_SHOWN = 20
#: Parts (files) whose own counts are listed when several land in one table.
MAX_PARTS_SHOWN = 50

#: ``sync(conn, config, run_id=..., **resources) -> LandReport``: calls the connector.
Sync = Callable[..., Any]

#: Raw tables every landing writes, which no one landing asset produces: declared once
#: (shared_table_specs) so the dbt staging models that read them have a described upstream.
SHARED_TABLES = {
    "rejects": "Input any source could not land, with the reason and its raw payload "
    "(one table for every source; each landing reports its own open rejects).",
    "ingest_cursors": "Where each incremental pull resumes (Tally ALTERIDs, Focus RT dates, "
    "IMAP UIDs), per source and cursor key.",
}


def shared_table_specs() -> list[dg.AssetSpec]:
    """The shared raw tables as external assets (written as a side effect of landings)."""
    return [
        dg.AssetSpec(
            ["raw", table],
            description=text,
            group_name="ingest_common",
            kinds={"python", "postgres"},
            owners=OWNERS,
        )
        for table, text in SHARED_TABLES.items()
    ]


def landing_asset(
    *,
    source: str,
    name: str,
    tables: Mapping[str, str],
    sync: Sync,
    config: type[dg.Config],
    description: str,
    resources: Iterable[str] = (),
    typed_errors: tuple[type[BaseException], ...] = (),
    retry_policy: dg.RetryPolicy | None = LANDING_RETRY,
) -> dg.AssetsDefinition:
    """A multi-asset named ``name`` producing ``[raw, table]`` for each of ``tables``
    (table -> description; the first is the landing's primary table).

    ``sync`` receives an autocommit warehouse connection (the connector's own transactions
    are real commits, as on the command line), the run's ``config``, ``run_id`` and the
    ``resources`` named here, and returns the connector's LandReport.
    """
    resource_keys = tuple(resources)
    table_names = tuple(tables)
    specs = [
        dg.AssetSpec(
            ["raw", table],
            description=text,
            kinds={"python", "postgres"},
            owners=OWNERS,
            tags={"pebble/source": source},
        )
        for table, text in tables.items()
    ]
    config_class = config

    @dg.multi_asset(
        name=name,
        specs=specs,
        description=description,
        group_name=f"ingest_{source}",
        op_tags={"pebble/source": source},
        required_resource_keys={"warehouse", *resource_keys},
        retry_policy=retry_policy,
    )
    def _landing(context: dg.AssetExecutionContext, config: config_class):  # type: ignore[valid-type]
        warehouse = context.resources.warehouse
        extra = {key: getattr(context.resources, key) for key in resource_keys}
        with warehouse.connection(autocommit=True) as conn:
            try:
                report = sync(conn, config, run_id=context.run.run_id, **extra)
            except typed_errors as exc:
                raise typed_failure(source, exc) from exc
            counts = row_counts(conn, table_names)
            open_rejects = count_open_rejects(conn, source)
        context.log.info(
            f"{source}: seen {report.seen}, landed {report.landed}, "
            f"duplicates {report.duplicates}, rejected {report.rejected}"
        )
        for table, metadata in table_metadata(report, table_names, counts, open_rejects).items():
            yield dg.MaterializeResult(asset_key=["raw", table], metadata=metadata)

    return _landing


def typed_failure(source: str, exc: BaseException) -> dg.Failure:
    """A connector's typed error as a Dagster failure. It is not retried (the same refusal
    or full disk would come back) unless the error says it is ``retryable``: a connection
    dropped mid-pull is, since the pull resumes from the cursor of what landed."""
    code = getattr(exc, "code", type(exc).__name__)
    message = str(exc)
    metadata: dict[str, Any] = {"error_code": code, "source": source}
    for attribute in ("url", "retry_after"):
        value = getattr(exc, attribute, None)
        if value is not None:
            metadata[attribute] = value if isinstance(value, int | float) else str(value)
    text = message if message.startswith(f"{code}") else f"{code}: {message}"
    retryable = bool(getattr(exc, "retryable", False))
    metadata["retryable"] = retryable
    return dg.Failure(description=text, metadata=metadata, allow_retries=retryable)


def table_metadata(
    report: Any,
    tables: tuple[str, ...],
    counts: Mapping[str, int | None],
    open_rejects: int | None,
) -> dict[str, dict[str, Any]]:
    """Per raw table: its row count, and the report of the collection landing in it (the
    first table a part names). A landing without parts reports on its primary table (the
    first); one with parts adds its totals there as ``total_*``. The primary table also
    says how many of the source's rejects are still unresolved in ``raw.rejects``."""
    metadata: dict[str, dict[str, Any]] = {table: {} for table in tables}
    for table in tables:
        if counts.get(table) is not None:
            metadata[table]["dagster/row_count"] = counts[table]
    primary = metadata[tables[0]]
    if report.parts:
        by_table: dict[str, list[tuple[str, Any]]] = {}
        for part_name, part in report.parts.items():
            target = next((t for t in part.tables if t in metadata), None)
            if target is not None:
                by_table.setdefault(target, []).append((part_name, part))
        for target, parts in by_table.items():
            if len(parts) == 1:  # a collection of its own (Tally ledgers, Focus invoices)
                part_name, part = parts[0]
                metadata[target].update(_json_safe(part.as_metadata()))
                metadata[target]["collection"] = part_name
                continue
            # several parts into one table (one per file): their sum, and each one's extras
            summed = type(report)(report.source)
            for _, part in parts:
                summed.add(part)
            metadata[target].update(_json_safe(summed.as_metadata()))
            metadata[target]["parts"] = len(parts)
            extras = {name: part.extra for name, part in parts[:MAX_PARTS_SHOWN] if part.extra}
            if extras:
                metadata[target]["by_part"] = dg.MetadataValue.json(extras)
        totals = report.as_metadata()
        primary.update({f"total_{k}": v for k, v in _json_safe(totals).items()})
    else:
        primary.update(_json_safe(report.as_metadata()))
    if open_rejects is not None:
        primary["rejects_open"] = open_rejects
    rejects = getattr(report, "rejects", None)
    if rejects:
        shown = [f"{r.get('locator')}: {r.get('reason')}" for r in rejects[:MAX_REJECTS_SHOWN]]
        if len(rejects) > MAX_REJECTS_SHOWN:
            shown.append(f"... and {len(rejects) - MAX_REJECTS_SHOWN} more in raw.rejects")
        primary["rejects"] = dg.MetadataValue.json(shown)
    return metadata


def _json_safe(values: Mapping[str, Any]) -> dict[str, Any]:
    """Metadata values Dagster accepts: scalars as they are, anything else as JSON text."""
    import json

    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        out[key] = (
            value if isinstance(value, bool | int | float | str) else json.dumps(value, default=str)
        )
    return out


def row_counts(conn: psycopg.Connection, tables: Iterable[str]) -> dict[str, int | None]:
    """Rows in each ``raw.<table>`` (None for a table that does not exist)."""
    counts: dict[str, int | None] = {}
    for table in tables:
        exists = conn.execute("SELECT to_regclass(%s)", (f'raw."{table}"',)).fetchone()[0]
        if exists is None:
            counts[table] = None
            continue
        query = sql.SQL("SELECT count(*) FROM raw.{}").format(sql.Identifier(table))
        counts[table] = conn.execute(query).fetchone()[0]
    return counts


def count_open_rejects(conn: psycopg.Connection, source: str) -> int | None:
    """Rejects of ``source`` not yet resolved by a later landing (None without the table)."""
    if conn.execute("SELECT to_regclass('raw.rejects')").fetchone()[0] is None:
        return None
    return conn.execute(
        "SELECT count(*) FROM raw.rejects WHERE source = %s AND resolved_at IS NULL", (source,)
    ).fetchone()[0]
