"""Semantic search over emails: their embeddings in Qdrant, filtered by payload.

Local, in-process Qdrant under `$PEBBLE_HOME/qdrant` by default; a server when
`QDRANT_URL` is set. One point per email, its id derived from the email key, so
upserting the same email again replaces it instead of adding a copy.
"""

from __future__ import annotations

import atexit
import logging
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from time import monotonic, sleep
from typing import Any

import numpy as np

from ml.encoder import EMBEDDING_DIM

log = logging.getLogger(__name__)

COLLECTION = "emails"
#: Namespace of the point ids (uuid5 of the email key); never change it, or upserts duplicate.
POINT_NAMESPACE = uuid.UUID("6f1c1b8e-2a53-5d5e-9a43-5b2f4c0e7d11")
#: Dates without a time zone are the business's local time (India has no daylight saving).
BUSINESS_TZ = timezone(timedelta(hours=5, minutes=30), "IST")

DateLike = date | datetime | str | None


@dataclass(frozen=True)
class SearchHit:
    """One email found by a search, best first."""

    email_key: str
    score: float
    stream: str | None
    intent: str | None
    company_id: str | None
    sent_at: str | None
    subject: str | None


def point_id(email_key: str) -> str:
    """The stable Qdrant point id of an email."""
    return str(uuid.uuid5(POINT_NAMESPACE, email_key))


