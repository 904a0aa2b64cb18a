"""Fixtures for the extraction tests: one extractor over the demo catalogue per session."""

from __future__ import annotations

import pytest

from ml.extract import get_extractor
from ml.extract.pipeline import Extractor


@pytest.fixture(scope="session")
def extractor() -> Extractor:
    return get_extractor()
