"""Machine learning: the classifier model, and incremental scoring of landed emails
(stream, intent, confidence, entities, embeddings into Qdrant)."""

import dagster as dg

from orchestration.defs.ml import assets

defs = dg.Definitions(assets=[assets.classifier_model, assets.email_predictions])
