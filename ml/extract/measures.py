"""Quantities (normalised to kilograms) and prices (normalised to rupees) in free text.

Conventions, mirroring the demo world's ground truth:

* QUANTITY value is kilograms. `MT`/`M.T.`/`tonnes`/`tons` are 1000 kg, a quintal 100 kg,
  grams 0.001 kg. Packs (`bags`, `drums`/`barrels`, `carboys`/`cans`, `IBC`/`IBC tanks`,
  `tanker`) take a stated size ("100 bags (25 kg)", "400 bags of 50 kg", "12 drums x 160 kg",
  "100 x 25 kg bags", "25 kg x 100 bags"); an unstated size comes from the nearest product's
  standard pack when it is that kind of pack, else from the most common size of that pack in
  the product list (an IBC defaults to 1000 kg). A tanker counts only for a product sold by
  the tanker (its mass is otherwise unknown). Ranges ("5-6 MT", "5 to 6 MT") are not labelled:
  they state no single amount. A bare pack description ("in 25 kg bags") is not a quantity.
* PRICE value is rupees per kilogram when a unit is stated ("Rs 248/kg" -> 248.0,
  "Rs 45,000 per MT" -> 45.0, a per-bag price divided by the pack size) and plain rupees for
  totals ("INR 1,18,000" -> 118000.0, "2 lakh" -> 200000.0, "1.5 crore" -> 15000000.0).
  A figure needs a currency mark (`Rs`, `₹`, `INR` before it, `rs`/`rupees` after it), a
  per-unit rate ("248/- per kg"), or lakh/crore to count as money.
* Indian digit grouping (`1,00,000`) and western grouping (`100,000`) are both read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ml.extract.entities import Entity

#: (pack kind, kg per pack) for a position in the text, from the nearest product.
PackLookup = Callable[[int, int], "tuple[str, float] | None"]

_NUM = r"(?:\d{1,3}(?:,\d{2})*,\d{3}|\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_NUM_START = r"(?<![\w.,/\-])"

MASS_UNITS: dict[str, float] = {
    "mt": 1000.0,
    "mts": 1000.0,
    "m.t": 1000.0,
    "m.t.": 1000.0,
    "metric ton": 1000.0,
    "metric tons": 1000.0,
    "metric tonne": 1000.0,
    "metric tonnes": 1000.0,
    "ton": 1000.0,
    "tons": 1000.0,
    "tonne": 1000.0,
    "tonnes": 1000.0,
    "kg": 1.0,
    "kgs": 1.0,
    "kg.": 1.0,
    "kgs.": 1.0,
    "kilo": 1.0,
    "kilos": 1.0,
    "kilogram": 1.0,
    "kilograms": 1.0,
    "quintal": 100.0,
    "quintals": 100.0,
    "qtl": 100.0,
    "qtls": 100.0,
    "g": 0.001,
    "gm": 0.001,
    "gms": 0.001,
    "gram": 0.001,
    "grams": 0.001,
}
PACK_WORDS: dict[str, str] = {
    "bag": "bag",
    "bags": "bag",
    "bori": "bag",
    "boris": "bag",
    "sack": "bag",
    "sacks": "bag",
    "drum": "drum",
    "drums": "drum",
    "barrel": "drum",
    "barrels": "drum",
    "carboy": "carboy",
    "carboys": "carboy",
    "can": "carboy",
    "cans": "carboy",
    "jerrycan": "carboy",
    "jerrycans": "carboy",
    "ibc": "IBC",
    "ibcs": "IBC",
    "ibc tank": "IBC",
    "ibc tanks": "IBC",
    "tote": "IBC",
    "totes": "IBC",
    "tanker": "tanker",
    "tankers": "tanker",
    "tanker load": "tanker",
    "tanker loads": "tanker",
}
#: Pack sizes used when neither the text nor a nearby product states one.
FALLBACK_PACK_KG: dict[str, float] = {
    "bag": 25.0,
    "drum": 200.0,
    "carboy": 35.0,
    "IBC": 1000.0,
}
MULTIPLIERS: dict[str, float] = {
    "lakh": 1e5,
    "lakhs": 1e5,
    "lac": 1e5,
    "lacs": 1e5,
    "crore": 1e7,
    "crores": 1e7,
    "cr": 1e7,
    "thousand": 1e3,
}


def _alternation(words: object) -> str:
    ordered = sorted(words, key=len, reverse=True)  # type: ignore[arg-type]
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in ordered)


_MASS = _alternation(MASS_UNITS)
_PACK = _alternation(PACK_WORDS)
_KG = r"(?:kgs?\.?|kilos?|kilograms?)"
_END = r"(?![A-Za-z0-9])"
# "5-6 MT", "5 to 6 MT"; a spaced dash is a separator ("Glycerine 99.5 - 2,500 kg").
_RANGE = rf"(?P<range>(?:[-–]|\s*–\s*|\s+to\s+)(?P<upper>{_NUM}))?"
_QTY_MULT = r"(?:\s*(?P<mult>lakhs?|lacs?|thousand))?"

# "100 bags (25 kg)", "400 bags of 50 kg", "12 drums x 160 kg", "20 nos bags"
_PACK_WITH_SIZE = re.compile(
    rf"{_NUM_START}(?P<count>{_NUM}){_RANGE}[ \t]*(?:nos\.?[ \t]*|no\.[ \t]*)?(?P<pack>{_PACK}){_END}"
    rf"(?:[ \t]*(?:\([ \t]*|of[ \t]+|x[ \t]*|×[ \t]*|\*[ \t]*|@[ \t]*|-[ \t]*|each[ \t]+of[ \t]+)"
    rf"(?P<size>{_NUM})[ \t]*{_KG}{_END}(?:[ \t]*each)?(?:[ \t]*\))?)?",
    re.IGNORECASE,
)
# "100 x 25 kg bags", "100 nos x 25kg bags"
_COUNT_X_SIZE = re.compile(
    rf"{_NUM_START}(?P<count>{_NUM})[ \t]*(?:nos\.?[ \t]*)?(?:x|×|\*)[ \t]*(?P<size>{_NUM})[ \t]*{_KG}[ \t]*"
    rf"(?:(?:hdpe|pp|paper|laminated)[ \t]+)?(?P<pack>{_PACK}){_END}",
    re.IGNORECASE,
)
# "25 kg x 100 bags"
_SIZE_X_COUNT = re.compile(
    rf"{_NUM_START}(?P<size>{_NUM})[ \t]*{_KG}[ \t]*(?:x|×|\*)[ \t]*(?P<count>{_NUM})[ \t]*"
    rf"(?:nos\.?[ \t]*)?(?P<pack>{_PACK}){_END}",
    re.IGNORECASE,
)
_MASS_QTY = re.compile(
    rf"{_NUM_START}(?P<count>{_NUM}){_RANGE}{_QTY_MULT}[ \t]*(?P<unit>{_MASS}){_END}",
    re.IGNORECASE,
)
# A size followed by a pack word describes packing, not an amount: "in 25 kg bags".
_PACK_DESCRIPTION_AFTER = re.compile(
    rf"\s*(?:(?:hdpe|pp|paper|laminated|new|ms|plastic)\s+)?(?:{_PACK}){_END}", re.IGNORECASE
)
_PACK_DESCRIPTION_BEFORE = re.compile(r"(?:\(|of|x|×|\*|@|each)\s*$", re.IGNORECASE)

_CURRENCY = r"(?:₹|(?<![A-Za-z])(?:Rs|INR|Rupees?)(?![A-Za-z])\.?)"
_PER_UNIT = rf"(?P<per>{_alternation(['kg', 'kgs', 'kilo', 'ltr', 'litre', 'liter', 'l', 'mt', 'm.t.', 'ton', 'tons', 'tonne', 'tonnes', 'quintal', 'qtl', *PACK_WORDS])})"
_PER = rf"(?:\s*/-)?\s*(?:/|\bper\b|\bpr\b|\ba\b)\s*{_PER_UNIT}{_END}"
_MONEY_MULT = r"(?:\s*(?P<mult>lakhs?|lacs?|crores?|cr)\b\.?)"
_PRICE_WITH_CURRENCY = re.compile(
    rf"{_CURRENCY}\s*(?P<amount>{_NUM}){_MONEY_MULT}?(?:\s*/-)?(?:{_PER})?",
    re.IGNORECASE,
)
# "112 rs", "250 rupees per kg": the currency written after the figure.
_PRICE_CURRENCY_AFTER = re.compile(
    rf"{_NUM_START}(?P<amount>{_NUM}){_MONEY_MULT}?\s*(?:rs|rupees?|rupaye|rupay)\b\.?"
    rf"(?:\s*/-)?(?:{_PER})?",
    re.IGNORECASE,
)
_PRICE_PER_UNIT = re.compile(rf"{_NUM_START}(?P<amount>{_NUM}){_PER}", re.IGNORECASE)
_PRICE_IN_WORDS = re.compile(rf"{_NUM_START}(?P<amount>{_NUM}){_MONEY_MULT}", re.IGNORECASE)
_MASS_AFTER = re.compile(rf"\s*(?:{_MASS}|{_PACK}){_END}", re.IGNORECASE)


@dataclass
class _Covered:
    """Character ranges already claimed by an earlier, more specific pattern."""

    spans: list[tuple[int, int]]

    def overlaps(self, start: int, end: int) -> bool:
        return any(s < end and start < e for s, e in self.spans)

    def add(self, start: int, end: int) -> None:
        self.spans.append((start, end))


def parse_number(raw: str) -> float:
    """A written figure as a float: '1,18,000' -> 118000.0, '2.5' -> 2.5."""
    return float(raw.replace(",", ""))


def _clean(value: float) -> float:
    return round(value, 4)


def find_prices(
    text: str,
    pack_near: PackLookup,
    per_kg: bool = True,
    fallback: dict[str, float] = FALLBACK_PACK_KG,
) -> list[Entity]:
    """PRICE entities: rupees per kg where a unit is given, else total rupees.

    With `per_kg` False every value is the rupee figure as written ("Rs 45,000/MT" -> 45000).
    """
    covered = _Covered([])
    entities: list[Entity] = []
    for pattern in (
        _PRICE_WITH_CURRENCY,
        _PRICE_CURRENCY_AFTER,
        _PRICE_PER_UNIT,
        _PRICE_IN_WORDS,
    ):
        for m in pattern.finditer(text):
            start, end = m.span()
            if covered.overlaps(start, end):
                continue
            groups = m.groupdict()
            amount = parse_number(m.group("amount"))
            mult = groups.get("mult")
            if mult:
                amount *= MULTIPLIERS[mult.lower().rstrip(".")]
            elif pattern is _PRICE_IN_WORDS:
                continue
            if pattern is _PRICE_IN_WORDS and _MASS_AFTER.match(text, end):
                continue  # "1 lakh kg" is a quantity
            per = groups.get("per")
            if per and per_kg:
                kg = _kg_per_unit(per, start, end, pack_near, fallback)
                if kg is None:
                    continue
                amount /= kg
            covered.add(start, end)
            entities.append(Entity("PRICE", m.group(0), _clean(amount), start, end))
    return entities


def _kg_per_unit(
    unit: str, start: int, end: int, pack_near: PackLookup, fallback: dict[str, float]
) -> float | None:
    unit = " ".join(unit.lower().split())
    if unit in ("kg", "kgs", "kilo", "ltr", "litre", "liter", "l"):
        return 1.0
    if unit in MASS_UNITS:
        return MASS_UNITS[unit]
    pack = PACK_WORDS.get(unit)
    if pack is None:
        return None
    return _pack_kg(pack, start, end, pack_near, fallback)


def _pack_kg(
    pack: str, start: int, end: int, pack_near: PackLookup, fallback: dict[str, float]
) -> float | None:
    """Kilograms in one `pack` here: the nearby product's standard pack, else the default."""
    near = pack_near(start, end)
    if near is not None and near[0] == pack:
        return near[1]
    return fallback.get(pack)


