"""Fixtures for the prelead tests: small dirty lead lists written per test."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from ingest.prelead.rules import gstin_check_character

HEADER = [
    "Firm Name",
    "GST No.",
    "PAN No",
    "CIN",
    "Contact Person",
    "E-Mail ID",
    "Mobile No",
    "City",
    "State",
    "Address",
    "Product Interest",
    "Lead Source",
    "Remarks",
]


def _make_gstin(state: str, pan: str, entity: str = "1") -> str:
    body = f"{state}{pan}{entity}Z"
    return body + gstin_check_character(body)


_SHORT = dict(
    zip(
        (
            "company",
            "gstin",
            "pan",
            "cin",
            "contact",
            "email",
            "phone",
            "city",
            "state",
            "address",
            "product",
            "source",
            "remarks",
        ),
        HEADER,
        strict=True,
    )
)


def _lead(**fields: str) -> list[str]:
    row = {
        "Firm Name": "Acme Chemicals Pvt. Ltd.",
        "GST No.": "27AAPFU0939F1ZV",
        "PAN No": "AAPFU0939F",
        "CIN": "U24100MH2010PTC123456",
        "Contact Person": "Ravi Kumar",
        "E-Mail ID": "ravi@acme.in",
        "Mobile No": "98765 43210",
        "City": "Mumbai",
        "State": "MH",
        "Address": "Plot 4, MIDC, Andheri (E)",
        "Product Interest": "Caustic Soda Flakes",
        "Lead Source": "IndiaMART",
        "Remarks": "",
    }
    for key, value in fields.items():
        row[_SHORT[key]] = value
    return [row[h] for h in HEADER]


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """Write rows (with HEADER unless given) to a CSV file in tmp_path and return its path."""

    def write(
        rows: list[list[str]],
        name: str = "leads.csv",
        header: list[str] | None = None,
        encoding: str = "utf-8",
        delimiter: str = ",",
    ) -> Path:
        path = tmp_path / name
        with path.open("w", encoding=encoding, newline="") as handle:
            writer = csv.writer(handle, delimiter=delimiter)
            writer.writerow(HEADER if header is None else header)
            writer.writerows(rows)
        return path

    return write


def _fetch_rows(conn: psycopg.Connection, batch: str) -> dict[int, dict]:
    with conn.cursor(row_factory=dict_row) as cursor:
        cursor.execute("SELECT * FROM raw.prelead_rows WHERE batch = %s ORDER BY row_no", (batch,))
        return {row["row_no"]: row for row in cursor.fetchall()}


@pytest.fixture
def make_gstin() -> Callable[..., str]:
    """make_gstin(state, pan, entity="1"): a GSTIN with a correct check character."""
    return _make_gstin


@pytest.fixture
def lead() -> Callable[..., list[str]]:
    """lead(company=..., gstin=..., ...): a valid row under HEADER with some cells replaced."""
    return _lead


@pytest.fixture
def lead_header() -> list[str]:
    return list(HEADER)


@pytest.fixture
def fetch_rows() -> Callable[[psycopg.Connection, str], dict[int, dict]]:
    """fetch_rows(conn, batch): the stored rows of a batch keyed by row number."""
    return _fetch_rows
