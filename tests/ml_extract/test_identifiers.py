"""GSTIN, PAN, CIN and document-number extraction, with validity flags."""

from __future__ import annotations

import pytest

from ml.extract.identifiers import cin_is_valid, find_identifiers, gstin_is_valid


def values(entities, label):
    return [e.value for e in entities if e.label == label]


def test_valid_gstin_is_uppercased_and_flagged_valid(extractor):
    entities = extractor.extract("Our GSTIN: 27aapfu0939f1zv, please update.")
    [gstin] = [e for e in entities if e.label == "GSTIN"]
    assert gstin.value == "27AAPFU0939F1ZV"
    assert gstin.text == "27aapfu0939f1zv"
    assert gstin.valid is True
    assert entities[0].start == gstin.start == 11


def test_gstin_with_wrong_check_character_is_kept_but_invalid(extractor):
    [gstin] = [e for e in extractor.extract("GST No. 27AAPFU0939F1ZO") if e.label == "GSTIN"]
    assert gstin.value == "27AAPFU0939F1ZO"
    assert gstin.valid is False


@pytest.mark.parametrize(
    "typed",
    [
        "27AAPFUO939F1ZV",  # letter O for digit 0
        "27AAPFU0939Fl ZV".replace(" ", ""),  # digit-looking l in the entity position
        "27AAPFU093F91ZV",  # neighbours swapped
        "27AAPFU0939FIZV",  # letter I for digit 1 (position 13 still Z)
    ],
)
def test_mistyped_gstin_is_kept_and_invalid(extractor, typed):
    [gstin] = [e for e in extractor.extract(f"GSTIN: {typed.lower()}") if e.label == "GSTIN"]
    assert (gstin.value, gstin.valid) == (typed.upper(), False)


@pytest.mark.parametrize("text", ["UTR 202511223344556", "ref 12345678901234Z", "SBIN00250610123"])
def test_other_fifteen_character_codes_are_not_gstins(extractor, text):
    assert values(extractor.extract(text), "GSTIN") == []


def test_pan_inside_a_gstin_is_not_a_separate_pan(extractor):
    entities = extractor.extract("GSTIN 27AAPFU0939F1ZV")
    assert values(entities, "PAN") == []


def test_standalone_pan_is_format_checked(extractor):
    entities = extractor.extract("PAN: AAACV1234F and pan aaacv1234f")
    pans = [e for e in entities if e.label == "PAN"]
    assert [p.value for p in pans] == ["AAACV1234F", "AAACV1234F"]
    assert all(p.valid for p in pans)
    # Fourth letter Q is no holder type: not a PAN at all.
    assert values(extractor.extract("code ABCQE1234F"), "PAN") == []


def test_mixed_case_word_is_not_a_pan(extractor):
    assert values(extractor.extract("Model AbcDe1234F"), "PAN") == []


def test_cin_and_its_format_flag(extractor):
    [cin] = [e for e in extractor.extract("CIN: U24100HP2023PTC009876") if e.label == "CIN"]
    assert cin.value == "U24100HP2023PTC009876"
    assert cin.valid is True
    assert cin_is_valid("U24100HP2023XYZ009876") is False


def test_gstin_state_codes_stdnum_does_not_know():
    # 38 (Ladakh) is a real state code: exactly one check character makes it valid.
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    valid = [c for c in alphabet if gstin_is_valid("38AAPFU0939F1Z" + c)]
    assert len(valid) == 1
    assert not gstin_is_valid("99AAPFU0939F1Z" + valid[0])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bhai SO/25-26/01877 ka maal", "SO/25-26/01877"),
        ("order so/2025-26/1877 status?", "SO/25-26/01877"),
        ("Ref SO / 25-26 / 01877.", "SO/25-26/01877"),
        ("SO 25-26/1877", "SO/25-26/01877"),
        ("SO/2025-26/01877", "SO/25-26/01877"),
    ],
)
def test_order_numbers_are_normalised(extractor, text, expected):
    assert values(extractor.extract(text), "ORDER_NO") == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("invoice INV/25-26/00412 paid", "INV/25-26/00412"),
        ("inv/2025-26/412", "INV/25-26/00412"),
        ("Bill no INV / 25-26 / 398", "INV/25-26/00398"),
    ],
)
def test_invoice_numbers_are_normalised(extractor, text, expected):
    assert values(extractor.extract(text), "INVOICE_NO") == [expected]


def test_inconsistent_financial_year_is_not_a_document_number(extractor):
    assert values(extractor.extract("SO/25-28/01877"), "ORDER_NO") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Please find attached our PO No. 4500012345 for ZnO", ["4500012345"]),
        ("P.O. # PO/BLR/2025/118 dated 12.11.2025", ["PO/BLR/2025/118"]),
        ("PO Ref: 7781-A.", ["7781-A"]),
        ("PO number: ABC/22/33", ["ABC/22/33"]),
        ("purchase order no 4500099 placed", ["4500099"]),
        ("as per PO dated 12.11.2025", []),
        ("against PO/BLR/2025/118 kindly dispatch", ["PO/BLR/2025/118"]),
        ("PO: 4500012345 and PO 4500012346", ["4500012345", "4500012346"]),
        ("our PO SO/25-26/01877 ref", []),
        ("UTR No. SBIN0025061012345", []),
        ("New PO - Ti02 anatase 400kgs", []),  # a product after the cue
        ("PO for H2SO4 50 carboys", []),
        ("PO 5MT urgent", []),
        ("PO 77 dispatch pls", ["77"]),
        ("Kindly refer our PO#UI/PUR/615/25-26 in your invoice", ["UI/PUR/615/25-26"]),
        ("po no. mcp/pur/622/25-26", ["mcp/pur/622/25-26"]),  # as written
    ],
)
def test_po_references_after_cues(extractor, text, expected):
    assert values(extractor.extract(text), "PO_NO") == expected


def test_po_does_not_swallow_our_order_number(extractor):
    entities = extractor.extract("PO No. 4500012345 against SO/25-26/01877")
    assert values(entities, "PO_NO") == ["4500012345"]
    assert values(entities, "ORDER_NO") == ["SO/25-26/01877"]


def test_identifier_offsets_point_at_the_text():
    text = "x CIN L17110MH1973PLC019786 y"
    [cin] = list(find_identifiers(text))
    assert text[cin.start : cin.end] == cin.text == "L17110MH1973PLC019786"
