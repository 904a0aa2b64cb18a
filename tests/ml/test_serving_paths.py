"""The fast serving paths give what the plain ones give.

* `Extractor.extract`/`extract_many` run the spaCy pipeline's rule components straight on
  the text (no tokenizer): their entities must be exactly those of `nlp(text)`.
* The encoder in bfloat16 (on a CPU with AMX) must give the float32 vectors to within
  rounding; elsewhere the setting falls back to int8.
* `entity_dict` reads the extractor's entities directly: same dict as `dataclasses.asdict`.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest

from demo.world.catalogue import PRODUCTS
from ml.encoder import Encoder, EncoderConfig, native_bf16
from ml.extract import as_product_refs
from ml.extract.pipeline import ENTITIES_ATTR, Extractor
from ml.pipeline import entity_dict

TEXTS = [
    "Rate for zinc oxide\nKindly quote 5 MT zinc oxide, 200 bags of 25 kg, Rs 248/kg.",
    "Re: PO for H2SO4\nPO No. 4500012345 for 2 tonnes of TiO2 rutile at Rs 45,000 per MT.\n"
    "GSTIN 36AADCD7742M1Z9, our order ref SO/25-26/01877, PAN AADCD7742M.",
    "titanium dioxde anatase 12 drums, sodium bi carbonate 1 lakh kg, caustic lye 2 tankers",
    "Fwd: quote\n---------- Forwarded message ---------\nFrom: a@b.in\nSubject: x\n\n"
    "Need 40 bags CAM-2506 and 10 carboys of HCl @ 1,18,000 total\n> old 99 MT zinc oxide",
    "",
    "nothing here at all",
]


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor(as_product_refs(PRODUCTS))


def _through_spacy(extractor: Extractor, text: str) -> list:
    doc = extractor.nlp(extractor._prepare(text, None))
    return sorted(getattr(doc._, ENTITIES_ATTR) or [], key=lambda e: (e.start, e.end, e.label))


def test_direct_rules_equal_the_spacy_pipeline(extractor: Extractor) -> None:
    many = extractor.extract_many(TEXTS)
    found_any = 0
    for text, batch_result in zip(TEXTS, many, strict=True):
        expected = _through_spacy(extractor, text)
        assert extractor.extract(text) == expected
        assert batch_result == expected
        found_any += len(expected)
    assert found_any >= 15  # the texts do exercise every finder
    labels = {e.label for result in many for e in result}
    assert {"PRODUCT", "QUANTITY", "PRICE", "GSTIN", "PAN", "PO_NO", "ORDER_NO"} <= labels


def test_a_typo_still_finds_its_product(extractor: Extractor) -> None:
    products = [e for e in extractor.extract(TEXTS[2]) if e.label == "PRODUCT"]
    assert products and products[0].text == "titanium dioxde anatase"


def test_entity_dict_is_asdict(extractor: Extractor) -> None:
    entities = [e for result in extractor.extract_many(TEXTS) for e in result]
    assert entities
    for entity in entities:
        assert entity_dict(entity) == asdict(entity)
    assert entity_dict({"label": "PAN", "text": "x"})["value"] is None


def test_precision_follows_the_cpu() -> None:
    assert EncoderConfig(bf16=False, int8=True).precision() == "int8"
    assert EncoderConfig(bf16=False, int8=False).precision() == "fp32"
    assert EncoderConfig().precision() == "int8"  # the shipped default
    expected = "bf16" if native_bf16() else "int8"
    assert EncoderConfig(bf16=True).precision() == expected


def test_bf16_vectors_are_the_fp32_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    # On a CPU without AMX the encoder never chooses bfloat16; the path is forced here so
    # that its conversion is checked on every machine (PyTorch computes it without AMX too).
    if not native_bf16():
        monkeypatch.setattr("ml.encoder.native_bf16", lambda: True)
    texts = [t for t in TEXTS if t] * 3
    fp32 = Encoder(EncoderConfig(int8=False, bf16=False)).encode(texts)
    bf16_encoder = Encoder(EncoderConfig(bf16=True))
    assert bf16_encoder.precision == "bf16"
    bf16 = bf16_encoder.encode(texts)
    assert bf16.dtype == np.float32 and bf16.shape == fp32.shape
    assert np.allclose(np.linalg.norm(bf16, axis=1), 1.0, atol=1e-4)
    cosine = (bf16 * fp32).sum(axis=1)
    assert cosine.min() > 0.999
    assert bf16_encoder.identity()["precision"] == "bf16"
