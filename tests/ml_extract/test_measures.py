"""Quantities in kilograms and prices in rupees."""

from __future__ import annotations

import pytest


def values(entities, label):
    return [e.value for e in entities if e.label == label]


@pytest.mark.parametrize(
    ("text", "kg"),
    [
        ("need 5 MT", 5000.0),
        ("5MT urgent", 5000.0),
        ("2.5 M.T. of it", 2500.0),
        ("2 tonnes", 2000.0),
        ("3 tons", 3000.0),
        ("1 Ton", 1000.0),
        ("4 MTs", 4000.0),
        ("5,000 kg", 5000.0),
        ("500 kgs.", 500.0),
        ("1,00,000 kg", 100000.0),
        ("100,000 kg", 100000.0),
        ("750KG", 750.0),
        ("1 kg sample", 1.0),
        ("500 gm sample", 0.5),
        ("20 quintal", 2000.0),
        ("1 lakh kg", 100000.0),
        ("100 bags (25 kg)", 2500.0),
        ("400 bags of 50 kg", 20000.0),
        ("12 drums x 160 kg", 1920.0),
        ("12 Drums x 160 kgs", 1920.0),
        ("40 carboys of 35 kg", 1400.0),
        ("100 x 25 kg bags", 2500.0),
        ("25 kg x 40 bags", 1000.0),
        ("5 IBC tanks", 5000.0),
    ],
)
def test_quantity_forms(extractor, text, kg):
    assert values(extractor.extract(text), "QUANTITY") == [kg]


@pytest.mark.parametrize(
    ("text", "kg"),
    [
        ("Zinc Oxide 200 bags", 5000.0),  # 25 kg bags
        ("Caustic soda flakes - 20 nos bags", 1000.0),  # 50 kg bags
        ("IPA rate for 10 drums", 1600.0),  # 160 kg drums
        ("10 barrels glycerine", 2500.0),  # 250 kg drums
        ("HCl 33% 40 cans", 1400.0),  # 35 kg carboys
        ("Sodium silicate 2 IBC", 2600.0),  # 1300 kg IBC
        ("1 tanker caustic lye", 20000.0),  # sold by the tanker
        ("5 IBC", 5000.0),  # no product: 1000 kg per IBC
        ("jasta oxide 100 bori", 2500.0),
    ],
)
def test_unstated_pack_size_comes_from_the_nearest_product(extractor, text, kg):
    assert values(extractor.extract(text), "QUANTITY") == [kg]


@pytest.mark.parametrize("text", ["5-6 MT ZnO", "5 to 6 MT", "100-150 bags"])
def test_ranges_are_not_labelled(extractor, text):
    assert values(extractor.extract(text), "QUANTITY") == []


def test_tanker_without_a_known_mass_is_not_a_quantity(extractor):
    assert values(extractor.extract("2 tankers of water"), "QUANTITY") == []


def test_pack_sizes_default_to_the_stock_master_s_usual_size():
    from ml.extract.pipeline import Extractor

    custom = Extractor(
        [("Alum", (), 40.0, "bag"), ("Lime", (), 40.0, "bag"), ("Urea", (), 45.0, "bag")]
    )
    assert values(custom.extract("Alum 10 bags"), "QUANTITY") == [400.0]
    assert values(custom.extract("10 bags"), "QUANTITY") == [400.0]  # 40 kg is the usual bag


def test_each_line_sizes_its_own_packs(extractor):
    text = "1. Zinc Oxide - 200 bags\n2. Caustic Soda Flakes - 100 bags\n3. 10 drums of IPA"
    assert values(extractor.extract(text), "QUANTITY") == [5000.0, 5000.0, 1600.0]


def test_pack_description_alone_is_not_a_quantity(extractor):
    assert values(extractor.extract("ZnO packed in 25 kg bags, qty 5 MT"), "QUANTITY") == [5000.0]


@pytest.mark.parametrize(
    ("text", "rupees"),
    [
        ("at Rs 248/kg", 248.0),
        ("Rs. 76/kg", 76.0),
        ("Rs.76/- per kg", 76.0),
        ("₹125/kg", 125.0),
        ("₹ 125 per kg", 125.0),
        ("INR 96/kg", 96.0),
        ("INR 96 per Kg", 96.0),
        ("248/- per kg", 248.0),
        ("@ Rs 52.5/kg", 52.5),
        ("Rs 45,000/MT", 45.0),
        ("Rs 45,000 per MT", 45.0),
        ("Rs45,000 per tonne", 45.0),
        ("INR 1,18,000", 118000.0),
        ("Rs. 1,18,000/-", 118000.0),
        ("₹ 1,18,000.00", 118000.0),
        ("EMD 2 lakh", 200000.0),
        ("Rs 2.5 lakhs", 250000.0),
        ("₹1.5 lakh", 150000.0),
        ("1.5 crore", 15000000.0),
        ("Rs 1.2 cr", 12000000.0),
        ("112 rs per kg", 112.0),
    ],
)
def test_price_forms(extractor, text, rupees):
    assert values(extractor.extract(text), "PRICE") == [rupees]


def test_per_pack_price_is_divided_by_the_pack_size(extractor):
    assert values(extractor.extract("Soda ash light Rs 1,600 per bag"), "PRICE") == [32.0]


def test_prices_as_written_when_conversion_is_off(catalogue):
    from ml.extract.pipeline import Extractor

    as_written = Extractor(catalogue, prices_per_kg=False)
    text = "Rs 45,000 per MT, Rs 248/kg, INR 1,21,500"
    assert values(as_written.extract(text), "PRICE") == [45000.0, 248.0, 121500.0]


def test_prices_are_not_quantities_and_times_are_not_money(extractor):
    entities = extractor.extract("Rs 45,000 per MT for 5 MT; bids close 15:00 hrs, 3 yrs 5 months")
    assert values(entities, "PRICE") == [45.0]
    assert values(entities, "QUANTITY") == [5000.0]


def test_numbers_inside_identifiers_are_not_measures(extractor):
    entities = extractor.extract("SO/25-26/01877 and 99.5% purity, GSTIN 27AAPFU0939F1ZV")
    assert values(entities, "QUANTITY") == []
    assert values(entities, "PRICE") == []
