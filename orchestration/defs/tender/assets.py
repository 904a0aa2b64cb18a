"""Tender notices read from the PDF attachments of tender mail (``raw.tender_documents``)."""

import json

import dagster as dg

from orchestration.resources import WarehouseResource

OWNERS = ["team:ml"]


class TenderReadConfig(dg.Config):
    """``ocr``: OCR pages without a text layer (off: such notices are stored without text).
    ``max_pages``: pages read per notice (a tender's annexures can run to hundreds).
    ``max_notices``: notices read per run, newest mail first (0: all); a back-fill of
    thousands of scanned notices is spread over the runs that follow instead of holding
    up the mail-to-cards job for hours."""

    ocr: bool = True
    max_pages: int = 30
    max_notices: int = 200


@dg.asset(
    key=["raw", "tender_documents"],
    # Scored mail decides which attachments are notices. The stock master is read from
    # marts.stock_levels as the last warehouse build left it (no dep on it, as scoring).
    deps=[
        dg.AssetKey(["raw", "emails"]),
        dg.AssetKey(["raw", "email_attachments"]),
        dg.AssetKey(["ml", "email_predictions"]),
    ],
    # In the ML group: `pebble materialize` runs it with scoring, after the mail, never in
    # its first (ERP) stage; the dbt models reading it (marts.tenders) follow it.
    group_name="ml",
    kinds={"pdf", "tesseract", "postgres"},
    owners=OWNERS,
)
def tender_documents(
    context: dg.AssetExecutionContext, config: TenderReadConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Tender notices: every PDF attached to mail whose stream is ``tender`` (a person's
    correction of the card, else the scoring's prediction), read
    by ``ml.tender.read_notice`` (the text layer, else OCR) into its text, how the text
    came, the pages, and the fields (tender number, organisation, items matched to the
    stock master, EMD, fee, bid dates, eligibility, contact), each with its evidence and
    confidence. Keyed by the PDF's content hash; incremental: a re-run reads only new PDFs,
    and all of them when the extractor's version changes; at most ``max_notices`` per run,
    newest mail first. A PDF that cannot be read is
    stored with its error (``text_method = 'none'``), never dropped."""
    from orchestration.defs.tender.reading import read_pending

    with warehouse.connection(autocommit=True) as conn:
        report = read_pending(
            conn,
            ocr=config.ocr,
            max_pages=config.max_pages,
            max_notices=config.max_notices or None,
            log=context.log.info,
        )
    if report.missing_bytes:
        context.log.warning(
            f"{report.missing_bytes} PDF attachments of tender mail are missing from the "
            "attachment store: they are read once their bytes are back"
        )
    return dg.MaterializeResult(
        metadata={
            "extractor_version": report.extractor_version,
            "rows_added": report.read,
            "errors": report.errors,
            "by_method": json.dumps(report.by_method, sort_keys=True),
            "ocr_pages": report.ocr_pages,
            "ocr_seconds": round(report.ocr_seconds, 2),
            "missing_bytes": report.missing_bytes,
            "left_for_next_runs": report.left,
            "stock_items": report.products,
            "dagster/row_count": report.total,
        }
    )
