"""The values the extractor hands out: entities found in text and the product master it links to."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

#: Every label the extractor can emit, in the order reports list them.
LABELS: tuple[str, ...] = (
    "GSTIN",
    "PAN",
    "CIN",
    "ORDER_NO",
    "INVOICE_NO",
    "PO_NO",
    "PRODUCT",
    "QUANTITY",
    "PRICE",
)


@dataclass(frozen=True)
class Entity:
    """One mention in an email.

    `start`/`end` are character offsets into the text given to the extractor, `text` is the
    mention as written and `value` its normalised form: uppercased identifiers, document
    numbers as `SO/25-26/01877`, canonical product names, kilograms for QUANTITY and rupees
    (per kg, or a total) for PRICE. `valid` is set for identifiers with a check (GSTIN check
    character, PAN and CIN format) and None for everything else.
    """

    label: str
    text: str
    value: str | float | None
    start: int
    end: int
    valid: bool | None = None


@dataclass(frozen=True)
class ProductRef:
    """A product as the extractor needs it: the stock master's name, aliases and standard pack.

    `pack` is the kind of standard pack (`bag`, `drum`, `carboy`, `IBC`, ...) and
    `pack_size_kg` its net weight; both are used to turn "200 bags" into kilograms.
    """

    name: str
    aliases: tuple[str, ...] = ()
    pack_size_kg: float | None = None
    pack: str | None = None


def as_product_ref(item: Any) -> ProductRef:
    """Coerce a product given as a `ProductRef`, a catalogue object or a tuple.

    Accepted tuples are `(name,)`, `(name, aliases)`, `(name, aliases, pack_size_kg)` and
    `(name, aliases, pack_size_kg, pack)`, the shape a Tally stock master export yields.
    Objects need `.name`; `.aliases`, `.pack_size_kg` and `.pack` are read when present.
    """
    if isinstance(item, ProductRef):
        return item
    if isinstance(item, str):
        return ProductRef(name=item)
    if isinstance(item, tuple | list):
        if not item:
            raise ValueError("empty product tuple")
        name = str(item[0])
        aliases = tuple(str(a) for a in (item[1] if len(item) > 1 and item[1] else ()))
        pack_kg = float(item[2]) if len(item) > 2 and item[2] is not None else None
        pack = str(item[3]) if len(item) > 3 and item[3] is not None else None
        return ProductRef(name=name, aliases=aliases, pack_size_kg=pack_kg, pack=pack)
    name = getattr(item, "name", None)
    if not isinstance(name, str) or not name:
        raise ValueError(f"product without a name: {item!r}")
    aliases = tuple(str(a) for a in (getattr(item, "aliases", None) or ()))
    pack_kg = getattr(item, "pack_size_kg", None)
    pack = getattr(item, "pack", None)
    return ProductRef(
        name=name,
        aliases=aliases,
        pack_size_kg=float(pack_kg) if pack_kg is not None else None,
        pack=str(pack) if pack is not None else None,
    )


def as_product_refs(items: Iterable[Any]) -> Sequence[ProductRef]:
    """Coerce every product with `as_product_ref`, keeping order and dropping duplicates."""
    seen: set[str] = set()
    refs: list[ProductRef] = []
    for item in items:
        ref = as_product_ref(item)
        if ref.name not in seen:
            seen.add(ref.name)
            refs.append(ref)
    return tuple(refs)
