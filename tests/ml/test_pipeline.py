import pytest

from ml.classifier import load_classifier
from ml.pipeline import InputError, score_emails
from ml.search import EmailIndex
from ml.taxonomy import stream_of

ROWS = [
    {
        "email_key": "m1",
        "subject": "Rate for zinc oxide",
        "sent_at": "2025-06-02",
        "company_id": "C001",
        "body": "Dear Sir, kindly quote your best price for 5 MT zinc oxide.\nGSTIN 27AAPFU0939F1ZV",
    },
    {
        "email_key": "m2",
        "subject": "Re: SO/25-26/01877",
        "sent_at": "2025-06-03",
        "body": "Our order is still not dispatched, please share vehicle number.\n\n"
        "On Mon, 2 Jun 2025, Sales <sales@pebbledemo.in> wrote:\n> Order confirmed",
    },
    {"email_key": "m3", "subject": "Out of office", "body": "I am on leave till Monday."},
]


def test_score_classifies_extracts_embeds_and_indexes(home_with_model, tmp_path) -> None:
    from qdrant_client import QdrantClient

    clf = load_classifier(home=home_with_model)
    client = QdrantClient(path=str(tmp_path / "q"))
    try:
        index = EmailIndex(client, encoder=clf.encoder)
        scored = score_emails(ROWS, classifier=clf, index=index, batch_size=2)
        assert [s["email_key"] for s in scored] == ["m1", "m2", "m3"]
        for s in scored:
            assert stream_of(s["intent"]) == s["stream"]
            assert 0.0 <= s["confidence"] <= s["stream_confidence"] <= 1.0
            assert len(s["embedding"]) == 384
            assert s["model_version"] == clf.version
            assert isinstance(s["entities"], list)
        assert index.count() == 3
        score_emails(ROWS, classifier=clf, index=index)  # re-scoring replaces, never duplicates
        assert index.count() == 3
        hits = index.search("send me the vehicle number of my order", limit=1)
        assert hits[0].email_key == "m2" and hits[0].intent == scored[1]["intent"]
    finally:
        client.close()
    gstins = [e for e in scored[0]["entities"] if e["label"] == "GSTIN"]
    assert gstins and gstins[0]["value"] == "27AAPFU0939F1ZV" and gstins[0]["valid"] is True


def test_bad_rows_are_named(home_with_model) -> None:
    clf = load_classifier(home=home_with_model)
    with pytest.raises(InputError, match="row 1"):
        score_emails([ROWS[0], {"subject": "no key"}], classifier=clf)
    with pytest.raises(InputError, match="m9"):
        score_emails([{"email_key": "m9", "body": 42}], classifier=clf)
