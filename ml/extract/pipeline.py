"""The spaCy pipeline that runs the entity finders and the `Extractor` built on it.

The pipeline starts from `spacy.blank("en")` (no pretrained weights are needed) and adds
rule components in order: identifiers, products, then quantities and prices (which read the
product mentions to size unstated packs). Each component adds `Entity` values to the
`doc._.pebble_entities` list; `Extractor.to_doc` also exposes them as `doc.spans["pebble"]`
for spaCy tooling such as displaCy.

The rules read the text, never spaCy's tokens, so `Extractor.extract` and `extract_many` run
the pipeline's components in order straight on the text (`_RuleComponent.find`): the same
rules and order as `nlp(text)`, without tokenising, which took about a third of the time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ml.extract.entities import Entity, ProductRef, as_product_refs
from ml.extract.identifiers import find_identifiers
from ml.extract.measures import FALLBACK_PACK_KG, PACK_WORDS, find_prices, find_quantities
from ml.extract.products import ProductMatcher
from ml.extract.quoting import mask_quoted

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

ENTITIES_ATTR = "pebble_entities"
SPAN_KEY = "pebble"
TEXT_KEY = "pebble_text"
_CONNECTOR = re.compile(r"[ \t]*(?:of|ka|ki|ke|for|-|:)?[ \t]*", re.IGNORECASE)


class _PackSizes:
    """Pack kind and size per canonical product name, with per-kind fallbacks."""

    def __init__(self, products: Sequence[ProductRef]) -> None:
        self.by_name: dict[str, tuple[str, float]] = {}
        counts: dict[str, dict[float, int]] = {}
        for product in products:
            if product.pack_size_kg is None:
                continue
            kind = PACK_WORDS.get((product.pack or "").lower(), product.pack or "")
            self.by_name[product.name] = (kind, product.pack_size_kg)
            counts.setdefault(kind, {}).setdefault(product.pack_size_kg, 0)
            counts[kind][product.pack_size_kg] += 1
        self.fallback = dict(FALLBACK_PACK_KG)
        for kind, sizes in counts.items():
            if kind in ("bag", "drum", "carboy"):
                self.fallback[kind] = max(sizes.items(), key=lambda kv: (kv[1], -kv[0]))[0]


def _nearest_product(text: str, products: list[Entity], start: int, end: int) -> Entity | None:
    """The product a quantity or price at [start, end) refers to.

    In order: a product right after it joined by "of"/"ka"/"-" ("200 bags of ZnO"); the
    closest product before it on the same line; the closest after it on the same line; the
    closest anywhere, earlier ones winning ties.
    """
    if not products:
        return None
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    if line_end < 0:
        line_end = len(text)
    after = [p for p in products if p.start >= end]
    if after:
        first_after = min(after, key=lambda p: p.start)
        if first_after.start - end <= 12 and _CONNECTOR.fullmatch(text, end, first_after.start):
            return first_after
    before_same = [p for p in products if p.end <= start and p.start >= line_start]
    if before_same:
        return max(before_same, key=lambda p: p.end)
    after_same = [p for p in after if p.end <= line_end]
    if after_same:
        return min(after_same, key=lambda p: p.start)

    def distance(p: Entity) -> tuple[int, int]:
        gap = start - p.end if p.end <= start else p.start - end
        return (max(gap, 0), 0 if p.end <= start else 1)

    return min(products, key=distance)


def build_pipeline(products: Sequence[ProductRef], *, prices_per_kg: bool = True) -> Language:
    """A blank English spaCy pipeline with the identifier, product and measure components."""
    import spacy
    from spacy.language import Language
    from spacy.tokens import Doc

    if not Doc.has_extension(ENTITIES_ATTR):
        Doc.set_extension(ENTITIES_ATTR, default=None)

    if "pebble_identifiers" not in Language.factories:

        @Language.factory("pebble_identifiers")
        def make_identifiers(nlp: Language, name: str) -> _IdentifiersComponent:
            return _IdentifiersComponent()

        @Language.factory("pebble_products")
        def make_products(nlp: Language, name: str) -> _ProductsComponent:
            return _ProductsComponent()

        @Language.factory("pebble_measures")
        def make_measures(nlp: Language, name: str) -> _MeasuresComponent:
            return _MeasuresComponent()

    nlp = spacy.blank("en")
    nlp.tokenizer = _TextKeepingTokenizer(nlp.tokenizer)
    nlp.add_pipe("pebble_identifiers")
    nlp.add_pipe("pebble_products").matcher = ProductMatcher(products)
    measures = nlp.add_pipe("pebble_measures")
    measures.packs = _PackSizes(products)
    measures.prices_per_kg = prices_per_kg
    return nlp


class _TextKeepingTokenizer:
    """Wraps the tokenizer to keep the input string on the Doc for the rule components."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer

    def __call__(self, text: str) -> Doc:
        doc = self.tokenizer(text)
        doc.user_data[TEXT_KEY] = text
        return doc

    def pipe(self, texts: Iterable[str], batch_size: int = 1000) -> Iterator[Doc]:
        for text in texts:
            yield self(text)


def _text(doc: Doc) -> str:
    """`doc.text`, rebuilt from the tokens only once per document (it is not stored)."""
    text = doc.user_data.get(TEXT_KEY)
    if text is None:
        text = doc.user_data[TEXT_KEY] = doc.text
    return text


