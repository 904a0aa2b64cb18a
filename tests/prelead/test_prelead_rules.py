"""Single-value checks: identifiers, email, phone, company names, states, headers."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from stdnum import luhn
from stdnum.in_ import gstin as stdnum_gstin
from stdnum.in_ import pan as stdnum_pan

from ingest.prelead.headers import field_for, map_headers
from ingest.prelead.rules import (
    PAN_HOLDER_TYPES,
    check_cin,
    check_email,
    check_gstin,
    check_pan,
    check_phone,
    company_key,
    gstin_check_character,
)
from ingest.prelead.states import BY_GST_CODE, STATES, normalise_state

ALPHANUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def codes(reasons: tuple) -> list[str]:
    return [r[0] for r in reasons]


# --- GSTIN ---------------------------------------------------------------------------------


def test_gstin_known_valid_example() -> None:
    assert check_gstin("27AAPFU0939F1ZV") == ("27AAPFU0939F1ZV", ())


def test_gstin_is_compacted_and_upper_cased() -> None:
    assert check_gstin(" 27 aapfu0939f1zv ")[0] == "27AAPFU0939F1ZV"
    assert check_gstin("27-AAPFU-0939F-1ZV") == ("27AAPFU0939F1ZV", ())


def test_gstin_wrong_check_character_names_the_expected_one() -> None:
    number, reasons = check_gstin("27AAPFU0939F1ZA")
    assert number == "27AAPFU0939F1ZA"
    assert codes(reasons) == ["gstin_checksum"]
    assert "expected V" in reasons[0][2]


@pytest.mark.parametrize(
    "value",
    [
        "27AAPFU0939F1Z",  # too short
        "369296450896540",  # digits only
        "27AAPFU0939F1AA",  # 14th character not Z
        "27AAPFU0939F0ZV",  # entity number 0
        "40AAPFU0939F1ZV",  # no state 40
    ],
)
def test_gstin_format_errors(value: str) -> None:
    assert codes(check_gstin(value)[1]) == ["gstin_format"]


def test_gstin_with_impossible_pan_inside() -> None:
    body = "27AAPXU0939F1Z"  # holder type X does not exist
    assert "gstin_format" in codes(check_gstin(body + gstin_check_character(body))[1])


def test_gstin_check_character_matches_stdnum() -> None:
    rng = random.Random(3)
    for _ in range(2000):
        body = "".join(rng.choice(ALPHANUM) for _ in range(14))
        assert gstin_check_character(body) == luhn.calc_check_digit(body, ALPHANUM)
    for _ in range(300):
        pan = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(3))
        pan += "C" + rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + f"{rng.randrange(1, 9999):04d}A"
        state = rng.choice(["27", "24", "33", "07", "29"])
        body = f"{state}{pan}1Z"
        good = body + gstin_check_character(body)
        bad = body + ("A" if good[-1] != "A" else "B")
        assert stdnum_gstin.is_valid(good) and check_gstin(good)[1] == ()
        assert not stdnum_gstin.is_valid(bad) and codes(check_gstin(bad)[1]) == ["gstin_checksum"]


@pytest.mark.parametrize("state", ["38", "97"])
def test_gstin_accepts_ladakh_and_other_territory(state: str) -> None:
    body = f"{state}AAPFU0939F1Z"
    assert check_gstin(body + gstin_check_character(body))[1] == ()


# --- PAN, CIN --------------------------------------------------------------------------------


def test_pan_valid_and_compacted() -> None:
    assert check_pan("aapfu 0939 f") == ("AAPFU0939F", ())


@pytest.mark.parametrize("value", ["AAPFU0939", "AAPF10939F", "AAPXU0939F", "AAPFU0000F"])
def test_pan_invalid(value: str) -> None:
    assert codes(check_pan(value)[1]) == ["pan_format"]


def test_pan_holder_types_follow_stdnum() -> None:
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        number = f"AAP{letter}U0939F"
        assert (check_pan(number)[1] == ()) == stdnum_pan.is_valid(number), letter
    assert set(PAN_HOLDER_TYPES) == set(stdnum_pan._pan_holder_types)


def test_cin() -> None:
    assert check_cin("U24100MH2010PTC123456") == ("U24100MH2010PTC123456", ())
    assert check_cin("l24100 mh 2010 plc 123456")[1] == ()
    for bad in ["X24100MH2010PTC123456", "U24100MH2010XYZ123456", "U24100MH2010PTC12345"]:
        assert codes(check_cin(bad)[1]) == ["cin_format"], bad


# --- email -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ravi@acme.in", "ravi@acme.in"),
        ("  Ravi.Kumar+leads@Acme-Chem.CO.IN ", "ravi.kumar+leads@acme-chem.co.in"),
        ("Ravi Kumar <ravi@acme.in>", "ravi@acme.in"),
        ("mailto:ravi@acme.in", "ravi@acme.in"),
        ("ravi@acme.in; sales@acme.in", "ravi@acme.in"),
    ],
)
def test_email_accepted(value: str, expected: str) -> None:
    assert check_email(value) == (expected, ())


@pytest.mark.parametrize(
    "value",
    [
        "ravi at acme.in",
        "ravi@acme",
        "ravi@acme,com",
        "ravi@@acme.in",
        "ravi..kumar@acme.in",
        ".ravi@acme.in",
        "ravi@-acme.in",
        "ravi@acme.123",
        "a" * 65 + "@acme.in",
        '=HYPERLINK("x")',
    ],
)
def test_email_rejected(value: str) -> None:
    normalised, reasons = check_email(value)
    assert normalised is None
    assert codes(reasons) == ["email_format"]


# --- phone -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("9876543210", "+919876543210"),
        ("98765 43210", "+919876543210"),
        ("+91 98765-43210", "+919876543210"),
        ("91-9876543210", "+919876543210"),
        ("09876543210", "+919876543210"),
        ("022-2345 6789", "+912223456789"),
        ("011 2345 6789", "+911123456789"),
        ("9876543210 / 9123456789", "+919876543210"),
        ("+44 20 7946 0958", "+442079460958"),
        ("९८७६५४३२१०", "+919876543210"),  # Devanagari digits: libphonenumber reads them
    ],
)
def test_phone_normalised_to_e164(value: str, expected: str) -> None:
    assert check_phone(value) == (expected, ())


@pytest.mark.parametrize("value", ["12345", "0000000000", "call me", "+91 12345"])
def test_phone_invalid(value: str) -> None:
    normalised, reasons = check_phone(value)
    assert normalised is None
    assert codes(reasons) == ["phone_invalid"]


def test_phone_fast_path_agrees_with_phonenumbers() -> None:
    rng = random.Random(11)
    formats = ["{m}", "+91 {a} {b}", "0{m}", "91{m}", "+91-{m}", "{a}-{b}"]
    for _ in range(500):
        mobile = rng.choice("6789") + "".join(rng.choice("0123456789") for _ in range(9))
        text = rng.choice(formats).format(m=mobile, a=mobile[:5], b=mobile[5:])
        parsed = phonenumbers.parse(text, "IN")
        assert phonenumbers.is_valid_number(parsed), text
        expected = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        assert check_phone(text) == (expected, ()), text


# --- company names ---------------------------------------------------------------------------


def test_company_key_collapses_legal_form_variants() -> None:
    variants = [
        "Acme Chemicals Pvt. Ltd.",
        "ACME CHEMICALS PRIVATE LIMITED",
        "M/s. Acme Chemicals (P) Ltd.",
        "acme   chemicals p ltd",
        "Acme Chemicals Pvt.Ltd",
        "Acme Chemicals Pvt",
        "Acme Chemicals Private Ltd",
    ]
    assert {company_key(v) for v in variants} == {"acme chemicals pvt ltd"}


def test_company_key_keeps_different_companies_apart() -> None:
    assert company_key("Acme Chemicals Ltd") == "acme chemicals ltd"
    assert company_key("Acme Chemicals Limited") == "acme chemicals ltd"
    assert company_key("Acme Chemicals Ltd") != company_key("Acme Chemicals Pvt Ltd")
    assert company_key("Acme & Co.") == company_key("Acme and Company") == "acme and co"
    assert company_key("Acme L.L.P.") == "acme llp"
    assert company_key("Société Chimique") == "société chimique"


# --- states ----------------------------------------------------------------------------------


def test_state_table_covers_every_gst_code() -> None:
    expected = {f"{n:02d}" for n in range(1, 39)} | {"97"}
    assert set(BY_GST_CODE) == expected
    assert len({s.name for s in STATES}) == len(STATES)
    assert BY_GST_CODE["27"].name == "Maharashtra"
    assert BY_GST_CODE["28"] is BY_GST_CODE["37"]  # Andhra Pradesh, old and new codes
    assert BY_GST_CODE["25"] is BY_GST_CODE["26"]  # Daman and Diu merged into 26
    assert BY_GST_CODE["38"].name == "Ladakh"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Maharashtra", "27"),
        ("MAHARASHTRA ", "27"),
        ("MH", "27"),
        ("Maharastra", "27"),
        ("27-Maharashtra", "27"),
        ("Tamilnadu", "33"),
        ("T.N.", "33"),
        ("Karnatka", "29"),
        ("Orissa", "21"),
        ("Pondicherry", "34"),
        ("J&K", "01"),
        ("New Delhi", "07"),
        ("Gujrat", "24"),
        ("Chattisgarh", "22"),
        ("Telengana", "36"),
        ("Daman & Diu", "26"),
        ("Andhra Pradesh", "37"),
        ("Uttaranchal", "05"),
        ("state of Kerala", "32"),
    ],
)
def test_state_normalised(text: str, code: str) -> None:
    state = normalise_state(text)
    assert state is not None and state.code == code


@pytest.mark.parametrize("text", ["Atlantis", "XX", "", "India"])
def test_state_unknown(text: str) -> None:
    assert normalise_state(text) is None


# --- headers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Company", "company"),
        ("Company Name", "company"),
        ("FIRM", "company"),
        ("GSTIN", "gstin"),
        ("GST No.", "gstin"),
        ("gst number", "gstin"),
        ("PAN No", "pan"),
        ("CIN", "cin"),
        ("Contact Person", "contact_person"),
        ("Name", "contact_person"),
        ("E-mail", "email"),
        ("Email ID", "email"),
        ("Mobile", "phone"),
        ("Contact No.", "phone"),
        ("City", "city"),
        ("State", "state"),
        ("Address", "address"),
        ("Product Interest", "product_interest"),
        ("Lead Source", "source"),
        ("Remarks", None),
    ],
)
def test_header_synonyms(header: str, field: str | None) -> None:
    assert field_for(header) == field


def test_unknown_and_repeated_headers_go_to_extra() -> None:
    columns = map_headers(["Sr No", "Company", "Phone", "Mobile", "", "Sr No"])
    assert columns.fields == {"company": 1, "phone": 2}
    assert columns.extra == (("Sr No", 0), ("Mobile", 3), ("column_5", 4), ("Sr No_2", 5))