def to_datetime(value: DateLike, end_of_day: bool = False) -> datetime | None:
    """An aware datetime for a date, datetime or ISO string (naive means IST).

    A bare date is its first instant, or with `end_of_day` its last, so `date_to` is inclusive.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not an ISO date or datetime: {value!r}") from None
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.max if end_of_day else time.min)
    if value.tzinfo is None:
        value = value.replace(tzinfo=BUSINESS_TZ)
    return value


#: How long a process waits for another process to release the embedded store (seconds;
#: ``PEBBLE_QDRANT_WAIT_S`` overrides it).
LOCAL_STORE_WAIT_S = 600.0
WAIT_ENV = "PEBBLE_QDRANT_WAIT_S"


class QdrantStoreLocked(RuntimeError):
    """Another process held the embedded Qdrant store for longer than this one would wait.

    Nothing was scored or indexed: a scoring run opens the index before its first batch,
    and writes each batch's predictions only after its embeddings are stored, so a re-run
    scores every pending email exactly once.
    """

    code = "QDRANT_STORE_LOCKED"

    def __init__(self, path: str, waited_s: float) -> None:
        super().__init__(path, waited_s)
        self.path = path
        self.waited_s = waited_s

    def __str__(self) -> str:
        return (
            f"the embedded Qdrant store {self.path} is in use by another process (waited "
            f"{self.waited_s:.0f} s). Next: let that run finish (a Dagster run scoring mail, "
            "`pebble predict`, the app's search), or stop it, then run the scoring again: "
            "nothing was scored, so nothing is lost or doubled. For several processes at "
            f"once set QDRANT_URL to a Qdrant server; {WAIT_ENV} sets how long to wait"
        )


def _wait_s(default: float) -> float:
    value = os.environ.get(WAIT_ENV)
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        raise ValueError(f"{WAIT_ENV} must be a number of seconds, got {value!r}") from None


@lru_cache(maxsize=4)
def _local_client(path: str, wait_s: float | None = None) -> Any:
    """The embedded store at ``path``. It admits one process at a time (two Dagster runs
    scoring mail at once, say): wait for the other to finish rather than fail, up to
    ``wait_s`` (default :data:`LOCAL_STORE_WAIT_S` or ``PEBBLE_QDRANT_WAIT_S``), then raise
    :class:`QdrantStoreLocked`."""
    from qdrant_client import QdrantClient

    wait = _wait_s(LOCAL_STORE_WAIT_S) if wait_s is None else wait_s
    Path(path).mkdir(parents=True, exist_ok=True)
    started = monotonic()
    while True:
        try:
            client = QdrantClient(path=path)
            # closed while the interpreter is intact: at teardown its __del__ cannot
            # import what closing needs, and prints an ImportError traceback
            atexit.register(client.close)
            return client
        except RuntimeError as exc:
            if "already accessed" not in str(exc):
                raise
            if monotonic() - started >= wait:
                raise QdrantStoreLocked(path, monotonic() - started) from None
            log.info("embedded Qdrant store %s is busy; waiting", path)
            sleep(min(1.0, max(0.05, wait / 10)))


def default_client() -> Any:
    """A Qdrant server from `QDRANT_URL`, else the embedded store under $PEBBLE_HOME/qdrant."""
    from ml.settings import get_ml_settings
    from pebble.settings import get_settings

    settings = get_ml_settings()
    if settings.qdrant_url:
        from qdrant_client import QdrantClient

        key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        return QdrantClient(url=settings.qdrant_url, api_key=key)
    # The embedded store locks its folder; one client per folder per process.
    return _local_client(str(get_settings().home / "qdrant"))


class EmailIndex:
    """The `emails` collection: upsert email embeddings, search with payload filters."""

    def __init__(
        self, client: Any | None = None, collection: str = COLLECTION, encoder: Any | None = None
    ) -> None:
        self.client = client if client is not None else default_client()
        self.collection = collection
        #: Embeds search texts; default: the encoder of the classifier in service.
        self.encoder = encoder
        self._ready = False

    def ensure_collection(self) -> None:
        """Create the collection (cosine, 384-d) and its payload indexes if missing."""
        if self._ready:
            return
        from qdrant_client import models

        if not self.client.collection_exists(self.collection):
            self.client.create_collection(
                self.collection,
                vectors_config=models.VectorParams(
                    size=EMBEDDING_DIM, distance=models.Distance.COSINE
                ),
            )
            if not _is_local(self.client):  # the embedded store filters without indexes
                for name, schema in (
                    ("stream", models.PayloadSchemaType.KEYWORD),
                    ("intent", models.PayloadSchemaType.KEYWORD),
                    ("company_id", models.PayloadSchemaType.KEYWORD),
                    ("sent_at_ts", models.PayloadSchemaType.FLOAT),
                ):
                    self.client.create_payload_index(self.collection, name, schema)
        self._ready = True

    def upsert(self, emails: Iterable[dict[str, Any]], batch_size: int = 256) -> int:
        """Insert or replace emails; each dict has `email_key` and `embedding`, and optionally
        `stream`, `intent`, `company_id`, `sent_at`, `subject`. Returns how many were written."""
        from qdrant_client import models

        self.ensure_collection()
        written = 0
        batch: list[models.PointStruct] = []
        for email in emails:
            key = str(email["email_key"])
            vector = np.asarray(email["embedding"], dtype=np.float32)
            if vector.shape != (EMBEDDING_DIM,):
                raise ValueError(f"{key}: embedding must have {EMBEDDING_DIM} numbers")
            sent = to_datetime(email.get("sent_at"))
            payload = {
                "email_key": key,
                "stream": email.get("stream"),
                "intent": email.get("intent"),
                "company_id": None if email.get("company_id") is None else str(email["company_id"]),
                "sent_at": sent.isoformat() if sent else None,
                "sent_at_ts": sent.timestamp() if sent else None,
                "subject": email.get("subject"),
            }
            batch.append(
                models.PointStruct(id=point_id(key), vector=vector.tolist(), payload=payload)
            )
            if len(batch) >= batch_size:
                self.client.upsert(self.collection, points=batch, wait=True)
                written += len(batch)
                batch = []
        if batch:
            self.client.upsert(self.collection, points=batch, wait=True)
            written += len(batch)
        return written

    def count(self) -> int:
        """How many emails are indexed."""
        self.ensure_collection()
        return int(self.client.count(self.collection, exact=True).count)

    def search_vector(
        self,
        vector: Sequence[float] | np.ndarray,
        stream: str | None = None,
        company_id: str | None = None,
        date_from: DateLike = None,
        date_to: DateLike = None,
        limit: int = 10,
        intent: str | None = None,
    ) -> list[SearchHit]:
        """The `limit` emails nearest to `vector` that match every given filter."""
        self.ensure_collection()
        result = self.client.query_points(
            self.collection,
            query=np.asarray(vector, dtype=np.float32).tolist(),
            query_filter=_filter(stream, intent, company_id, date_from, date_to),
            limit=limit,
            with_payload=True,
        )
        return [
            SearchHit(
                email_key=p.payload.get("email_key"),
                score=float(p.score),
                stream=p.payload.get("stream"),
                intent=p.payload.get("intent"),
                company_id=p.payload.get("company_id"),
                sent_at=p.payload.get("sent_at"),
                subject=p.payload.get("subject"),
            )
            for p in result.points
        ]

    def search(
        self,
        text: str,
        stream: str | None = None,
        company_id: str | None = None,
        date_from: DateLike = None,
        date_to: DateLike = None,
        limit: int = 10,
        intent: str | None = None,
    ) -> list[SearchHit]:
        """Emails whose meaning is nearest to `text`, embedded like indexed emails are."""
        if self.encoder is None:
            self.encoder = query_encoder()
        vector = self.encoder.encode([text])[0]
        return self.search_vector(vector, stream, company_id, date_from, date_to, limit, intent)


def query_encoder():
    """The encoder of the classifier in service (emails were indexed with it); the default
    encoder when no classifier is trained yet."""
    from ml.classifier import load_classifier
    from ml.encoder import get_encoder
    from ml.store import ModelNotFoundError

    try:
        return load_classifier().encoder
    except ModelNotFoundError:
        return get_encoder()


def search(
    text: str,
    stream: str | None = None,
    company_id: str | None = None,
    date_from: DateLike = None,
    date_to: DateLike = None,
    limit: int = 10,
) -> list[SearchHit]:
    """Semantic search over the default `emails` collection (see :meth:`EmailIndex.search`)."""
    return EmailIndex().search(text, stream, company_id, date_from, date_to, limit)


def _is_local(client: Any) -> bool:
    return type(getattr(client, "_client", None)).__name__ == "QdrantLocal"


def _filter(
    stream: str | None,
    intent: str | None,
    company_id: str | None,
    date_from: DateLike,
    date_to: DateLike,
) -> Any:
    from qdrant_client import models

    must: list[Any] = []
    for name, value in (("stream", stream), ("intent", intent), ("company_id", company_id)):
        if value is not None:
            must.append(models.FieldCondition(key=name, match=models.MatchValue(value=str(value))))
    start, end = to_datetime(date_from), to_datetime(date_to, end_of_day=True)
    if start or end:
        must.append(
            models.FieldCondition(
                key="sent_at_ts",
                range=models.Range(
                    gte=start.timestamp() if start else None,
                    lte=end.timestamp() if end else None,
                ),
            )
        )
    return models.Filter(must=must) if must else None
