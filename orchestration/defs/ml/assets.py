"""The classifier model and the email predictions it makes."""

import json
from typing import Any

import dagster as dg

from orchestration.resources import WarehouseResource

OWNERS = ["team:ml"]


class ModelConfig(dg.Config):
    """Retrain even when the data and configuration are unchanged."""

    force: bool = False


@dg.asset(
    key=["ml", "classifier_model"],
    group_name="ml",
    kinds={"pytorch", "scikitlearn"},
    owners=OWNERS,
)
def classifier_model(
    context: dg.AssetExecutionContext, config: ModelConfig
) -> dg.MaterializeResult:
    """Stream and intent classifier: MiniLM embeddings (one forward pass also gives the
    search embedding) with a calibrated linear head, trained on the labelled corpus at
    ``PEBBLE_TRAINING_DIR`` (never the mailbox it scores). Versioned by the content hash of everything that
    determines it; unchanged inputs reuse the stored model. A TF-IDF baseline is trained
    and evaluated beside it."""
    from ml.bootstrap import train_default

    artifact = train_default(force=config.force, say=context.log.info)
    metrics = artifact.metrics
    metadata: dict[str, Any] = {
        "version": artifact.version,
        "reused": artifact.reused,
        "path": str(artifact.path),
    }
    for split in ("heldout", "handwritten"):
        for model in ("transformer", "baseline"):
            report = metrics.get(split, {}).get(model) or {}
            for name in ("stream_macro_f1", "intent_macro_f1", "ece"):
                if name in report:
                    metadata[f"{split}/{model}/{name}"] = float(report[name])
    return dg.MaterializeResult(metadata=metadata, data_version=dg.DataVersion(artifact.version))


@dg.asset(
    key=["ml", "email_predictions"],
    # Master data is read from the marts as the last warehouse build left them (no dep on
    # them): an ERP outage must not leave the trader without classified mail.
    deps=[dg.AssetKey(["raw", "emails"]), dg.AssetKey(["ml", "classifier_model"])],
    group_name="ml",
    kinds={"pytorch", "spacy", "qdrant", "postgres"},
    owners=OWNERS,
)
def email_predictions(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Stream, intent, calibrated confidence and `requires_review` for every landed email,
    its validated entities (``ml.email_entities``) with products matched against the stock
    master (``marts.stock_levels``: Tally stock items, their aliases and packs), linked to
    the CRM master and orders (``marts.crm_companies``/``crm_company_sources``: sender,
    GSTIN/PAN/CIN, domain -> company; ``marts.sales_orders``: order number -> order), and its embedding in Qdrant with the company for filtered search. An admin's routing
    rules (``ml.routing``: sender address, domain, subject pattern, mailbox; read when the
    run starts) decide the stream before the model, and the prediction says which rule did
    (``routed_by``) beside the model's own answer. Incremental:
    only emails without a prediction from the model in service are scored; each batch is
    committed on its own."""
    from ml.classifier import load_classifier
    from ml.search import EmailIndex
    from ml.warehouse import score_pending

    classifier = load_classifier()
    with warehouse.connection(autocommit=True) as conn:
        report = score_pending(conn, classifier, EmailIndex(), log=context.log.info)
    return dg.MaterializeResult(
        metadata={
            "model_version": report.model_version,
            "rows_added": report.scored,
            "stock_items": report.products,
            "dagster/row_count": report.total,
            "requires_review": report.requires_review,
            "linked_to_company": report.linked_to_company,
            "by_stream": json.dumps(report.by_stream),
        }
    )
