"""ML's tables in the warehouse: scoring landed mail and writing what the models found.

`score_pending` scores every email in `raw.emails` that has no prediction from the model in
service, batch by batch: classify, extract entities (products from the stock master that is
in the warehouse now), link them to master data, embed into the search index, then write
`ml.email_predictions` and `ml.email_entities`. Each batch is committed on its own, so a
failure keeps every batch already written and the next run goes on from there.

Master data (companies, orders, stock, prices) is read from the dbt marts only, never from
`raw.*`: `read_mart` is the one way in. The marts are built by the dbt warehouse step, which
may not have run yet (a first run) or be older than the newest mail: a missing mart is
logged and gives no rows, and mail is still scored.

The routing rules an admin set in the app (``ml.routing``: sender address, domain, subject
pattern, mailbox) decide the stream before the model: the stored prediction is the rule's,
`routed_by` names the rule and `model_stream`/`model_intent`/`model_confidence` keep the
model's answer. Rules are read once per run and change nothing already scored.

The tables themselves are made by the warehouse's migrations (`pebble.db.upgrade`); nothing
here creates or alters a table.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, LiteralString

from ml.extract.entities import Entity, ProductRef
from ml.extract.linking import MasterIndex, link, load_index, load_products
from ml.routing import Routes, load_routes, route_prediction

_log = logging.getLogger(__name__)

#: Emails scored per transaction: a failure keeps every batch already written.
BATCH = 512
#: The pending emails after a key, in key order ('' for the first): the worker path reads
#: ahead of what it has written, so it cannot ask for "the first pending" again.
_PENDING_AFTER = """
    SELECT e.email_key, e.subject, e.body_text AS body, e.from_addr AS "from", e.sent_at,
           e.is_auto_reply OR e.is_bounce OR e.is_bulk AS automated, e.mailbox
    FROM raw.emails e
    LEFT JOIN ml.email_predictions p
           ON p.email_key = e.email_key AND p.model_version = %s
    WHERE p.email_key IS NULL AND e.email_key > %s
    ORDER BY e.email_key
    LIMIT %s
"""
_COUNT_PENDING = """
    SELECT count(*) FROM (
        SELECT 1 FROM raw.emails e
        LEFT JOIN ml.email_predictions p
               ON p.email_key = e.email_key AND p.model_version = %s
        WHERE p.email_key IS NULL
        LIMIT %s
    ) pending
"""
_PENDING_COLUMNS = ("email_key", "subject", "body", "from", "sent_at", "automated", "mailbox")
_UPSERT_PREDICTION = """
    INSERT INTO ml.email_predictions (email_key, model_version, stream, intent, confidence,
        stream_confidence, requires_review, company_key, company_name, company_evidence,
        routed_by, model_stream, model_intent, model_confidence)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (email_key) DO UPDATE SET
        model_version = EXCLUDED.model_version, stream = EXCLUDED.stream,
        intent = EXCLUDED.intent, confidence = EXCLUDED.confidence,
        stream_confidence = EXCLUDED.stream_confidence,
        requires_review = EXCLUDED.requires_review,
        company_key = EXCLUDED.company_key, company_name = EXCLUDED.company_name,
        company_evidence = EXCLUDED.company_evidence, routed_by = EXCLUDED.routed_by,
        model_stream = EXCLUDED.model_stream, model_intent = EXCLUDED.model_intent,
        model_confidence = EXCLUDED.model_confidence, scored_at = now()