class _RuleComponent:
    """A spaCy component whose rules read the text, never the tokens: `find(text, found)`
    returns the entities after this component's step, and `__call__` applies it to a Doc.

    `Extractor.extract_many` runs the pipeline's `find` steps straight on the text, so the
    tokenizer (about a third of the extraction time, and read by no rule) runs only where
    tokens are used (`Extractor.to_doc`)."""

    def find(self, text: str, found: list[Entity]) -> list[Entity]:
        raise NotImplementedError

    def __call__(self, doc: Doc) -> Doc:
        found = getattr(doc._, ENTITIES_ATTR) or []
        setattr(doc._, ENTITIES_ATTR, self.find(_text(doc), found))
        return doc


class _IdentifiersComponent(_RuleComponent):
    """spaCy component: GSTIN, PAN, CIN and document numbers."""

    def find(self, text: str, found: list[Entity]) -> list[Entity]:
        found.extend(find_identifiers(text))
        return found


class _ProductsComponent(_RuleComponent):
    """spaCy component: PRODUCT entities from the product matcher."""

    matcher: ProductMatcher

    def find(self, text: str, found: list[Entity]) -> list[Entity]:
        found.extend(self.matcher.find(text))
        return found


class _MeasuresComponent(_RuleComponent):
    """spaCy component: PRICE then QUANTITY entities, packs sized from nearby products."""

    packs: _PackSizes
    prices_per_kg: bool = True

    def find(self, text: str, found: list[Entity]) -> list[Entity]:
        products = [e for e in found if e.label == "PRODUCT"]
        identifiers = [(e.start, e.end) for e in found if e.label != "PRODUCT"]

        def pack_near(start: int, end: int) -> tuple[str, float] | None:
            product = _nearest_product(text, products, start, end)
            if product is None:
                return None
            return self.packs.by_name.get(str(product.value))

        prices = [
            p
            for p in find_prices(
                text, pack_near, per_kg=self.prices_per_kg, fallback=self.packs.fallback
            )
            if not any(s < p.end and p.start < e for s, e in identifiers)
        ]
        quantities = find_quantities(
            text,
            pack_near,
            excluded=[(p.start, p.end) for p in prices] + identifiers,
            fallback=self.packs.fallback,
        )
        found.extend(prices)
        found.extend(quantities)
        # A PO cue followed by a product ("PO for H2SO4") names no PO reference.
        if products:
            found = [
                e
                for e in found
                if e.label != "PO_NO"
                or not any(p.start < e.end and e.start < p.end for p in products)
            ]
        return found


class Extractor:
    """Finds identifiers, document numbers, products, quantities and prices in email text.

    `products` is the stock master as `ProductRef`s, catalogue objects or
    `(name, aliases, pack_size_kg[, pack])` tuples (`ml.extract.linking.load_products` reads
    it from the warehouse); without it no PRODUCT is found, and packs take standard sizes.
    Quoted history (`>` lines, reply headers) is ignored unless `include_quoted` is True; a
    forwarded message's body is read unless `keep_forwarded` is False. Prices with a unit are
    converted to rupees per kg unless `prices_per_kg` is False (then the figure as written).
    Entities come back ordered by position with offsets into the text as given.
    """

    def __init__(
        self,
        products: Sequence[Any] | None = None,
        *,
        include_quoted: bool = False,
        keep_forwarded: bool = True,
        prices_per_kg: bool = True,
    ) -> None:
        refs = as_product_refs(products) if products is not None else ()
        self.products: Sequence[ProductRef] = refs
        self.include_quoted = include_quoted
        self.keep_forwarded = keep_forwarded
        self.nlp = build_pipeline(refs, prices_per_kg=prices_per_kg)

    def _prepare(self, text: str, include_quoted: bool | None) -> str:
        if not isinstance(text, str):
            raise TypeError(f"expected str, got {type(text).__name__}")
        keep = self.include_quoted if include_quoted is None else include_quoted
        return text if keep else mask_quoted(text, keep_forwarded=self.keep_forwarded)

    @staticmethod
    def _entities(doc: Doc) -> list[Entity]:
        found: list[Entity] = getattr(doc._, ENTITIES_ATTR) or []
        return sorted(found, key=lambda e: (e.start, e.end, e.label))

    def _find(self, text: str) -> list[Entity]:
        """The pipeline's rule components in order, on the text itself (no tokens)."""
        found: list[Entity] = []
        for _name, component in self.nlp.pipeline:
            found = component.find(text, found)
        return sorted(found, key=lambda e: (e.start, e.end, e.label))

    def extract(self, text: str, *, include_quoted: bool | None = None) -> list[Entity]:
        """Entities in `text`, ordered by start offset."""
        return self._find(self._prepare(text, include_quoted))

    def extract_many(
        self,
        texts: Iterable[str],
        batch_size: int = 64,
        *,
        include_quoted: bool | None = None,
    ) -> list[list[Entity]]:
        """`extract` for many texts; one list per text, in input order. (`batch_size` is
        kept for callers; the rules work one text at a time.)"""
        return [self._find(self._prepare(t, include_quoted)) for t in texts]

    def to_doc(self, text: str, *, include_quoted: bool | None = None) -> Doc:
        """The spaCy `Doc` with the entities as `doc.spans["pebble"]` (overlaps allowed)."""
        doc = self.nlp(self._prepare(text, include_quoted))
        spans = []
        for entity in self._entities(doc):
            span = doc.char_span(
                entity.start, entity.end, label=entity.label, alignment_mode="expand"
            )
            if span is not None:
                spans.append(span)
        doc.spans[SPAN_KEY] = spans
        return doc
