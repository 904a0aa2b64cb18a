"""Focus RT landing: sales orders, invoices and QC inspections with their lines.

One multi-asset: a date cursor per voucher kind with a look-back window; changed documents
are updated, unchanged ones skipped, each batch landing with its cursor. Focus unreachable
or refusing the credentials fails the asset at once with ``FOCUS_CONNECTION_FAILED`` /
``FOCUS_AUTH_FAILED`` (the client has already retried behind its circuit breaker).
"""

import dagster as dg

from ingest.focus.errors import FocusError
from orchestration.landing import landing_asset

TABLES = {
    "focus_sales_orders": "Focus RT sales orders (header, status, raw document as JSON).",
    "focus_sales_order_lines": "Lines of Focus RT sales orders.",
    "focus_invoices": "Focus RT dispatches/invoices (vehicle, LR, totals).",
    "focus_invoice_lines": "Lines of Focus RT invoices.",
    "focus_qc_inspections": "Focus RT QC inspections (batch, product, result, COA status).",
    "focus_qc_results": "Per-parameter QC results with their limits.",
}


class FocusResource(dg.ConfigurableResource):
    """Focus RT's REST API. Unset fields come from ``FOCUS_*`` (credentials never here)."""

    url: str | None = None

    def client(self):
        from ingest.focus.client import FocusClient
        from ingest.focus.settings import FocusSettings

        settings = FocusSettings()
        return FocusClient(settings.model_copy(update={"url": self.url}) if self.url else settings)


class FocusLoadConfig(dg.Config):
    """Voucher kinds to pull (sales_orders, invoices, qc_inspections); empty: all."""

    kinds: list[str] = []


def sync_focus(conn, config: FocusLoadConfig, *, run_id: str, focus: FocusResource):
    from ingest.focus.sync import sync

    with focus.client() as client:  # its pooled connections released when done
        return sync(conn, client, kinds=config.kinds or None, run_id=run_id)


raw_focus = landing_asset(
    source="focus",
    name="raw_focus",
    tables=TABLES,
    sync=sync_focus,
    config=FocusLoadConfig,
    resources=("focus",),
    typed_errors=(FocusError,),
    description="Incremental pull of Focus RT sales orders, invoices and QC inspections "
    "(date cursor with a look-back window; changed documents updated, unchanged skipped).",
)
