"""Product mentions linked to the stock master's canonical names.

Matching works on *pieces*: runs of letters/digits (and `%`) in lower case. A name matches
when the concatenation of consecutive pieces equals the concatenation of the name's pieces,
so spacing, hyphens and dots do not matter ("P.V.C. resin K 67" = "PVC Resin K67",
"titanium-dioxide" = "titanium dioxide", "Sodium Bi Carbonate" = "Sodium Bicarbonate").
Pieces join across spaces, hyphens, dots, slashes and brackets, never across a line break or
`,;:`.

At each position the longest candidate wins; for equal length an exact name or alias beats a
generic mention, which beats a fuzzy one:

* **exact**: a canonical name or alias (case-insensitive, except that short all-capital
  abbreviations such as `CAM`, `LAS`, `MEG` must be written in capitals or all lower case,
  and a few that are everyday words must be in capitals);
* **generic**: a leading part of a name or multi-word alias that is not an alias itself
  ("titanium dioxide", "caustic", "TiO2", "sodium carbonate"). When several products share
  it the mention resolves, in order, to (1) a candidate named unambiguously elsewhere in
  the same text, (2) a candidate whose distinguishing word appears in the text ("anatase",
  "lye"), (3) the first candidate in stock-master order, which for the demo catalogue is
  the house's standard grade (rutile before anatase, flakes before lye). Leading parts that
  are broad words on their own ("sodium", "acid", "light", "water", "namak") are not used;
* **fuzzy**: a typo within optimal-string-alignment distance 1 of a name or alias of 6 to
  11 characters (2 from 12 characters), with the first letter right; a typo is only
  looked for where the first piece is itself close to the start of some name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ml.extract.entities import Entity, ProductRef

_PIECE_RE = re.compile(r"[A-Za-z0-9]+|%")
# Characters allowed between two pieces of one product name.
_JOINABLE_GAP = re.compile(r"[ \t\-./()'’]*")

#: Leading words that say too little on their own to name a product.
BROAD_WORDS: frozenset[str] = frozenset(
    """
    sodium potassium calcium magnesium aluminium aluminum zinc hydrogen carbon acid soda
    mono light dense liquid white water soluble oil washing baking khane meetha nimbu namak
    gandhak kala jasta salt chalk hydrated calcined alumina ortho orthophosphoric ethylene
    poly linear iso rubbing wood methyl dimethyl hydro precipitated refined anhydrous glacial
    ka ki ke of the and grade powder technical food pure fine tech heavy lite
    """.split()
)
#: Abbreviations that are also everyday words: matched only when written in capitals.
CAPITALS_ONLY: frozenset[str] = frozenset({"cam", "las", "caa", "opa", "ath", "smb"})
_FUNCTION_WORDS = frozenset({"of", "ka", "ki", "ke", "and", "the"})
_MAX_ABBREVIATION = 4
#: A word with one of these endings right before a match makes it part of another name.
_COMPOUND_ENDINGS = ("ene", "yl", "ated", "sodium", "potassium", "calcium", "magnesium", "ammonium")


@dataclass(frozen=True)
class _Name:
    """One way of writing a product: its key, the products it can mean and how it matched."""

    key: str
    products: tuple[int, ...]
    kind: str  # "exact" | "generic"
    abbreviation: bool  # a short all-capitals alias: letter case is checked


@dataclass(frozen=True)
class ProductMention:
    """A matched span before generic mentions are resolved."""

    start: int
    end: int
    products: tuple[int, ...]
    kind: str  # "exact" | "generic" | "fuzzy"
    pieces: int


def _pieces(text: str) -> list[str]:
    return [m.group(0).lower() for m in _PIECE_RE.finditer(text)]


def osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (edits + adjacent swaps), capped at `limit + 1`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    if a == b:
        return 0
    prev2: list[int] | None = None
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        row_min = cur[0]
        ca = a[i - 1]
        for j in range(1, len(b) + 1):
            cb = b[j - 1]
            cost = 0 if ca == cb else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if (
                prev2 is not None
                and i > 1
                and j > 1
                and ca == b[j - 2]
                and a[i - 2] == cb
                and prev2[j - 2] + 1 < v
            ):
                v = prev2[j - 2] + 1
            cur[j] = v
            if v < row_min:
                row_min = v
        if row_min > limit:
            return limit + 1
        prev2, prev = prev, cur
    return min(prev[len(b)], limit + 1)


def fuzzy_limit(key_length: int) -> int:
    """Edits tolerated for a name whose key has `key_length` characters."""
    if key_length < 6:
        return 0
    return 1 if key_length < 12 else 2


class ProductMatcher:
    """Finds product mentions in text and links each to one product of `products`."""

    def __init__(self, products: Sequence[ProductRef]) -> None:
        self.products: tuple[ProductRef, ...] = tuple(products)
        self._names: dict[str, _Name] = {}
        self._prefixes: set[str] = set()
        self._first_pieces: set[str] = set()
        self._distinguishing: list[frozenset[str]] = []
        #: Exact names of 6+ characters (the ones a typo is looked for), by first letter and
        #: key length: (position in the name table, name, edits tolerated).
        self._by_initial: dict[str, dict[int, list[tuple[int, _Name, int]]]] = {}
        self._longest_by_initial: dict[str, int] = {}
        self._first_by_initial: dict[str, list[str]] = {}
        self._fuzzy_first_cache: dict[str, bool] = {}
        self._build()

    # -- building the name tables ---------------------------------------------------------

    def _build(self) -> None:
        exact: dict[str, list[int]] = {}
        abbreviations: set[str] = set()
        generic: dict[str, list[int]] = {}
        for index, product in enumerate(self.products):
            for written in (product.name, *product.aliases):
                pieces = _pieces(written)
                if not pieces:
                    continue
                key = "".join(pieces)
                exact.setdefault(key, [])
                if index not in exact[key]:
                    exact[key].append(index)
                if _is_abbreviation(written):
                    abbreviations.add(key)
                self._first_pieces.add(pieces[0])
                for k in range(1, len(pieces)):
                    lead = pieces[:k]
                    if lead[-1] in _FUNCTION_WORDS or not any(c.isalpha() for c in "".join(lead)):
                        continue
                    if k == 1 and (lead[0] in BROAD_WORDS or len(lead[0]) < 4):
                        continue
                    if k > 1 and all(p in BROAD_WORDS for p in lead):
                        continue
                    gkey = "".join(lead)
                    generic.setdefault(gkey, [])
                    if index not in generic[gkey]:
                        generic[gkey].append(index)
        for key, indices in generic.items():
            if key not in exact:
                self._names[key] = _Name(key, tuple(indices), "generic", False)
        for key, indices in exact.items():
            # A key several products claim exactly is as vague as a generic mention.
            kind = "exact" if len(indices) == 1 else "generic"
            self._names[key] = _Name(key, tuple(indices), kind, key in abbreviations)
        for key in self._names:
            for i in range(1, len(key) + 1):
                self._prefixes.add(key[:i])
        for position, name in enumerate(self._names.values()):
            if len(name.key) >= 6 and name.kind == "exact":
                size = len(name.key)
                by_length = self._by_initial.setdefault(name.key[0], {})
                by_length.setdefault(size, []).append((position, name, fuzzy_limit(size)))
                longest = self._longest_by_initial.get(name.key[0], 0)
                self._longest_by_initial[name.key[0]] = max(longest, size)
        for first in sorted(self._first_pieces):
            if len(first) >= 4:
                self._first_by_initial.setdefault(first[0], []).append(first)
        # A product's distinguishing words are the pieces no other product uses.
        owned: list[set[str]] = []
        users: dict[str, int] = {}
        for product in self.products:
            own = set(_pieces(product.name))
            for alias in product.aliases:
                own.update(_pieces(alias))
            owned.append(own)
            for piece in own:
                users[piece] = users.get(piece, 0) + 1
        for own in owned:
            self._distinguishing.append(
                frozenset(p for p in own if users[p] == 1 and p.isalpha() and len(p) >= 4)
            )

    # -- matching -------------------------------------------------------------------------

    def find(self, text: str) -> list[Entity]:
        """PRODUCT entities in `text`, left to right, each valued by a canonical name."""
        spans = [(m.start(), m.end()) for m in _PIECE_RE.finditer(text)]
        if not spans:
            return []
        pieces = [text[s:e].lower() for s, e in spans]
        joinable = [
            _JOINABLE_GAP.fullmatch(text, spans[i][1], spans[i + 1][0]) is not None
            for i in range(len(spans) - 1)
        ]
        mentions: list[ProductMention] = []
        i = 0
        n = len(pieces)
        while i < n:
            mention = self._match_at(text, spans, pieces, joinable, i)
            if mention is None:
                i += 1
                continue
            if not _is_test_parameter(text, mention.start, mention.end):
                mentions.append(mention)
            i += mention.pieces
        if not mentions:
            return []
        return self._resolve(text, pieces, mentions)

    def _match_at(
        self,
        text: str,
        spans: list[tuple[int, int]],
        pieces: list[str],
        joinable: list[bool],
        i: int,
    ) -> ProductMention | None:
        if i > 0 and joinable[i - 1]:
            if _is_inside_code(text, spans, i):
                return None
            if pieces[i - 1].endswith(_COMPOUND_ENDINGS):
                return None  # "diethylene glycol", "potassium silicate": another substance
        best: ProductMention | None = None
        key = ""
        j = i
        n = len(pieces)
        while j < n:
            key += pieces[j]
            if key not in self._prefixes:
                break
            name = self._names.get(key)
            if name is not None and self._case_ok(text, spans, i, j, name):
                if not _continues_as_code(text, spans, pieces, joinable, j):
                    best = ProductMention(
                        spans[i][0], spans[j][1], name.products, name.kind, j - i + 1
                    )
            if j + 1 < n and not joinable[j]:
                break
            j += 1
        if best is not None and best.kind == "exact":
            return best
        fuzzy = self._fuzzy_at(spans, pieces, joinable, i)
        if fuzzy is not None and (best is None or fuzzy.pieces > best.pieces):
            return fuzzy
        return best

    def _case_ok(
        self, text: str, spans: list[tuple[int, int]], i: int, j: int, name: _Name
    ) -> bool:
        if not name.abbreviation:
            return True
        written = text[spans[i][0] : spans[j][1]]
        letters = [c for c in written if c.isalpha()]
        if all(c.isupper() for c in letters):
            return True
        if name.key in CAPITALS_ONLY:
            return False
        if all(c.islower() for c in letters):
            return True
        # Chemical formulae keep their own mixed case: ZnO, MgO, HCl, MeOH.
        return any(c.isupper() for c in letters[1:])

    def _fuzzy_at(
        self,
        spans: list[tuple[int, int]],
        pieces: list[str],
        joinable: list[bool],
        i: int,
    ) -> ProductMention | None:
        first = pieces[i]
        if len(first) < 4 or not first.isalpha() or not self._first_is_close(first):
            return None
        by_length = self._by_initial.get(first[0])
        if not by_length:
            return None
        longest = self._longest_by_initial[first[0]] + 2  # no name is further than 2 edits
        # (-pieces, distance, position in the name table): more pieces win, then fewer edits,
        # then the name that comes first.
        best: tuple[int, int, int] | None = None
        best_name: _Name | None = None
        key = ""
        n = len(pieces)
        j = i
        while j < n and j < i + 6:
            key += pieces[j]
            size = len(key)
            if size > longest:
                break
            last = pieces[j]
            any_ending = last.isalpha() and len(last) >= 3
            for length in range(size - 2, size + 3):
                for position, name, limit in by_length.get(length, ()):
                    if abs(length - size) > limit:
                        continue
                    if not any_ending and not name.key.endswith(last):
                        continue  # the edit would fall on a number or a stray letter, not a typo
                    distance = osa_distance(key, name.key, limit)
                    if distance <= limit:
                        rank = (-(j - i + 1), distance, position)
                        if best is None or rank < best:
                            best, best_name = rank, name
            if j + 1 < n and not joinable[j]:
                break
            j += 1
        if best is None or best_name is None or best[1] == 0:
            return None
        count = -best[0]
        return ProductMention(
            spans[i][0], spans[i + count - 1][1], best_name.products, "fuzzy", count
        )

    def _first_is_close(self, piece: str) -> bool:
        cached = self._fuzzy_first_cache.get(piece)
        if cached is not None:
            return cached
        close = False
        for first in self._first_by_initial.get(piece[0], ()):
            limit = 1 if len(first) < 9 else 2
            if osa_distance(piece, first, limit) <= limit or (
                first.startswith(piece[:4]) and len(piece) >= 5
            ):
                close = True
                break
        if len(self._fuzzy_first_cache) > 50_000:
            self._fuzzy_first_cache.clear()
        self._fuzzy_first_cache[piece] = close
        return close

    # -- resolving generic mentions --------------------------------------------------------

    def _resolve(
        self, text: str, pieces: list[str], mentions: list[ProductMention]
    ) -> list[Entity]:
        named = {m.products[0] for m in mentions if len(m.products) == 1}
        words = set(pieces)
        entities: list[Entity] = []
        for mention in mentions:
            index = self._choose(mention.products, named, words)
            entities.append(
                Entity(
                    "PRODUCT",
                    text[mention.start : mention.end],
                    self.products[index].name,
                    mention.start,
                    mention.end,
                )
            )
        return entities

    def _choose(self, candidates: tuple[int, ...], named: set[int], words: set[str]) -> int:
        if len(candidates) == 1:
            return candidates[0]
        for index in candidates:
            if index in named:
                return index
        for index in candidates:
            if self._distinguishing[index] & words:
                return index
        return candidates[0]


_FORMULA = re.compile(r"[A-Z][a-z]?[A-Za-z0-9()]*")
_PARAMETER_BEFORE = re.compile(r"(?:\d\s*%|\(\s*as)\s*$", re.IGNORECASE)
_PARAMETER_AFTER = re.compile(r"\s*(?:content|assay|contents)\b", re.IGNORECASE)


def _is_test_parameter(text: str, start: int, end: int) -> bool:
    """A formula naming a measured quantity, not a product: "44.2% NaOH", "(as ZnO)",
    "TiO2 content"."""
    written = text[start:end]
    if not _FORMULA.fullmatch(written):
        return False
    is_formula = any(c.isdigit() for c in written) or any(
        a.islower() and b.isupper() for a, b in zip(written, written[1:], strict=False)
    )
    if not is_formula:
        return False
    before = text[max(0, start - 12) : start]
    return bool(_PARAMETER_BEFORE.search(before) or _PARAMETER_AFTER.match(text, end))


def _is_abbreviation(written: str) -> bool:
    """A short alias written in capitals or as a formula (CAM, MEG, ZnO, HCl)."""
    compact = written.replace(" ", "")
    letters = [c for c in compact if c.isalpha()]
    return (
        len(compact) <= _MAX_ABBREVIATION
        and bool(letters)
        and letters[0].isupper()
        and sum(c.isupper() for c in letters) >= 2
    )


def _is_inside_code(text: str, spans: list[tuple[int, int]], i: int) -> bool:
    """True when piece `i` continues a code glued by `-`/`/`/`.` (a batch no. like CAM-2506)."""
    gap = text[spans[i - 1][1] : spans[i][0]]
    return gap in ("-", "/", ".") and (
        any(c.isdigit() for c in text[spans[i - 1][0] : spans[i - 1][1]])
        or any(c.isdigit() for c in text[spans[i][0] : spans[i][1]])
    )


def _continues_as_code(
    text: str,
    spans: list[tuple[int, int]],
    pieces: list[str],
    joinable: list[bool],
    j: int,
) -> bool:
    """True when the match ends inside a code such as `CAM-2506-014`."""
    if j + 1 >= len(pieces) or not joinable[j]:
        return False
    gap = text[spans[j][1] : spans[j + 1][0]]
    return gap in ("-", "/") and pieces[j + 1].isdigit() and len(pieces[j + 1]) >= 3
