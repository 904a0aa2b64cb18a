"""ERP landings: Tally Prime (stock, masters, vouchers) and Focus RT (orders, invoices, QC).

Each source is one multi-asset: the connector pulls its collections in order, one request
at a time, each collection landing in its own transaction together with its cursor, so a
failed run leaves the last good data intact and a retried run never duplicates rows.
"""

import dagster as dg

from orchestration.resources import WarehouseResource

OWNERS = ["team:data-platform"]
#: Transient network faults: retried with exponential backoff and jitter by Dagster, on top
#: of the connectors' own per-request retries and circuit breakers.
SOURCE_RETRY = dg.RetryPolicy(
    max_retries=3, delay=10, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


class TallyResource(dg.ConfigurableResource):
    """Tally Prime's XML-over-HTTP endpoint. Unset fields come from ``TALLY_*``."""

    url: str | None = None

    def client(self):
        from ingest.tally.client import TallyClient
        from ingest.tally.settings import TallySettings

        settings = TallySettings()
        return TallyClient(settings.model_copy(update={"url": self.url}) if self.url else settings)


class FocusResource(dg.ConfigurableResource):
    """Focus RT's REST API. Unset fields come from ``FOCUS_*`` (credentials never here)."""

    url: str | None = None

    def client(self):
        from ingest.focus.client import FocusClient
        from ingest.focus.config import FocusSettings

        settings = FocusSettings()
        return FocusClient(settings.model_copy(update={"url": self.url}) if self.url else settings)


def source_landing(source: str, descriptions: dict[str, str]) -> dict[str, object]:
    """The multi-asset arguments shared by the ERP landings: one spec per raw table, the
    source's group and run tag (the coordinator's per-source limit) and the retry policy."""
    return {
        "specs": [
            dg.AssetSpec(
                ["raw", table],
                description=description,
                kinds={"python", "postgres"},
                owners=OWNERS,
                tags={"pebble/source": source},
            )
            for table, description in descriptions.items()
        ],
        "group_name": f"ingest_{source}",
        "op_tags": {"pebble/source": source},
        "retry_policy": SOURCE_RETRY,
    }


TALLY_TABLES = {
    "stock-groups": "tally_stock_groups",
    "stock-items": "tally_stock_items",
    "ledgers": "tally_ledgers",
    "vouchers": "tally_vouchers",
}
TALLY_DESCRIPTIONS = {
    "tally_stock_groups": "Tally stock groups (latest version of each, by GUID).",
    "tally_stock_items": "Tally stock items as snapshots over time: a row whenever closing "
    "stock, rate or master data changed. Never overwritten.",
    "tally_ledgers": "Tally party ledgers (customer masters with GSTIN, PAN, state, contacts).",
    "tally_vouchers": "Tally vouchers (sales orders, sales, purchases), latest ALTERID wins.",
    "tally_voucher_lines": "Inventory lines of Tally vouchers (item, quantity, rate, amount).",
}


@dg.multi_asset(**source_landing("tally", TALLY_DESCRIPTIONS))
def raw_tally(
    context: dg.AssetExecutionContext, tally: TallyResource, warehouse: WarehouseResource
):
    """Incremental pull of Tally masters and vouchers (ALTERID cursors, date batches)."""
    from ingest.tally.sync import pull_all

    with warehouse.connection() as conn:
        results = {r.collection: r for r in pull_all(conn, tally.client())}
        counts = _row_counts(conn, TALLY_DESCRIPTIONS)
    for collection, result in results.items():
        context.log.info(
            f"tally {collection}: received {result.received}, landed {result.landed}, "
            f"cursor {result.cursor}"
        )
    for table in TALLY_DESCRIPTIONS:
        collection = next((c for c, t in TALLY_TABLES.items() if t == table), "vouchers")
        result = results.get(collection)
        metadata: dict[str, object] = {"dagster/row_count": counts[table]}
        if result is not None and table != "tally_voucher_lines":
            metadata.update(received=result.received, rows_added=result.landed)
            if result.cursor is not None:
                metadata["cursor"] = str(result.cursor)
        yield dg.MaterializeResult(asset_key=["raw", table], metadata=metadata)


FOCUS_DESCRIPTIONS = {
    "focus_sales_orders": "Focus RT sales orders (header, status, raw document as JSON).",
    "focus_sales_order_lines": "Lines of Focus RT sales orders.",
    "focus_invoices": "Focus RT dispatches/invoices (vehicle, LR, totals).",
    "focus_invoice_lines": "Lines of Focus RT invoices.",
    "focus_qc_inspections": "Focus RT QC inspections (batch, product, result, COA status).",
    "focus_qc_results": "Per-parameter QC results with their limits.",
}
FOCUS_KIND_TABLE = {
    "sales_orders": "focus_sales_orders",
    "invoices": "focus_invoices",
    "qc_inspections": "focus_qc_inspections",
}


@dg.multi_asset(**source_landing("focus", FOCUS_DESCRIPTIONS))
def raw_focus(
    context: dg.AssetExecutionContext, focus: FocusResource, warehouse: WarehouseResource
):
    """Incremental pull of Focus RT sales orders, invoices and QC inspections (date cursor
    with a look-back window; changed documents updated, unchanged ones skipped)."""
    from ingest.focus.sync import sync_all

    with warehouse.connection() as conn:
        results = {r.kind: r for r in sync_all(focus.client(), conn)}
        counts = _row_counts(conn, FOCUS_DESCRIPTIONS)
    for kind, result in results.items():
        context.log.info(
            f"focus {kind}: fetched {result.fetched}, inserted {result.landed.inserted}, "
            f"updated {result.landed.updated}, rejected {result.landed.rejected}"
        )
    for table in FOCUS_DESCRIPTIONS:
        metadata: dict[str, object] = {"dagster/row_count": counts[table]}
        kind = next((k for k, t in FOCUS_KIND_TABLE.items() if t == table), None)
        if kind in results:
            landed = results[kind].landed
            metadata.update(
                fetched=results[kind].fetched,
                rows_added=landed.inserted,
                rows_updated=landed.updated,
                rejected=landed.rejected,
                cursor=str(results[kind].cursor),
            )
        yield dg.MaterializeResult(asset_key=["raw", table], metadata=metadata)


def _row_counts(conn, tables) -> dict[str, int]:
    from psycopg import sql

    return {
        table: conn.execute(
            sql.SQL("SELECT count(*) FROM raw.{}").format(sql.Identifier(table))
        ).fetchone()[0]
        for table in tables
    }


defs = dg.Definitions(
    assets=[raw_tally, raw_focus],
    resources={"tally": TallyResource(), "focus": FocusResource()},
)
