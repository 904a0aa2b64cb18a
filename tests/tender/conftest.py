"""Fixtures of the NIT reader's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tender.pdfs import NIT_DIR


@pytest.fixture(scope="session")
def nit_dir() -> Path:
    """The committed NIT PDFs and their hand-typed truth."""
    return NIT_DIR