"""
_COPY_ENTITIES = (
    "COPY ml.email_entities (email_key, position, label, text, value, valid, start_char,"
    " end_char, linked_to) FROM STDIN"
)


def missing_marts(conn: Any, *names: str) -> list[str]:
    """Those of `names` (schema-qualified, e.g. `marts.crm_companies`) that do not exist."""
    missing = []
    for name in names:
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
        if not (row and row[0]):
            missing.append(name)
    return missing


def read_mart(
    conn: Any, marts: Sequence[str], query: LiteralString, params: Sequence[Any] = ()
) -> list[dict[str, Any]] | None:
    """The rows of `query` (which reads `marts`) as dicts; None, logged, when one of the
    marts has not been built yet: the caller links nothing from it."""
    missing = missing_marts(conn, *marts)
    if missing:
        _log.info("%s not built yet (the dbt warehouse step has not run): nothing read from it",
                  ", ".join(missing))  # fmt: skip
        return None
    cursor = conn.execute(query, params)
    columns = [c.name for c in cursor.description or ()]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


@dataclass(frozen=True)
class ScoreReport:
    """What one scoring run did, and the state of the predictions table after it."""

    model_version: str
    #: Emails scored by this run.
    scored: int
    #: Stock items the products were matched against (0: no stock master landed yet).
    products: int
    #: Rows in ml.email_predictions after the run.
    total: int
    requires_review: int
    linked_to_company: int
    by_stream: dict[str, int] = field(default_factory=dict)


def score_pending(
    conn: Any,
    classifier: Any,
    index: Any | None,
    products: Sequence[ProductRef] | None = None,
    batch: int = BATCH,
    log: Callable[[str], None] = lambda _msg: None,
    workers: int | None = None,
) -> ScoreReport:
    """Score every landed email without a prediction from `classifier` and write the results.

    `conn` is a psycopg connection outside any `conn.transaction()` block: each batch is
    committed. `index` is an `ml.search.EmailIndex` (None: no embeddings are stored).
    `products` is the stock master; None reads it from `marts.stock_levels`
    (`load_products`), and the companies and orders entities link to are read from the CRM
    and ERP marts that have been built (`load_index`).

    `workers` processes score the mail (`ml.parallel`: each with the same model and stock
    master); this process still links, routes and writes every batch, in key order, each
    committed on its own. None: `PEBBLE_SCORE_WORKERS` (default: the usable CPUs, at most
    4) when at least `ml.parallel.MIN_PARALLEL_EMAILS` emails are pending, else in process;
    1: in process. The predictions are the same either way.
    """
    from ml import parallel
    from ml.extract import get_extractor
    from ml.pipeline import score_emails
    from ml.settings import get_ml_settings

    if products is None:
        products = load_products(conn)
    extractor = get_extractor(products)
    masters = load_index(conn)
    # the rules in force when the run starts (ml.routing): a change applies from the next run
    routes = load_routes(conn)
    threshold = get_ml_settings().review_threshold
    log(
        f"scoring with model {classifier.version}: {len(products)} stock items to match, "
        f"{len(routes)} routing rules"
    )

    def finish(emails: list[dict[str, Any]], results: list[dict[str, Any]]) -> None:
        """Route, link, index and write one batch, committed on its own."""
        for email, result in zip(emails, results, strict=True):
            # the rules first: a company conflict found by the links still asks for review
            apply_routes(result, email, routes, classifier, threshold)
            attach_links(result, email, masters)
        if index is not None:
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
            write_predictions(conn, results)
        if not conn.autocommit:
            conn.commit()

    pending = 0
    if workers != 1:
        count = parallel.MIN_PARALLEL_EMAILS if workers is None else 1
        pending = conn.execute(_COUNT_PENDING, (classifier.version, count)).fetchone()[0]
    n_workers = parallel.workers_for(pending, workers, classifier, extractor)
    scored = 0
    if n_workers > 1:
        log(f"scoring in {n_workers} worker processes")
        with parallel.ScoringPool(classifier, extractor, n_workers) as pool:
            for emails, results in _score_in_pool(conn, pool, classifier.version, batch):
                finish(emails, results)
                scored += len(results)
                log(f"scored {scored} emails")
    while True:  # in process; after the workers, mail that landed behind their reading
        rows = conn.execute(_PENDING_AFTER, (classifier.version, "", batch)).fetchall()
        if not rows:
            break
        emails = [dict(zip(_PENDING_COLUMNS, row, strict=True)) for row in rows]
        results = score_emails(emails, classifier=classifier, extractor=extractor, workers=1)
        finish(emails, results)
        scored += len(results)
        log(f"scored {scored} emails")
    total, review, linked = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE requires_review), count(company_key)"
        " FROM ml.email_predictions"
    ).fetchone()
    by_stream = dict(
        conn.execute(
            "SELECT stream, count(*) FROM ml.email_predictions GROUP BY 1 ORDER BY 1"
        ).fetchall()
    )
    if not conn.autocommit:
        conn.commit()
    return ScoreReport(
        model_version=classifier.version,
        scored=scored,
        products=len(products),
        total=int(total),
        requires_review=int(review),
        linked_to_company=int(linked),
        by_stream={str(k): int(v) for k, v in by_stream.items()},
    )


def _score_in_pool(
    conn: Any, pool: Any, version: str, batch: int
) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """(emails, scored results with their embeddings) for every email pending when each
    batch is read, batch by batch in key order. The workers score a few batches ahead of
    the one the caller is writing, so each batch is read by key after the last one read,
    not as "the first pending" (which would read those in flight again)."""
    read: deque[list[dict[str, Any]]] = deque()

    def batches() -> Iterator[list[dict[str, Any]]]:
        rows = conn.execute(_PENDING_AFTER, (version, "", batch)).fetchall()
        while rows:
            emails = [dict(zip(_PENDING_COLUMNS, row, strict=True)) for row in rows]
            read.append(emails)
            yield emails
            last = emails[-1]["email_key"]
            rows = conn.execute(_PENDING_AFTER, (version, last, batch)).fetchall()

    for scored, embeddings in pool.score(batches()):
        for item, vector in zip(scored, embeddings, strict=True):
            item["embedding"] = vector.tolist()
        yield read.popleft(), scored


def attach_links(result: dict[str, Any], email: Mapping[str, Any], masters: MasterIndex) -> None:
    """Adds the sender's company (the CRM master's `company_key` and name) and each entity's
    master record to a scored email.

    When two signals name different companies nothing is linked: the email goes to review,
    and its evidence says `conflict: ...` without naming either company (see
    `ml.extract.linking`). Automated mail (`email["automated"]`: an auto-reply, a bounce,
    bulk mail) is linked to no company.
    """
    entities = [
        Entity(e["label"], e["text"], e["value"], e["start"], e["end"], e.get("valid"))
        for e in result["entities"]
    ]
    subject, body = email.get("subject") or "", email.get("body") or ""
    links = link(
        entities,
        masters,
        sender=email.get("from"),
        text=f"{subject}\n{body}",
        automated=bool(email.get("automated")),
    )
    company = links.company
    evidence = company.evidence if company else None
    if links.conflict:
        result["requires_review"] = True
        evidence = f"conflict: {links.conflict}"
    result["company_key"] = company.company if company else None
    result["company_name"] = company.name if company else None
    result["company_evidence"] = evidence
    orders = {o.mention: o.doc_no for o in links.orders}
    stock = {p.product: p.stock_item for p in links.products}
    key = company.company if company else None
    for entity in result["entities"]:
        value = str(entity["value"] or "").upper()
        if entity["label"] in ("ORDER_NO", "PO_NO"):
            entity["linked_to"] = orders.get(entity["text"]) or orders.get(str(entity["value"]))
        elif entity["label"] == "PRODUCT":
            entity["linked_to"] = stock.get(str(entity["value"]))
        elif key and _identifies(masters, entity["label"], value) == key:
            entity["linked_to"] = key
        else:
            entity["linked_to"] = None


def apply_routes(
    result: dict[str, Any],
    email: Mapping[str, Any],
    routes: Routes,
    classifier: Any,
    threshold: float,
) -> None:
    """Let the routing rules decide the stream of a scored email before the model does
    (``ml.routing``): the rule's stream is stored, ``routed_by`` names the rule, and the
    model's own stream, intent and confidence are kept beside it. The model's intent
    probabilities (from the email's embedding, when the result carries it) choose the
    intent within a forced stream. Mail filed under ``other`` with business evidence still
    asks for review."""
    from ml.pipeline import lead_at_risk

    rule = routes.match(email.get("from"), email.get("subject"), email.get("mailbox"))
    scores = None
    head, intents = getattr(classifier, "head", None), getattr(classifier, "intents", None)
    if rule is not None and head is not None and intents and result.get("embedding") is not None:
        import numpy as np

        probabilities = head.probabilities(np.asarray([result["embedding"]], dtype=np.float32))
        scores = dict(zip(intents, probabilities[0].tolist(), strict=True))
    route_prediction(
        result,
        rule,
        scores,
        threshold=threshold,
        review=rule is not None and lead_at_risk(rule.stream, result["entities"]),
    )


def _identifies(masters: MasterIndex, label: str, value: str) -> str | None:
    """The company a GSTIN, PAN or CIN on file belongs to."""
    if label == "GSTIN":
        return masters.company_by_gstin.get(value) or masters.company_by_pan.get(value[2:12])
    if label == "PAN":
        return masters.company_by_pan.get(value)
    if label == "CIN":
        return masters.company_by_cin.get(value)
    return None


def write_predictions(conn: Any, results: Sequence[Mapping[str, Any]]) -> None:
    """Upsert the predictions of scored emails and replace their entities.

    Idempotent: writing the same results again leaves the same rows.
    """
    keys = [r["email_key"] for r in results]
    conn.execute("DELETE FROM ml.email_entities WHERE email_key = ANY(%s)", (keys,))
    with conn.cursor() as cur:
        cur.executemany(
            _UPSERT_PREDICTION,
            [
                (
                    r["email_key"],
                    r["model_version"],
                    r["stream"],
                    r["intent"],
                    float(r["confidence"]),
                    float(r["stream_confidence"]),
                    bool(r["requires_review"]),
                    r.get("company_key"),
                    r.get("company_name"),
                    r.get("company_evidence"),
                    r.get("routed_by"),
                    r.get("model_stream") or r["stream"],
                    r.get("model_intent") or r["intent"],
                    float(r.get("model_confidence", r["confidence"])),
                )
                for r in results
            ],
        )
        with cur.copy(_COPY_ENTITIES) as copy:
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
