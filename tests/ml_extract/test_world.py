"""Extraction against the ground truth of a freshly generated demo world.

The world's truth leaves forwarded bodies unlabelled, so it is scored with
`keep_forwarded=False` (see ml.extract.evaluate.world_examples).
"""

from __future__ import annotations

import pytest

from demo.world import generate_world, load_jsonl
from ml.extract.evaluate import score, world_examples, world_products
from ml.extract.linking import build_index, link_company
from ml.extract.pipeline import Extractor

MIN_F1 = 0.95


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("world")
    generate_world(root, seed=11, scale=0.1)
    return root


@pytest.fixture(scope="module")
def predictions(world):
    examples = world_examples(world)
    assert len(examples) > 100
    extractor = Extractor(world_products(world), keep_forwarded=False)
    return examples, extractor.extract_many([text for text, _ in examples])


def test_every_label_scores_on_generated_mail(predictions):
    examples, predicted = predictions
    report = score(predicted, [gold for _, gold in examples])
    for label, s in report.labels.items():
        assert s.support > 0, f"the world has no {label}"
        assert s.f1 >= MIN_F1, f"{label} F1 {s.f1:.3f}\n{report.table()}"


def test_gstin_validity_flags_match_the_truth(predictions):
    examples, predicted = predictions
    checked = 0
    for (_, gold), found in zip(examples, predicted, strict=True):
        flags = {e.value: e.valid for e in found if e.label == "GSTIN"}
        for g in gold:
            if g["label"] == "GSTIN" and "valid" in g:
                assert flags[g["value"]] is g["valid"], g
                checked += 1
    assert checked > 10


def test_identifiers_link_messages_to_their_company(world, predictions):
    examples, predicted = predictions
    from ingest.mail.parse import parse_email

    emails: dict[str, list[str]] = {}
    for contact in load_jsonl(world / "contacts.jsonl"):
        emails.setdefault(contact["company_id"], []).append(contact["email"])
    companies = [
        {**c, "emails": emails.get(c["company_id"], [])}
        for c in load_jsonl(world / "companies.jsonl")
    ]
    index = build_index(companies, load_jsonl(world / "sales_orders.jsonl"))
    truths = list(load_jsonl(world / "mail" / "truth.jsonl"))
    linked = wrong = 0
    for truth, found in zip(truths, predicted, strict=True):
        if truth["direction"] != "inbound" or truth["company_id"] is None:
            continue
        sender = parse_email((world / truth["file"]).read_bytes()).from_addr
        company = link_company(found, index, sender)
        if company is not None:
            linked += 1
            wrong += company.company != truth["company_id"]
    assert linked > 20
    assert wrong / linked < 0.05
