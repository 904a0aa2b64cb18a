"""The classifier model and the email predictions it makes."""

import json
from typing import Any

import dagster as dg

from orchestration.resources import WarehouseResource

OWNERS = ["team:ml"]
PREDICTIONS_DDL = """
CREATE SCHEMA IF NOT EXISTS ml;
CREATE TABLE IF NOT EXISTS ml.email_predictions (
    email_key         text PRIMARY KEY,
    model_version     text NOT NULL,
    stream            text NOT NULL,
    intent            text NOT NULL,
    confidence        double precision NOT NULL,
    stream_confidence double precision NOT NULL,
    requires_review   boolean NOT NULL,
    scored_at         timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE ml.email_predictions ADD COLUMN IF NOT EXISTS company_key text;
ALTER TABLE ml.email_predictions ADD COLUMN IF NOT EXISTS company_name text;
ALTER TABLE ml.email_predictions ADD COLUMN IF NOT EXISTS company_evidence text;
CREATE TABLE IF NOT EXISTS ml.email_entities (
    email_key  text NOT NULL,
    position   integer NOT NULL,
    label      text NOT NULL,
    text       text NOT NULL,
    value      jsonb,
    valid      boolean,
    start_char integer,
    end_char   integer,
    PRIMARY KEY (email_key, position)
);
ALTER TABLE ml.email_entities ADD COLUMN IF NOT EXISTS linked_to text;
"""
#: Emails scored per transaction: a failure keeps every batch already written.
BATCH = 512


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
    search embedding) with a calibrated linear head, trained on the demo world's labelled
    emails plus human corrections. Versioned by the content hash of everything that
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
    deps=[
        dg.AssetKey(["raw", "emails"]),
        dg.AssetKey(["ml", "classifier_model"]),
        # master data the entities are linked to
        dg.AssetKey(["raw", "tally_ledgers"]),
        dg.AssetKey(["raw", "tally_stock_items"]),
        dg.AssetKey(["raw", "focus_sales_orders"]),
    ],
    group_name="ml",
    kinds={"pytorch", "spacy", "qdrant", "postgres"},
    owners=OWNERS,
)
def email_predictions(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Stream, intent, calibrated confidence and `requires_review` for every landed email,
    its validated entities (``ml.email_entities``) linked to master data (GSTIN/PAN/sender
    domain -> company, order number -> Focus order, product -> stock item), and its
    embedding in Qdrant with the company for filtered search. Incremental: only emails
    without a prediction from the model in service are scored."""
    from ml.classifier import load_classifier
    from ml.extract.linking import load_index
    from ml.pipeline import score_emails
    from ml.search import EmailIndex

    classifier = load_classifier()
    index = EmailIndex()
    scored = 0
    with warehouse.connection() as conn:
        conn.execute(PREDICTIONS_DDL)
        conn.commit()
        masters = load_index(conn)
        while True:
            rows = conn.execute(
                """
                SELECT e.email_key, e.subject, e.body_text AS body, e.from_addr AS "from",
                       e.sent_at
                FROM raw.emails e
                LEFT JOIN ml.email_predictions p
                       ON p.email_key = e.email_key AND p.model_version = %s
                WHERE p.email_key IS NULL
                ORDER BY e.email_key
                LIMIT %s
                """,
                (classifier.version, BATCH),
            ).fetchall()
            if not rows:
                break
            columns = ("email_key", "subject", "body", "from", "sent_at")
            emails = [dict(zip(columns, row, strict=True)) for row in rows]
            results = score_emails(emails, classifier=classifier)
            for email, result in zip(emails, results, strict=True):
                _attach_links(result, email, masters)
            index.upsert(
                {
                    "email_key": r["email_key"],
                    "embedding": r["embedding"],
                    "stream": r["stream"],
                    "intent": r["intent"],
                    "company_id": r["company_key"],
                    "sent_at": e["sent_at"],
                    "subject": e["subject"],
                }
                for e, r in zip(emails, results, strict=True)
            )
            with conn.transaction():
                _write(conn, results)
            scored += len(results)
            context.log.info(f"scored {scored} emails")
        total, review, linked = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE requires_review),"
            " count(company_key) FROM ml.email_predictions"
        ).fetchone()
        by_stream = dict(
            conn.execute(
                "SELECT stream, count(*) FROM ml.email_predictions GROUP BY 1 ORDER BY 1"
            ).fetchall()
        )
    return dg.MaterializeResult(
        metadata={
            "model_version": classifier.version,
            "rows_added": scored,
            "dagster/row_count": total,
            "requires_review": review,
            "linked_to_company": linked,
            "by_stream": json.dumps(by_stream),
        }
    )


def _attach_links(result: dict[str, Any], email: dict[str, Any], masters: Any) -> None:
    """Adds the company and each entity's master record to a scored email."""
    from ml.extract import Entity
    from ml.extract.linking import link

    entities = [
        Entity(e["label"], e["text"], e["value"], e["start"], e["end"], e.get("valid"))
        for e in result["entities"]
    ]
    links = link(entities, masters, sender=email.get("from"))
    company = links.company
    result["company_key"] = company.company if company else None
    result["company_name"] = company.name if company else None
    result["company_evidence"] = company.evidence if company else None
    orders = {o.mention: o.doc_no for o in links.orders}
    stock = {p.product: p.stock_item for p in links.products}
    for entity in result["entities"]:
        if entity["label"] in ("ORDER_NO", "PO_NO"):
            entity["linked_to"] = orders.get(entity["text"]) or orders.get(str(entity["value"]))
        elif entity["label"] == "PRODUCT":
            entity["linked_to"] = stock.get(str(entity["value"]))
        elif entity["label"] in ("GSTIN", "PAN") and company and company.matched == entity["value"]:
            entity["linked_to"] = company.company
        else:
            entity["linked_to"] = None


def _write(conn: Any, results: list[dict[str, Any]]) -> None:
    keys = [r["email_key"] for r in results]
    conn.execute("DELETE FROM ml.email_entities WHERE email_key = ANY(%s)", (keys,))
    with conn.cursor() as cur:
        cur.executemany(
            """
            INSERT INTO ml.email_predictions (email_key, model_version, stream, intent,
                confidence, stream_confidence, requires_review, company_key, company_name,
                company_evidence)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (email_key) DO UPDATE SET
                model_version = EXCLUDED.model_version, stream = EXCLUDED.stream,
                intent = EXCLUDED.intent, confidence = EXCLUDED.confidence,
                stream_confidence = EXCLUDED.stream_confidence,
                requires_review = EXCLUDED.requires_review,
                company_key = EXCLUDED.company_key, company_name = EXCLUDED.company_name,
                company_evidence = EXCLUDED.company_evidence, scored_at = now()
            """,
            [
                (
                    r["email_key"],
                    r["model_version"],
                    r["stream"],
                    r["intent"],
                    float(r["confidence"]),
                    float(r["stream_confidence"]),
                    bool(r["requires_review"]),
                    r["company_key"],
                    r["company_name"],
                    r["company_evidence"],
                )
                for r in results
            ],
        )
        with cur.copy(
            "COPY ml.email_entities (email_key, position, label, text, value, valid,"
            " start_char, end_char, linked_to) FROM STDIN"
        ) as copy:
            for r in results:
                for position, e in enumerate(r["entities"]):
                    copy.write_row(
                        (
                            r["email_key"],
                            position,
                            e["label"],
                            e["text"],
                            json.dumps(e["value"]),
                            e.get("valid"),
                            e.get("start"),
                            e.get("end"),
                            e.get("linked_to"),
                        )
                    )