def find_quantities(
    text: str,
    pack_near: PackLookup,
    excluded: list[tuple[int, int]] | None = None,
    fallback: dict[str, float] = FALLBACK_PACK_KG,
) -> list[Entity]:
    """QUANTITY entities valued in kilograms; `excluded` spans (prices) are skipped.

    `fallback` sizes a pack (by kind) when no nearby product is sold in that kind of pack.
    """
    covered = _Covered(list(excluded or ()))
    entities: list[Entity] = []

    def emit(m: re.Match[str], kg: float) -> None:
        covered.add(*m.span())
        entities.append(Entity("QUANTITY", m.group(0), _clean(kg), m.start(), m.end()))

    for pattern in (_COUNT_X_SIZE, _SIZE_X_COUNT):
        for m in pattern.finditer(text):
            if not covered.overlaps(*m.span()):
                emit(m, parse_number(m.group("count")) * parse_number(m.group("size")))
    for m in _PACK_WITH_SIZE.finditer(text):
        if covered.overlaps(*m.span()):
            continue
        if _is_range(m):
            covered.add(*m.span())
            continue
        count = parse_number(m.group("count"))
        pack = PACK_WORDS[" ".join(m.group("pack").lower().split())]
        size = m.group("size")
        if size:
            kg_each: float | None = parse_number(size)
        else:
            kg_each = _pack_kg(pack, m.start(), m.end(), pack_near, fallback)
        if kg_each is None:
            covered.add(*m.span())
            continue
        emit(m, count * kg_each)
    for m in _MASS_QTY.finditer(text):
        if covered.overlaps(*m.span()):
            continue
        if _is_range(m):
            covered.add(*m.span())
            continue
        unit = " ".join(m.group("unit").lower().split())
        factor = MASS_UNITS[unit]
        if factor == 1.0 and _is_pack_description(text, m):
            continue
        count = parse_number(m.group("count"))
        mult = m.group("mult")
        if mult:
            count *= MULTIPLIERS[mult.lower()]
        emit(m, count * factor)
    entities.sort(key=lambda e: e.start)
    return entities


def _is_range(m: re.Match[str]) -> bool:
    """True for "5-6 MT": a second, larger figure of the same order joined to the first."""
    if not m.group("range"):
        return False
    low, high = parse_number(m.group("count")), parse_number(m.group("upper"))
    return low < high <= low * 10


def _is_pack_description(text: str, m: re.Match[str]) -> bool:
    """True for the '25 kg' in 'in 25 kg bags' or '(25 kg)' after a count of packs."""
    if _PACK_DESCRIPTION_AFTER.match(text, m.end()):
        return True
    before = text[max(0, m.start() - 12) : m.start()]
    return bool(_PACK_DESCRIPTION_BEFORE.search(before)) and bool(
        re.search(rf"(?:{_PACK}){_END}", text[max(0, m.start() - 30) : m.start()], re.IGNORECASE)
    )
