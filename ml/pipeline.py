"""Batch scoring of emails: classify, extract entities and embed, in one pass per batch.

The Dagster inference asset calls :func:`score_emails` on new rows of `raw.emails`; the
`pebble predict` command calls it on a JSON Lines file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, is_dataclass
from typing import Any, Protocol

from ml.extract.entities import Entity
from ml.taxonomy import OTHER
from ml.text import classification_text, extraction_text

log = logging.getLogger(__name__)


class Extractor(Protocol):
    def extract_many(self, texts: list[str]) -> list[list[Any]]: ...


#: Entities that show a mail is business with us: a document number (ours or the customer's
#: PO), a quantity or a price asked about, or the sender's own registration (GSTIN, PAN, CIN:
#: a firm that identifies itself wants to trade; bulk mail and auto-replies do not).
BUSINESS_LABELS: frozenset[str] = frozenset(
    {"ORDER_NO", "INVOICE_NO", "PO_NO", "QUANTITY", "PRICE", "GSTIN", "PAN", "CIN"}
)


def lead_at_risk(stream: str, entities: Iterable[Any]) -> bool:
    """True for mail filed under `other` that carries business evidence (a document number,
    a quantity, a price, a business registration): filing a customer's mail away unseen
    loses a lead, so it gets a review whatever the classifier's confidence."""
    return stream == OTHER and any(_label(e) in BUSINESS_LABELS for e in entities)


def _label(entity: Any) -> str | None:
    return entity.get("label") if isinstance(entity, Mapping) else getattr(entity, "label", None)


class InputError(ValueError):
    """A row that cannot be scored (its key and what is wrong are in the message)."""


class _NoEntities:
    """Stands in when this build has no entity extractor: every email gets no entities."""

    def extract_many(self, texts: list[str]) -> list[list[Any]]:
        return [[] for _ in texts]


def default_extractor() -> Extractor:
    """The entity extractor of `ml.extract` without a stock master (identifiers, document
    numbers, quantities and prices; `ml.warehouse` passes the warehouse's stock items).
    None found: a warning, and no entities."""
    try:
        from ml.extract import get_extractor
    except ImportError:
        log.warning("ml.extract.get_extractor is not available: emails get no entities")
        return _NoEntities()
    return get_extractor()


def _row_key(row: Mapping[str, Any], n: int) -> str:
    key = row.get("email_key", row.get("id"))
    if key is None or str(key) == "":
        raise InputError(f"row {n}: needs an 'email_key' or 'id'")
    return str(key)


def _check_text(row: Mapping[str, Any], key: str) -> tuple[str, str]:
    subject, body = row.get("subject"), row.get("body")
    for name, value in (("subject", subject), ("body", body)):
        if value is not None and not isinstance(value, str):
            raise InputError(f"{key}: '{name}' must be text, not {type(value).__name__}")
    return subject or "", body or ""


_ENTITY_FIELDS = ("label", "text", "value", "start", "end", "valid")


def entity_dict(entity: Any) -> dict[str, Any]:
    """An extractor entity as a plain dict (`label`, `text`, `value`, `start`, `end`, `valid`)."""
    if isinstance(entity, Entity):  # the extractor's own: read directly (asdict deep-copies)
        return {
            "label": entity.label,
            "text": entity.text,
            "value": entity.value,
            "start": entity.start,
            "end": entity.end,
            "valid": entity.valid,
        }
    data = asdict(entity) if is_dataclass(entity) else dict(entity)
    return {k: data.get(k) for k in _ENTITY_FIELDS}


