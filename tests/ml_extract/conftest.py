"""Fixtures for the extraction tests: one extractor over the demo catalogue per session.

Production reads its stock master from the warehouse; these tests hand the demo catalogue
over as the stock master, the way the demo Tally holds it.
"""

from __future__ import annotations

import pytest

from demo.world.catalogue import PRODUCTS
from ml.extract import ProductRef, as_product_refs, get_extractor
from ml.extract.pipeline import Extractor


@pytest.fixture(scope="session")
def catalogue() -> tuple[ProductRef, ...]:
    return tuple(as_product_refs(PRODUCTS))


@pytest.fixture(scope="session")
def extractor(catalogue: tuple[ProductRef, ...]) -> Extractor:
    return get_extractor(catalogue)
