"""Indian business identifiers and document numbers found by pattern.

GSTIN and PAN are matched in any letter case and reported uppercased; a GSTIN with the right
shape but a wrong check character (a typo the user should see) is reported with
`valid=False`. A PAN is only reported when it stands alone, never the PAN inside a GSTIN.
Our own document numbers (`SO/25-26/01877`, `INV/2025-26/412`) are normalised to the
two-digit financial year and five-digit serial the ERP prints.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from stdnum import luhn
from stdnum.in_ import gstin as stdnum_gstin
from stdnum.in_ import pan as stdnum_pan

from ml.extract.entities import Entity

_ALNUM36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: State codes stdnum does not know yet (Ladakh, Other Territory).
_EXTRA_STATE_CODES = frozenset({"38", "97"})
_PAN_HOLDER_TYPES = frozenset("ABCFGHJLPT")
_CIN_TYPES = frozenset(
    {"PLC", "PTC", "FLC", "FTC", "GAP", "GAT", "GOI", "NPL", "OPC", "SGC", "ULL", "ULT"}
)

# Word boundaries are spelled as look-arounds on [A-Za-z0-9] so "GSTIN:27AAP..." and
# "(27AAP...)" match while the inside of a longer code does not.
_GSTIN_RE = re.compile(
    r"(?<![A-Za-z0-9])([0-9]{2}[A-Za-z]{5}[0-9]{4}[A-Za-z][0-9A-Za-z]{3})(?![A-Za-z0-9])"
)
# Fifteen characters that start like a GSTIN: candidates for a mistyped one.
_GSTIN_LIKE_RE = re.compile(r"(?<![A-Za-z0-9])([0-9]{2}[A-Za-z0-9]{13})(?![A-Za-z0-9])")
_GSTIN_SHAPE = re.compile(r"[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]")
# Characters people and OCR confuse, mapped to the other class.
_AS_LETTER = str.maketrans("0125863", "OIZSBGE")
_AS_DIGIT = str.maketrans("OQDILZSBG", "000112586")
_LETTER_POSITIONS = (2, 3, 4, 5, 6, 11)
_DIGIT_POSITIONS = (7, 8, 9, 10)
_MAX_GSTIN_REPAIRS = 2
_PAN_RE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{5}[0-9]{4}[A-Za-z])(?![A-Za-z0-9])")
_CIN_RE = re.compile(
    r"(?<![A-Za-z0-9])([LUlu][0-9]{5}[A-Za-z]{2}[0-9]{4}[A-Za-z]{3}[0-9]{6})(?![A-Za-z0-9])"
)
_FY = r"(?P<fy1>(?:19|20)?\d{2})\s*[-–]\s*(?P<fy2>\d{2})"
_DOC_RE = re.compile(
    rf"(?<![A-Za-z0-9])(?P<kind>SO|INV)\s*[/\\-]?\s*{_FY}\s*[/\\-]\s*(?P<serial>\d{{1,7}})(?![0-9])",
    re.IGNORECASE,
)
_DOC_KIND_LABEL = {"SO": "ORDER_NO", "INV": "INVOICE_NO"}
_SERIAL_WIDTH = 5

# A customer's PO reference follows a cue; the reference is one token with a digit in it.
_PO_CUE = (
    r"(?:purchase\s+order|\bP\s?\.\s?O\s?\.?|\bPO(?=[\s.:#\-]|$))"
    r"(?P<qualifier>\s*(?:no|num|number|nos|ref|reference)\b\.?)?"
    r"(?P<mark>\s*(?:[:#]|-(?=\s))\s*|\s+)"
)
_PO_CUE_RE = re.compile(_PO_CUE, re.IGNORECASE)
_PO_REF_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/\-_.]*")
# A reference that spells its own kind: "PO/BLR/2025/118", "PO-7781".
_PO_SELF_RE = re.compile(r"(?<![A-Za-z0-9/])(PO[/\-][A-Za-z0-9][A-Za-z0-9/\-_.]*)", re.IGNORECASE)
_BARE_CUE_MIN_DIGITS = 2
_PO_STOPWORDS = frozenset(
    {"dated", "dt", "date", "no", "number", "ref", "copy", "attached", "and", "for", "of"}
)


def gstin_is_valid(value: str) -> bool:
    """True when `value` is a GSTIN whose state code, embedded PAN and check character agree."""
    value = value.upper()
    if stdnum_gstin.is_valid(value):
        return True
    if value[:2] in _EXTRA_STATE_CODES and len(value) == 15 and value[13] == "Z":
        return pan_is_valid(value[2:12]) and luhn.is_valid(value, _ALNUM36)
    return False


def looks_like_mistyped_gstin(value: str) -> bool:
    """True when at most two look-alike characters (O/0, I/1, S/5, ...) or one swap of
    neighbours away from the GSTIN layout: a typo worth showing, never a valid GSTIN."""
    if len(value) != 15 or value[13] not in "Z2" or _GSTIN_SHAPE.fullmatch(value):
        return False
    chars = list(value)
    repairs = 0
    for i in _LETTER_POSITIONS:
        if chars[i].isdigit():
            fixed = chars[i].translate(_AS_LETTER)
            if fixed == chars[i]:
                repairs = _MAX_GSTIN_REPAIRS + 1
                break
            chars[i], repairs = fixed, repairs + 1
    for i in _DIGIT_POSITIONS:
        if chars[i].isalpha():
            fixed = chars[i].translate(_AS_DIGIT)
            if fixed == chars[i]:
                repairs = _MAX_GSTIN_REPAIRS + 1
                break
            chars[i], repairs = fixed, repairs + 1
    chars[13] = "Z"
    if repairs <= _MAX_GSTIN_REPAIRS and _GSTIN_SHAPE.fullmatch("".join(chars)):
        return True
    for i in range(2, 12):  # one pair of neighbours typed in the wrong order
        swapped = value[:i] + value[i + 1] + value[i] + value[i + 2 :]
        if _GSTIN_SHAPE.fullmatch(swapped[:13] + "Z" + swapped[14:]):
            return True
    return False


def pan_is_valid(value: str) -> bool:
    """True when `value` has the PAN format with a known holder type (no checksum exists)."""
    return stdnum_pan.is_valid(value.upper())


def cin_is_valid(value: str) -> bool:
    """True when `value` has the CIN layout with a known company type (no checksum exists)."""
    value = value.upper()
    return (
        len(value) == 21
        and value[0] in "LU"
        and value[12:15] in _CIN_TYPES
        and 1850 <= int(value[8:12]) <= 2100
    )


def normalise_document_number(kind: str, fy1: str, fy2: str, serial: str) -> str:
    """`SO`/`INV` numbers in the ERP's form: `SO/25-26/01877`."""
    serial = serial.lstrip("0") or "0"
    return f"{kind.upper()}/{fy1[-2:]}-{fy2}/{serial.zfill(_SERIAL_WIDTH)}"


