"""Tally's value quirks: padding, units, (-) negatives, separators, dates, Yes/No."""

from __future__ import annotations

from datetime import date

import pytest

from ingest.tally.parse import (
    clean_text,
    parse_bool,
    parse_date,
    parse_int,
    parse_number,
    parse_quantity,
    parse_rate,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" 22", 22.0),
        ("-120.000", -120.0),
        ("(-)120.000", -120.0),
        ("(-) 1,18,000.00", -118000.0),
        ("1,18,000.00", 118000.0),
        (" 500.000 kg", 500.0),
        ("125.00/kg", 125.0),
        ("₹ 2,480.50", 2480.5),
        ("100.00 Dr", -100.0),
        ("100.00 Cr", 100.0),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_parse_number(text: str | None, expected: float | None) -> None:
    assert parse_number(text) == expected


def test_parse_number_rejects_text_without_a_number() -> None:
    with pytest.raises(ValueError, match="not a Tally number"):
        parse_number("twelve")


def test_parse_int_strips_padding() -> None:
    assert parse_int(" 22") == 22
    assert parse_int("") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" 500.000 kg", (500.0, "kg")),
        ("50 Nos", (50.0, "Nos")),
        ("(-)12.500 MT", (-12.5, "MT")),
        ("500.000 kg = 20 Bag", (500.0, "kg")),
        (" 1,250.000 kg", (1250.0, "kg")),
        ("7", (7.0, None)),
        ("", (None, None)),
    ],
)
def test_parse_quantity(text: str, expected: tuple) -> None:
    assert parse_quantity(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("125.00/kg", (125.0, "kg")),
        ("(-)125.00/kg", (-125.0, "kg")),
        ("1,250.00/MT", (1250.0, "MT")),
        ("125.00", (125.0, None)),
    ],
)
def test_parse_rate(text: str, expected: tuple) -> None:
    assert parse_rate(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20251114", date(2025, 11, 14)),
        ("14-Nov-25", date(2025, 11, 14)),
        ("1-Apr-2025", date(2025, 4, 1)),
        ("2025-04-01", date(2025, 4, 1)),
        (" 20250401 ", date(2025, 4, 1)),
        ("", None),
    ],
)
def test_parse_date(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


def test_parse_date_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="not a Tally date"):
        parse_date("31-Foo-25")


@pytest.mark.parametrize(
    ("text", "expected"), [("Yes", True), ("No", False), (" yes ", True), ("", None), ("x", None)]
)
def test_parse_bool(text: str, expected: bool | None) -> None:
    assert parse_bool(text) is expected


def test_clean_text_drops_reserved_marker_and_padding() -> None:
    assert clean_text("\x04 Primary") == "Primary"
    assert clean_text("  Shah &  Sons ") == "Shah & Sons"
    assert clean_text("   ") is None
