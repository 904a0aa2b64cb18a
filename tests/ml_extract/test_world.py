"""Extraction against the ground truth of a freshly generated demo world.

The world's truth leaves forwarded bodies unlabelled, so it is scored with
`keep_forwarded=False` (see ml.extract.evaluate.world_examples).
"""

from __future__ import annotations

import pytest

from demo.world import generate_world, load_jsonl
from ml.extract.evaluate import score, world_examples, world_products
from ml.extract.linking import build_index, link
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


#: The issue's targets for linking inbound mail to its company (precision first: a wrong
#: link shows one customer another customer's orders).
MIN_LINK_PRECISION = 0.98
MIN_LINK_RECALL = 0.95


def test_mail_links_to_its_company_with_precision_first(world, predictions):
    """Every inbound message, including those with no true company (automated mail, a
    near-namesake writing from a customer's domain): precision over all links made."""
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
    linked = correct = truly = 0
    for truth, found in zip(truths, predicted, strict=True):
        if truth["direction"] != "inbound":
            continue
        message = parse_email((world / truth["file"]).read_bytes())
        links = link(
            found,
            index,
            message.from_addr,
            text=f"{message.subject}\n{message.body_text}",
            automated=message.is_auto_reply or message.is_bounce or message.is_bulk,
        )
        truly += truth["company_id"] is not None
        if links.company is not None:
            linked += 1
            correct += links.company.company == truth["company_id"]
    assert linked > 20 and truly > 20
    precision, recall = correct / linked, correct / truly
    print(f"mail links: precision {precision:.4f} recall {recall:.4f} ({linked} linked)")
    assert precision >= MIN_LINK_PRECISION
    assert recall >= MIN_LINK_RECALL