def find_identifiers(text: str) -> Iterator[Entity]:
    """GSTIN, PAN, CIN, ORDER_NO, INVOICE_NO and PO_NO entities in `text`, in no fixed order."""
    gstin_spans: list[tuple[int, int]] = []
    for m in _GSTIN_RE.finditer(text):
        raw = m.group(1)
        value = raw.upper()
        if value[12] == "0" and not value[13].isalpha():
            continue  # not a GSTIN layout, some other 15-character code
        gstin_spans.append(m.span(1))
        yield Entity("GSTIN", raw, value, m.start(1), m.end(1), gstin_is_valid(value))
    for m in _GSTIN_LIKE_RE.finditer(text):
        if any(s <= m.start(1) < e for s, e in gstin_spans):
            continue
        raw = m.group(1)
        if looks_like_mistyped_gstin(raw.upper()):
            gstin_spans.append(m.span(1))
            yield Entity("GSTIN", raw, raw.upper(), m.start(1), m.end(1), False)
    for m in _PAN_RE.finditer(text):
        raw = m.group(1)
        value = raw.upper()
        if value[3] not in _PAN_HOLDER_TYPES or not _looks_like_code(raw):
            continue
        yield Entity("PAN", raw, value, m.start(1), m.end(1), pan_is_valid(value))
    for m in _CIN_RE.finditer(text):
        raw = m.group(1)
        value = raw.upper()
        yield Entity("CIN", raw, value, m.start(1), m.end(1), cin_is_valid(value))
    doc_spans: list[tuple[int, int]] = []
    for m in _DOC_RE.finditer(text):
        kind = m.group("kind").upper()
        fy1, fy2 = m.group("fy1"), m.group("fy2")
        if not _fy_consistent(fy1, fy2):
            continue
        value = normalise_document_number(kind, fy1, fy2, m.group("serial"))
        doc_spans.append(m.span())
        yield Entity(_DOC_KIND_LABEL[kind], m.group(0), value, m.start(), m.end())
    yield from _find_po_numbers(text, doc_spans)


def _looks_like_code(raw: str) -> bool:
    """Reject mixed-case words that happen to fit the PAN shape; codes are one case."""
    letters = [c for c in raw if c.isalpha()]
    return all(c.isupper() for c in letters) or all(c.islower() for c in letters)


def _fy_consistent(fy1: str, fy2: str) -> bool:
    """A financial year is two consecutive years: 25-26 or 2025-26."""
    return (int(fy1[-2:]) + 1) % 100 == int(fy2)


def _find_po_numbers(text: str, doc_spans: list[tuple[int, int]]) -> Iterator[Entity]:
    def overlaps_doc(start: int, end: int) -> bool:
        return any(s < end and start < e for s, e in doc_spans)

    seen: set[int] = set()
    for m in _PO_SELF_RE.finditer(text):
        ref = _trim_reference(m.group(1))
        if ref and any(c.isdigit() for c in ref) and not overlaps_doc(m.start(1), m.end(1)):
            seen.add(m.start(1))
            yield Entity("PO_NO", ref, ref, m.start(1), m.start(1) + len(ref))
    for m in _PO_CUE_RE.finditer(text):
        ref_match = _PO_REF_RE.match(text, m.end())
        if ref_match is None:
            continue
        ref = _trim_reference(ref_match.group(0))
        start = ref_match.start()
        if (
            not ref
            or start in seen
            or m.start() in seen
            or not any(c.isdigit() for c in ref)
            or ref.lower() in _PO_STOPWORDS
            or _is_date(ref)
            or overlaps_doc(start, start + len(ref))
        ):
            continue
        explicit = m.group("qualifier") or ":" in m.group("mark") or "#" in m.group("mark")
        if not explicit and sum(c.isdigit() for c in ref) < _BARE_CUE_MIN_DIGITS:
            continue  # "New PO - Ti02 anatase": after a bare "PO" a reference looks like a code
        seen.add(start)
        yield Entity("PO_NO", ref, ref, start, start + len(ref))


def _trim_reference(ref: str) -> str:
    return ref.rstrip("./-_")


_DATE_RE = re.compile(r"^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$")


def _is_date(ref: str) -> bool:
    return bool(_DATE_RE.match(ref))
