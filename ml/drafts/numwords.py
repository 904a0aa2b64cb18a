"""Numbers written in English words, as a draft may spell them, turned into digits.

`spelled_numbers(text)` finds every figure written in words and gives it in digits:

- cardinals with Indian and western scales: "ten" -> 10, "two hundred and forty-eight" ->
  248, "twelve thousand five hundred" -> 12500, "two and a half lakh" -> 250000,
  "one crore" -> 10000000, "twelve point five" -> 12.5;
- "half" (0.5, "one and a half" 1.5, "half a lakh" 50000) and "dozen" ("a dozen" 12,
  "half a dozen" 6, "two dozen" 24);
- digits read out one by one, as phone and account numbers are: "nine eight two zero" ->
  9820, "double five" -> 55, "twenty twenty-five" -> 2025;
- day ordinals next to a month: "the twenty-first of November" -> "21st of November".

`with_digits(text)` rewrites the text with those digits in place, so the checks that read
figures in digits ("10 percent", "50 rupees per kg", "21st of November") see spelled ones
too; it returns where each rewritten figure sits and what was written there.

A lone "one" that is not followed by a unit, currency or percent ("one of our products",
"no one") is prose, not a figure. Ordinals away from a month ("the first lot") are prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

_UNITS = {
    "zero": 0, "nought": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9,
}  # fmt: skip
_TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
#: Scales that close a part of the number ("five lakh twenty thousand").
_SCALES = {
    "thousand": 1000, "lakh": 100_000, "lakhs": 100_000, "lac": 100_000, "lacs": 100_000,
    "crore": 10_000_000, "crores": 10_000_000, "million": 1_000_000, "millions": 1_000_000,
    "billion": 1_000_000_000,
}  # fmt: skip
#: Scale words that may open a figure on their own ("hundred percent", "lakh rupees").
_SCALE_STARTS = {"hundred", "thousand", "lakh", "lac", "crore", "million", "billion", "dozen"}
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}  # fmt: skip
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
)
#: What makes a lone "one" a figure: a unit, currency or percent right after it.
_UNIT_AFTER = re.compile(
    r"[ \t]*(?:-[ \t]*)?(?:percent|per[ \t]*cent|pc|%|rupees?|rs\b|inr\b|paise|kgs?\b|kilo|"
    r"kilograms?|tonnes?|tons?\b|mt\b|metric|bags?|drums?|cans?|litres?|liters?|ltrs?\b|"
    r"days?\b|weeks?|months?|years?|hours?|hrs?\b|minutes?|mins?\b|lot\b|truck|load|"
    r"consignment|pallets?|nos?\b|pieces?|pcs\b|units?\b)",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z]+")
#: What may sit between the words of one figure: spaces and hyphens (any dash), no newline.
_GAP = re.compile(r"[ \t\-\u2010-\u2015]+")
#: A figure in digits right before a scale word ("1.18 lakh", "2 dozen").
_DIGITS_BEFORE = re.compile(r"(?<![\d.,])(\d+(?:\.\d+)?)[ \t]*$")
_MONTH_AFTER = re.compile(rf"[ \t\-]+(?:of[ \t]+)?(?:{_MONTHS})\b", re.IGNORECASE)
_MONTH_BEFORE = re.compile(rf"\b(?:{_MONTHS})\.?[ \t]+(?P<the>the[ \t]+)?$", re.IGNORECASE)


@dataclass(frozen=True)
class SpelledNumber:
    """A figure written in words: where it is, as written, and in digits."""

    start: int
    end: int
    text: str
    digits: str


def _is_number_word(word: str) -> bool:
    return (
        word in _UNITS
        or word in _TEENS
        or word in _TENS
        or word in _SCALES
        or word in ("hundred", "dozen", "half")
    )


def _format(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.6f}".rstrip("0").rstrip(".")


class _Reader:
    """Reads one run of number words into a value, or into digits read out one by one."""

    def __init__(self) -> None:
        self.total = Fraction(0)
        self.current: Fraction | None = None
        self.last: str | None = None  # kind of the last number word
        self.groups: list[str] = []  # digits read out one by one ("nine eight ...")
        self.repeat = 1

    def _close_group(self) -> None:
        if self.current is not None or self.total:
            self.groups.append(_format(self.total + (self.current or 0)))
        self.total, self.current, self.last = Fraction(0), None, None

    def small(self, kind: str, value: int) -> None:
        """A unit (0-9), teen (10-19) or tens (20-90) word."""
        if self.repeat > 1:  # "double five": digits read out
            self._close_group()
            self.groups.extend([str(value)] * self.repeat)
            self.repeat = 1
            self.last = "repeat"
            return
        after_tens = self.last == "tens" and kind == "unit"
        if not (self.last in (None, "hundred", "scale") or after_tens):
            self._close_group()  # "nine eight", "twenty twenty": read out one by one
        self.current = (self.current or 0) + value
        self.last = "tens_unit" if after_tens else kind

    def multiply(self, kind: str, factor: int) -> None:
        """hundred, dozen: multiply the part being read."""
        self.current = (self.current if self.current is not None else 1) * factor
        self.last = kind

    def scale(self, factor: int) -> None:
        self.total += (self.current if self.current is not None else 1) * factor
        self.current = None
        self.last = "scale"

    def half(self) -> None:
        self.current = (self.current or 0) + Fraction(1, 2)
        self.last = "half"

    def digits(self, decimals: str) -> str:
        if self.groups:
            self._close_group()
            return "".join(self.groups)
        value = _format(self.total + (self.current or 0))
        return f"{value}.{decimals}" if decimals and "." not in value else value


def _words(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group(0).lower()) for m in _WORD.finditer(text)]


def _joined(text: str, left: tuple[int, int, str], right: tuple[int, int, str]) -> bool:
    return bool(_GAP.fullmatch(text, left[1], right[0]))


def _run_end(text: str, words: list[tuple[int, int, str]], i: int) -> int:
    """Index past the last word of the figure starting at `i` (i itself when none does)."""

    def word(k: int) -> str | None:
        if k < len(words) and (k == i or _joined(text, words[k - 1], words[k])):
            return words[k][2]
        return None

    def opens_scale(k: int) -> bool:  # "a"/"an" is part of a figure before these
        return word(k) in _SCALES or word(k) in ("hundred", "dozen", "half")

    first = word(i)
    if first is None:
        return i
    if first in ("a", "an"):
        if not opens_scale(i + 1):
            return i
    elif first in ("double", "triple"):
        if word(i + 1) not in _UNITS:
            return i
    elif not (
        first in _UNITS or first in _TEENS or first in _TENS or first in _SCALE_STARTS
        or first == "half"
    ):  # fmt: skip
        return i
    k = i + 1
    end = k
    while True:
        w = word(k)
        if w is None:
            return end
        if _is_number_word(w):
            k += 1
            end = k
        elif w in ("a", "an") and opens_scale(k + 1):
            k += 1
        elif w == "and" and (
            # "one hundred and five", "one lakh and fifty thousand", "one and a half"
            (words[k - 1][2] in _SCALES or words[k - 1][2] == "hundred")
            and _is_number_word(word(k + 1) or "")
            or word(k + 1) == "half"
            or (word(k + 1) in ("a", "an") and word(k + 2) == "half")
        ):
            k += 1
        elif w in ("double", "triple") and word(k + 1) in _UNITS:
            k += 1
        elif w == "point" and word(k + 1) in _UNITS:
            k += 1
            while word(k) in _UNITS:
                k += 1
            return k
        else:
            return end


def _read(tokens: list[str], lead: Fraction | None = None) -> str | None:
    """The digits of a run of number words (`lead`: a figure in digits written before it)."""
    reader = _Reader()
    if lead is not None:
        reader.current, reader.last = lead, "tens_unit"
    decimals = ""
    seen_number = False
    for n, w in enumerate(tokens):
        if w == "point":
            decimals = "".join(str(_UNITS[d]) for d in tokens[n + 1 :])
            break
        if w in ("a", "an", "and"):
            continue
        if w in ("double", "triple"):
            reader.repeat = 2 if w == "double" else 3
        elif w in _UNITS:
            reader.small("unit", _UNITS[w])
        elif w in _TEENS:
            reader.small("teen", _TEENS[w])
        elif w in _TENS:
            reader.small("tens", _TENS[w])
        elif w == "hundred":
            reader.multiply("hundred", 100)
        elif w == "dozen":
            reader.multiply("dozen", 12)
        elif w in _SCALES:
            reader.scale(_SCALES[w])
        elif w == "half":
            reader.half()
        seen_number = True
    return reader.digits(decimals) if seen_number else None


def _ordinal(text: str, words: list[tuple[int, int, str]], i: int) -> SpelledNumber | None:
    """A day written as an ordinal next to a month ("twenty-first of November")."""
    start = words[i][0]
    day = 0
    k = i
    if words[k][2] in ("twenty", "thirty") and k + 1 < len(words):
        if _joined(text, words[k], words[k + 1]) and words[k + 1][2] in _ORDINALS:
            day = _TENS[words[k][2]]
            k += 1
    if words[k][2] not in _ORDINALS:
        return None
    day += _ORDINALS[words[k][2]]
    end = words[k][1]
    if day > 31:
        return None
    before = _MONTH_BEFORE.search(text, 0, start)
    if not _MONTH_AFTER.match(text, end) and before is None:
        return None
    if before is not None and before.group("the"):
        start = before.start("the")
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(day % 10 if day not in (11, 12, 13) else 0, "th")
    return SpelledNumber(start, end, text[start:end], f"{day}{suffix}")


def spelled_numbers(text: str) -> list[SpelledNumber]:
    """Every figure written in words in `text`, in order, with its digits."""
    words = _words(text)
    found: list[SpelledNumber] = []
    i = 0
    while i < len(words):
        ordinal = _ordinal(text, words, i)
        if ordinal is not None:
            found.append(ordinal)
            while i < len(words) and words[i][0] < ordinal.end:
                i += 1
            continue
        end = _run_end(text, words, i)
        if end == i:
            i += 1
            continue
        tokens = [w for _, _, w in words[i:end]]
        start, stop = words[i][0], words[end - 1][1]
        lone_one = tokens == ["one"] and not _UNIT_AFTER.match(text, stop)
        lead = _DIGITS_BEFORE.search(text, 0, start) if tokens[0] in _SCALE_STARTS else None
        if lead is not None:  # "1.18 lakh", "2 dozen": the digits are part of the figure
            start = lead.start()
        digits = None if lone_one else _read(tokens, Fraction(lead.group(1)) if lead else None)
        if digits is not None:
            found.append(SpelledNumber(start, stop, text[start:stop], digits))
        i = end
    return found


def with_digits(text: str) -> tuple[str, list[tuple[int, int, SpelledNumber]]]:
    """`text` with each spelled figure replaced by its digits, and where each one now sits:
    (start, end) in the new text and the figure as written."""
    out: list[str] = []
    placed: list[tuple[int, int, SpelledNumber]] = []
    pos = 0
    length = 0
    for number in spelled_numbers(text):
        out.append(text[pos : number.start])
        length += number.start - pos
        out.append(number.digits)
        placed.append((length, length + len(number.digits), number))
        length += len(number.digits)
        pos = number.end
    out.append(text[pos:])
    return "".join(out), placed