def _batches(rows: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    batch: list[Mapping[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _prepare(
    batch: Sequence[Mapping[str, Any]], first: int
) -> tuple[list[str], list[str], list[str]]:
    """Keys, classification texts and extraction texts of a batch whose first row is row
    number `first` of the run; a bad row raises :class:`InputError` naming it."""
    keys, cls_texts, ext_texts = [], [], []
    for n, row in enumerate(batch, first):
        key = _row_key(row, n)
        subject, body = _check_text(row, key)
        keys.append(key)
        cls_texts.append(classification_text(subject, body))
        ext_texts.append(extraction_text(subject, body))
    return keys, cls_texts, ext_texts


def check_rows(rows: Sequence[Mapping[str, Any]]) -> None:
    """Raise :class:`InputError` for the first row that cannot be scored (as
    :func:`score_emails` would on reaching it)."""
    for n, row in enumerate(rows):
        _check_text(row, _row_key(row, n))


def score_batch(
    batch: Sequence[Mapping[str, Any]],
    first: int,
    classifier: Any,
    extractor: Extractor,
    threshold: float | None,
) -> tuple[list[dict[str, Any]], Any]:
    """One encoder batch: the scored dicts (without `embedding`) and the (n, 384) float32
    embeddings, in row order. The one scoring step, in process and in a worker
    (`ml.parallel`) alike."""
    keys, cls_texts, ext_texts = _prepare(batch, first)
    decisions, embeddings = classifier.classify_texts(cls_texts, threshold)
    entities = extractor.extract_many(ext_texts)
    scored = [
        {
            "email_key": key,
            "stream": decision.stream,
            "intent": decision.intent,
            "confidence": decision.confidence,
            "stream_confidence": decision.stream_confidence,
            "requires_review": decision.requires_review or lead_at_risk(decision.stream, found),
            "entities": [entity_dict(e) for e in found],
            "model_version": classifier.version,
        }
        for key, decision, found in zip(keys, decisions, entities, strict=True)
    ]
    return scored, embeddings


def _finish_batch(
    batch: Sequence[Mapping[str, Any]],
    scored: list[dict[str, Any]],
    embeddings: Any,
    index: Any | None,
    with_embedding: bool,
) -> None:
    """Attach the embeddings (as lists) to a scored batch and upsert it into `index`."""
    if with_embedding:
        for item, vector in zip(scored, embeddings, strict=True):
            item["embedding"] = vector.tolist()
    if index is not None:
        index.upsert(
            {
                "email_key": item["email_key"],
                "embedding": vector,
                "stream": item["stream"],
                "intent": item["intent"],
                "company_id": row.get("company_id"),
                "sent_at": row.get("sent_at"),
                "subject": row.get("subject"),
            }
            for row, item, vector in zip(batch, scored, embeddings, strict=True)
        )


def score_emails(
    rows: Iterable[Mapping[str, Any]],
    *,
    classifier: Any | None = None,
    extractor: Extractor | None = None,
    index: Any | None = None,
    batch_size: int = 256,
    threshold: float | None = None,
    with_embedding: bool = True,
    workers: int | None = None,
) -> list[dict[str, Any]]:
    """Score emails: one dict per row, in order, with `email_key`, `stream`, `intent`,
    `confidence`, `stream_confidence`, `requires_review`, `entities`, `model_version` and
    (unless `with_embedding` is False) the 384-d `embedding`.

    Rows are mappings with `email_key` (or `id`), `subject`, `body` and optionally `from`,
    `sent_at`, `company_id`. With an :class:`ml.search.EmailIndex`, each scored batch is
    upserted into it (idempotent: re-scoring an email replaces its point). A bad row raises
    :class:`InputError` naming it, before any batch containing it is written anywhere.

    `workers` worker processes score the batches (`ml.parallel`; this process still writes
    to `index`, batch by batch in order); None takes `PEBBLE_SCORE_WORKERS` (default: the
    usable CPUs, at most 4) when there are at least `ml.parallel.MIN_PARALLEL_EMAILS` rows,
    and scores fewer in process; 1 scores in process. The results are the same either way.
    """
    if classifier is None:
        from ml.classifier import load_classifier

        classifier = load_classifier()
    if workers != 1:
        from ml import parallel

        rows = rows if isinstance(rows, Sequence) else list(rows)
        n = parallel.workers_for(len(rows), workers, classifier, extractor)
        if n > 1:
            check_rows(rows)  # a bad row is named before anything is scored or written
            results: list[dict[str, Any]] = []
            batches = list(_batches(rows, batch_size))
            with parallel.ScoringPool(classifier, extractor, n, threshold=threshold) as pool:
                for batch, (scored, embeddings) in zip(
                    batches, pool.score(batches, batch_size=batch_size), strict=True
                ):
                    _finish_batch(batch, scored, embeddings, index, with_embedding)
                    results.extend(scored)
            return results
    if extractor is None:
        extractor = default_extractor()
    results = []
    seen = 0
    for batch in _batches(rows, batch_size):
        scored, embeddings = score_batch(batch, seen, classifier, extractor, threshold)
        seen += len(batch)
        _finish_batch(batch, scored, embeddings, index, with_embedding)
        results.extend(scored)
    return results
