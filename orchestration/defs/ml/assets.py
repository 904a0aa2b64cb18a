"""The classifier model and the email predictions it makes."""

import json
from typing import Any

import dagster as dg

from orchestration.resources import WarehouseResource

OWNERS = ["team:ml"]


class ModelConfig(dg.Config):
    """``force``: retrain even when the data and configuration are unchanged.
    ``fine_tune``: fine-tune the encoder with the head (the default, a few minutes on CPU);
    off, a quick retrain of the head on the frozen encoder (seconds to a minute)."""

    force: bool = False
    fine_tune: bool = True


@dg.asset(
    key=["ml", "classifier_model"],
    group_name="ml",
    kinds={"pytorch", "scikitlearn"},
    owners=OWNERS,
)
def classifier_model(
    context: dg.AssetExecutionContext, config: ModelConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Stream and intent classifier: MiniLM embeddings (one forward pass also gives the
    search embedding) with a calibrated linear head, trained on the labelled corpus at
    ``PEBBLE_TRAINING_DIR`` (never the mailbox it scores) plus people's corrections: every
    card re-classified in the app (``CardReclassified``, ``ml.corrections``) trains as a
    labelled example of the message it corrected, weighted above generated mail. Versioned
    by the content hash of everything that determines it (corrections included);
    unchanged inputs reuse the stored model. A TF-IDF baseline is trained and evaluated
    beside it."""
    from ml.bootstrap import train_default
    from ml.corrections import warehouse_corrections
    from ml.finetune import FineTuneConfig
    from ml.train import TrainConfig

    with warehouse.connection(autocommit=True) as conn:
        corrections = warehouse_corrections(conn)
    if corrections.skipped:
        context.log.warning(
            "corrections left out of training: "
            + ", ".join(f"{n} {why}" for why, n in sorted(corrections.skipped.items()))
        )
    train_config = None if config.fine_tune else TrainConfig(finetune=FineTuneConfig(enabled=False))
    artifact = train_default(
        force=config.force,
        config=train_config,
        say=context.log.info,
        labelled=corrections.examples,
    )
    metrics = artifact.metrics
    metadata: dict[str, Any] = {
        "version": artifact.version,
        "reused": artifact.reused,
        "path": str(artifact.path),
        "corrections": len(corrections.examples),
        "corrections_skipped": sum(corrections.skipped.values()),
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
