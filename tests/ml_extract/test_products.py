"""Product mentions linked to canonical catalogue names."""

from __future__ import annotations

import pytest

from ml.extract.entities import ProductRef
from ml.extract.pipeline import Extractor
from ml.extract.products import ProductMatcher, osa_distance


def products(entities):
    return [e.value for e in entities if e.label == "PRODUCT"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kindly quote Zinc Oxide rubber grade", "Zinc Oxide"),
        ("need ZnO 5 MT", "Zinc Oxide"),
        ("2 tonnes of TiO2 rutile", "Titanium Dioxide Rutile"),
        ("IPA 10 drums", "Isopropyl Alcohol"),
        ("MEG 20 drums", "Mono Ethylene Glycol"),
        ("SLES 70% - 5 drums", "Sodium Lauryl Ether Sulphate 70%"),
        ("LABSA 96", "Linear Alkyl Benzene Sulphonic Acid"),
        ("SHMP 50 bags", "Sodium Hexametaphosphate"),
        ("H2O2 50% 40 carboys", "Hydrogen Peroxide 50%"),
        ("HCl 33% for water treatment", "Hydrochloric Acid 33%"),
        ("PCC for paper coating", "Calcium Carbonate Precipitated"),
        ("P.V.C. resin K 67", "PVC Resin K67"),
        ("Sodium Bi Carbonate food grade", "Sodium Bicarbonate"),
        ("titanium-dioxide rutile", "Titanium Dioxide Rutile"),
        ("CAUSTIC SODA FLAKES 10 MT", "Caustic Soda Flakes"),
    ],
)
def test_names_aliases_and_abbreviations(extractor, text, expected):
    assert products(extractor.extract(text)) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tittanium dioxide rutile 5 MT", "Titanium Dioxide Rutile"),
        ("hydrochloric aicd 33%", "Hydrochloric Acid 33%"),
        ("acetnoe 2 drums", "Acetone"),
        ("Sodium Bicarbonat 50 bags", "Sodium Bicarbonate"),
        ("magnesuim oxide light", "Magnesium Oxide"),
    ],
)
def test_typos_are_matched_fuzzily(extractor, text, expected):
    assert products(extractor.extract(text)) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("caustic ka rate bhejo", "Caustic Soda Flakes"),
        ("bhai kostik soda chahiye 5 MT", "Caustic Soda Flakes"),
        ("nimbu sat ka bhav batao", "Citric Acid Monohydrate"),
        ("jasta oxide 100 bori", "Zinc Oxide"),
        ("namak ka tezab 20 can", "Hydrochloric Acid 33%"),
    ],
)
def test_hinglish_mentions(extractor, text, expected):
    assert products(extractor.extract(text)) == [expected]


def test_generic_mention_takes_the_standard_grade(extractor):
    assert products(extractor.extract("need titanium dioxide 2 MT")) == ["Titanium Dioxide Rutile"]


def test_generic_mention_follows_a_grade_named_elsewhere(extractor):
    found = products(extractor.extract("TiO2 price? we use the anatase grade for paper"))
    assert found[0] == "Titanium Dioxide Anatase"
    found = products(
        extractor.extract("Titanium Dioxide Anatase 40 bags. Is the titanium dioxide fresh?")
    )
    assert found == ["Titanium Dioxide Anatase", "Titanium Dioxide Anatase"]


def test_longest_name_wins(extractor):
    assert products(extractor.extract("caustic soda lye 48% tanker")) == ["Caustic Soda Lye 48%"]
    assert products(extractor.extract("soda ash dense 10 MT")) == ["Soda Ash Dense"]


@pytest.mark.parametrize(
    "text",
    [
        "Meg from our team will call",  # a name, not MEG
        "we need the cam shaft",
        "batch CAM-2506-014 is rejected",  # a batch number that starts like an alias
        "Diethylene glycol content is high",  # another substance
        "sodium content and acid value",
        "please call me on the water line",
    ],
)
def test_words_that_are_not_products(extractor, text):
    assert products(extractor.extract(text)) == []


def test_entity_offsets_and_text(extractor):
    text = "Rate for Zinc  Oxide?"
    [product] = [e for e in extractor.extract(text) if e.label == "PRODUCT"]
    assert text[product.start : product.end] == product.text == "Zinc  Oxide"


def test_custom_stock_master_from_tuples():
    custom = Extractor(
        [
            ("Red Iron Oxide 130", ("iron oxide red", "RIO"), 25.0, "bag"),
            ("Ferric Chloride", ("FeCl3",), 35.0, "carboy"),
        ]
    )
    entities = custom.extract("pls quote RIO 40 bags and FeCl3 10 carboys, also iron oxide red")
    assert products(entities) == ["Red Iron Oxide 130", "Ferric Chloride", "Red Iron Oxide 130"]
    assert [e.value for e in entities if e.label == "QUANTITY"] == [1000.0, 350.0]
    # Only the stock master given is matched.
    assert products(custom.extract("Zinc Oxide 5 MT")) == []


def test_matcher_accepts_product_refs():
    matcher = ProductMatcher([ProductRef("Acetone", ("DMK",))])
    assert [e.value for e in matcher.find("DMK and acetone")] == ["Acetone", "Acetone"]


def test_osa_distance():
    assert osa_distance("acetone", "acetone", 1) == 0
    assert osa_distance("acetnoe", "acetone", 1) == 1  # adjacent swap is one edit
    assert osa_distance("kitten", "sitting", 5) == 3
    assert osa_distance("abc", "xyzabc", 1) == 2  # capped at limit + 1


@pytest.mark.parametrize(
    "text",
    [
        "Total alkalinity 44.2% NaOH, below spec",
        "Purity (as ZnO) 99.7%",
        "TiO2 content 93% min",
        "Moisture 0.8%, SiO2 content 88%",
    ],
)
def test_formulas_naming_test_parameters_are_not_products(extractor, text):
    assert products(extractor.extract(text)) == []


def test_formulas_naming_products_still_count(extractor):
    assert products(extractor.extract("5 MT of ZnO, such as ZnO grade")) == ["Zinc Oxide"] * 2
