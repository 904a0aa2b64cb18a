"""The public API: ordering, batching, defaults and bad input."""

from __future__ import annotations

import pytest

import ml.extract
from ml.extract import Entity, get_extractor
from ml.extract.pipeline import SPAN_KEY, Extractor

EMAIL = """Subject: PO No. 4500012345 - Titanium Dioxide Rutile

Hi,

Please find attached our PO No. 4500012345 for 2 tonnes of TiO2 rutile at Rs 248/kg.
Billing GSTIN 36AADCD7742M1Z9, our order ref SO/25-26/01877.

Regards,
Anita
"""


def test_full_email(extractor):
    got = [(e.label, e.value) for e in extractor.extract(EMAIL)]
    assert got == [
        ("PO_NO", "4500012345"),
        ("PRODUCT", "Titanium Dioxide Rutile"),
        ("PO_NO", "4500012345"),
        ("QUANTITY", 2000.0),
        ("PRODUCT", "Titanium Dioxide Rutile"),
        ("PRICE", 248.0),
        ("GSTIN", "36AADCD7742M1Z9"),
        ("ORDER_NO", "SO/25-26/01877"),
    ]
    for e in extractor.extract(EMAIL):
        assert EMAIL[e.start : e.end] == e.text


def test_extract_many_matches_extract_in_order(extractor):
    texts = [EMAIL, "", "caustic ka rate", "nothing here", EMAIL.upper()]
    batched = extractor.extract_many(texts, batch_size=2)
    assert batched == [extractor.extract(t) for t in texts]
    assert batched[1] == [] and batched[3] == []


def test_extract_many_accepts_a_generator(extractor):
    result = extractor.extract_many(t for t in ["ZnO 5 MT", "IPA"])
    assert [[e.value for e in r] for r in result] == [["Zinc Oxide", 5000.0], ["Isopropyl Alcohol"]]


def test_non_text_is_rejected_clearly(extractor):
    with pytest.raises(TypeError, match="expected str, got bytes"):
        extractor.extract(b"ZnO 5 MT")  # type: ignore[arg-type]


def test_entities_are_immutable_values():
    e = Entity("PRICE", "Rs 5/kg", 5.0, 0, 7)
    with pytest.raises(AttributeError):
        e.value = 6.0  # type: ignore[misc]
    assert e.valid is None


def test_get_extractor_is_cached_per_stock_master(catalogue):
    assert get_extractor(catalogue) is get_extractor(list(catalogue))
    assert get_extractor() is get_extractor()
    assert get_extractor() is not get_extractor(catalogue)
    assert ml.extract.Extractor is Extractor


def test_without_a_stock_master_no_product_is_found_but_the_rest_is():
    found = get_extractor().extract("Pls quote ZnO 5 MT at Rs 262/kg, GSTIN 27AAPFU0939F1ZV")
    assert [e.label for e in found] == ["QUANTITY", "PRICE", "GSTIN"]


def test_to_doc_exposes_spacy_spans(extractor):
    doc = extractor.to_doc("ZnO 5 MT at Rs 262/kg")
    assert [(s.label_, s.text) for s in doc.spans[SPAN_KEY]] == [
        ("PRODUCT", "ZnO"),
        ("QUANTITY", "5 MT"),
        ("PRICE", "Rs 262/kg"),
    ]


def test_bad_product_entries_are_reported():
    with pytest.raises(ValueError, match="empty product tuple"):
        Extractor([()])
    with pytest.raises(ValueError, match="product without a name"):
        Extractor([object()])


def test_include_quoted_default_can_be_set_per_extractor(catalogue):
    text = "ok\n> ZnO 5 MT"
    assert Extractor(catalogue, include_quoted=True).extract(text) != []
    assert Extractor(catalogue).extract(text) == []
