from datetime import date

import pytest

from ml.encoder import get_encoder
from ml.search import EmailIndex, point_id

EMAILS = [
    ("e1", "Please quote price for 5 MT zinc oxide", "crm", "C001", "2025-06-02T10:00:00+05:30"),
    ("e2", "Rate required for titanium dioxide rutile", "crm", "C002", "2025-07-15T09:00:00+05:30"),
    ("e3", "Our order SO/25-26/01877 has not been dispatched yet", "erp", "C001", "2025-06-20"),
    ("e4", "Material received is lumpy, moisture above spec", "erp", "C002", "2025-08-01"),
    ("e5", "Tender for supply of alum to municipal water works", "tender", None, "2025-06-05"),
]


@pytest.fixture
def index(tmp_path) -> EmailIndex:
    from qdrant_client import QdrantClient

    client = QdrantClient(path=str(tmp_path / "qdrant"))
    yield EmailIndex(client, encoder=get_encoder())
    client.close()


def _records():
    vectors = get_encoder().encode([text for _, text, *_ in EMAILS])
    return [
        {
            "email_key": key,
            "embedding": vec,
            "stream": stream,
            "intent": None,
            "company_id": company,
            "sent_at": sent,
            "subject": text,
        }
        for (key, text, stream, company, sent), vec in zip(EMAILS, vectors, strict=True)
    ]


def test_upsert_is_idempotent(index: EmailIndex) -> None:
    assert index.upsert(_records()) == 5
    assert index.upsert(_records()) == 5
    assert index.count() == 5
    assert point_id("e1") == point_id("e1") != point_id("e2")


def test_nearest_email_comes_first(index: EmailIndex) -> None:
    index.upsert(_records())
    hits = index.search("when will my order be dispatched?")
    assert hits[0].email_key == "e3"
    assert hits[0].score > hits[-1].score


def test_filters(index: EmailIndex) -> None:
    index.upsert(_records())
    assert {h.email_key for h in index.search("zinc oxide rate", stream="crm")} == {"e1", "e2"}
    assert {h.email_key for h in index.search("anything", company_id="C001")} == {"e1", "e3"}
    june = index.search("anything", date_from=date(2025, 6, 1), date_to="2025-06-30")
    assert {h.email_key for h in june} == {"e1", "e3", "e5"}
    # date_to is inclusive of the whole day, in Indian time
    assert {h.email_key for h in index.search("x", date_to="2025-06-02")} == {"e1"}
    both = index.search("quality", stream="erp", company_id="C002", date_from="2025-07-01")
    assert [h.email_key for h in both] == ["e4"]
    assert index.search("x", limit=2).__len__() == 2


def test_wrong_embedding_size_is_refused(index: EmailIndex) -> None:
    with pytest.raises(ValueError, match="384"):
        index.upsert([{"email_key": "bad", "embedding": [0.1, 0.2]}])


def test_a_busy_embedded_store_is_waited_for(tmp_path) -> None:
    """A second process opening the embedded store waits for the first to let go."""
    import subprocess
    import sys

    from ml.search import _local_client

    path = str(tmp_path / "store")
    holder = _local_client(path)
    opener = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import logging, sys; logging.basicConfig(level=logging.INFO);"
            "from ml.search import _local_client; _local_client(sys.argv[1], 600.0).close();"
            "print('opened')",
            path,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert opener.stderr is not None
    # The opener reports that the store is busy (read until it says so, or exits).
    waited = any("is busy; waiting" in line for line in iter(opener.stderr.readline, ""))
    assert waited and opener.poll() is None  # still waiting while this process holds it
    holder.close()
    _local_client.cache_clear()
    out, err = opener.communicate(timeout=600)
    assert opener.returncode == 0, err
    assert out.strip() == "opened"
