"""Entity extraction from customer emails.

`Extractor(products).extract(text)` returns `Entity` values for GSTIN, PAN, CIN, ORDER_NO,
INVOICE_NO, PO_NO, PRODUCT, QUANTITY and PRICE with normalised values (see
`ml.extract.entities.Entity`). Products come from the stock master
(`ml.extract.linking.load_products(conn)` reads Tally's stock items from `marts.stock_levels`);
`get_extractor(products)` is a process-wide extractor per stock master. Importing this
package is cheap: spaCy loads when the first extractor is built.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ml.extract.entities import LABELS, Entity, ProductRef, as_product_ref, as_product_refs
from ml.extract.quoting import mask_quoted, strip_quoted

if TYPE_CHECKING:
    from ml.extract.pipeline import Extractor


def __getattr__(name: str) -> Any:
    # Extractor lives with the spaCy pipeline; resolve it on first use to keep imports light.
    if name == "Extractor":
        from ml.extract.pipeline import Extractor

        return Extractor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_extractor(products: Iterable[Any] = ()) -> Extractor:
    """The shared extractor over `products` (the stock master), built once per process and
    stock master. Without products it still finds identifiers, document numbers,
    quantities and prices."""
    return _extractor(tuple(as_product_refs(products)))


@lru_cache(maxsize=4)
def _extractor(products: tuple[ProductRef, ...]) -> Extractor:
    from ml.extract.pipeline import Extractor

    return Extractor(products)


__all__ = [
    "LABELS",
    "Entity",
    "Extractor",
    "ProductRef",
    "as_product_ref",
    "as_product_refs",
    "get_extractor",
    "mask_quoted",
    "strip_quoted",
]
