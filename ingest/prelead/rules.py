"""Checks and normalisations for single values in a lead list.

Each checker takes the cell as given and returns the normalised value plus the reasons it is
wrong (empty when it is fine). Only the checkers of values that repeat across a list are cached
(states, and phone numbers that need the full parser): company names, GSTINs and email
addresses are nearly unique per row, and caching them measurably slows a large load.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from stdnum.exceptions import ValidationError
from stdnum.in_ import pan as stdnum_pan

from ingest.prelead.states import BY_GST_CODE

#: One reason a row is invalid: (code, field, message). Codes are stable; messages are for people.
Reason = tuple[str, str, str]


# GSTIN: 2-digit state code, PAN, entity number (1-9, A-Z), 'Z', check character.
_GSTIN_SHAPE = re.compile(r"[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]")
_GSTIN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_CIN = re.compile(
    r"[LU][0-9]{5}[A-Z]{2}[0-9]{4}"
    r"(?:PLC|PTC|FLC|FTC|GAP|GAT|GOI|NPL|OPC|SGC|ULL|ULT)[0-9]{6}"
)
# The PANs python-stdnum accepts: its format, its holder types, a serial other than 0000. Checked
# here first because stdnum's character-by-character cleaning dominates a million-row load;
# anything this rejects goes through stdnum for the precise reason.
# The holder types are stdnum's list (a test keeps the two in step).
PAN_HOLDER_TYPES = "ABCFGHLJPTK"
_PAN_OK = re.compile(r"[A-Z]{3}[" + PAN_HOLDER_TYPES + r"][A-Z](?!0000)[0-9]{4}[A-Z]")
_ID_SEPARATORS = re.compile(r"[\s\-./]+")

# Email: an RFC 5322 dot-atom local part and a DNS host name with an alphabetic TLD. Quoted
# local parts and IP-literal domains are legal but never seen in genuine B2B lead lists, and
# accepting them would let junk through.
_EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)
_EMAIL_SPLIT = re.compile(r"[;,\s/]+")
_ANGLE = re.compile(r"<([^<>]*)>")

_PHONE_SPLIT = re.compile(r"[/,;]|\bor\b")
_NOT_DIGIT = re.compile(r"[^0-9]")  # not \D: that keeps other scripts' digits


_VALUE = {ch: i for i, ch in enumerate(_GSTIN_ALPHABET)}
_DOUBLED = {ch: sum(divmod(2 * i, 36)) for i, ch in enumerate(_GSTIN_ALPHABET)}


def gstin_check_character(first14: str) -> str:
    """The GSTIN check character for the first 14 characters (upper-case alphanumerics).

    The Luhn mod-36 scheme of ``stdnum.luhn`` with the 36-character alphabet, unrolled for speed;
    a test checks it against ``stdnum.luhn.calc_check_digit`` and ``stdnum.in_.gstin``.
    """
    # Counted from the right of the full number (check character at 0), odd positions are
    # doubled: in the first 14 characters those are the odd indexes.
    total = sum(map(_DOUBLED.__getitem__, first14[1::2])) + sum(
        map(_VALUE.__getitem__, first14[0::2])
    )
    return _GSTIN_ALPHABET[(36 - total % 36) % 36]


def _pan_ok(number: str) -> bool:
    return _PAN_OK.fullmatch(number) is not None


def compact_identifier(value: str) -> str:
    """Upper-case the value and drop spaces, hyphens, dots and slashes people type inside IDs."""
    return _ID_SEPARATORS.sub("", value).upper()


def check_gstin(value: str) -> tuple[str, tuple[Reason, ...]]:
    """The compact GSTIN and what is wrong with it.

    The check character is python-stdnum's mod-36 Luhn (what ``stdnum.in_.gstin`` checks); the state code is checked against the full GST table, which also
    holds Ladakh (38) and Other Territory (97) that stdnum does not know.
    """
    number = value if len(value) == 15 and value.isalnum() else compact_identifier(value)
    number = number.upper()
    if len(number) != 15:
        return number, (
            ("gstin_format", "gstin", f"GSTIN must be 15 characters, got {len(number)}"),
        )
    if not _GSTIN_SHAPE.fullmatch(number):
        return number, (
            (
                "gstin_format",
                "gstin",
                "GSTIN must be state code, PAN, entity number, 'Z' and a check character",
            ),
        )
    if number[:2] not in BY_GST_CODE:
        return number, (("gstin_format", "gstin", f"GSTIN state code {number[:2]} does not exist"),)
    reasons: list[Reason] = []
    if not _pan_ok(number[2:12]):
        reasons.append(("gstin_format", "gstin", "the PAN inside the GSTIN is not a valid PAN"))
    expected = gstin_check_character(number[:14])
    if number[14] != expected:
        reasons.append(
            (
                "gstin_checksum",
                "gstin",
                f"GSTIN check character is {number[14]}, expected {expected} (likely a typo)",
            )
        )
    return number, tuple(reasons)


_PAN_MESSAGES = {
    "InvalidLength": "PAN must be 10 characters",
    "InvalidFormat": "PAN must be 5 letters, 4 digits and a letter",
    "InvalidComponent": "PAN holder type or serial number is not possible",
}


def check_pan(value: str) -> tuple[str, tuple[Reason, ...]]:
    """The compact PAN and what is wrong with its format (its check letter is not public)."""
    number = compact_identifier(value)
    if _pan_ok(number):
        return number, ()
    try:
        stdnum_pan.validate(number)
    except ValidationError as exc:
        message = _PAN_MESSAGES.get(type(exc).__name__, "PAN is not valid")
        return number, (("pan_format", "pan", message),)
    return number, ()


def check_cin(value: str) -> tuple[str, tuple[Reason, ...]]:
    """The compact CIN and whether it has the 21-character MCA shape."""
    number = compact_identifier(value)
    if _CIN.fullmatch(number):
        return number, ()
    return number, (
        (
            "cin_format",
            "cin",
            "CIN must be L/U, 5-digit industry code, state, year, company type, 6-digit number",
        ),
    )


def check_email(value: str) -> tuple[str | None, tuple[Reason, ...]]:
    """The first address in the cell, lower-cased, or None and the reason it is unusable.

    Accepts ``mailto:`` prefixes and ``Name <address>`` forms; when a cell lists several
    addresses the first is the one used. No DNS lookups: syntax only.
    """
    text = value.strip()
    match = _EMAIL.fullmatch(text)
    if match is not None and len(text) <= 254 and len(match.group("local")) <= 64:
        return text.lower(), ()
    angle = _ANGLE.search(text)
    if angle:
        text = angle.group(1)
    if text[:7].lower() == "mailto:":
        text = text[7:]
    candidate = next((part for part in _EMAIL_SPLIT.split(text) if part), "")
    match = _EMAIL.fullmatch(candidate)
    if match is None:
        return None, (("email_format", "email", f"not an email address: {value[:80]!r}"),)
    if len(match.group("local")) > 64 or len(candidate) > 254:
        return None, (("email_format", "email", "email address is longer than allowed"),)
    return candidate.lower(), ()


def check_phone(value: str) -> tuple[str | None, tuple[Reason, ...]]:
    """The first number in the cell in E.164, or None and why it is not a phone number.

    Indian numbers may be written with or without +91, 91 or a trunk 0. Plain 10-digit mobiles
    (6-9 series) are normalised directly: every such number is valid in libphonenumber's India
    metadata, and skipping its parser here is what keeps million-row lists fast. Anything else
    (landlines, foreign numbers, odd spacing) goes through ``phonenumbers`` with region IN.
    """
    if len(value) == 10 and value.isascii() and value.isdigit() and value[0] in "6789":
        return "+91" + value, ()  # the commonest spelling, checked before any regex work
    first = _PHONE_SPLIT.split(value, 1)[0].strip()
    digits = _NOT_DIGIT.sub("", first)
    n = len(digits)
    if n == 10 and digits[0] in "6789" and not first.startswith("+"):
        return "+91" + digits, ()
    if n == 12 and digits[:2] == "91" and digits[2] in "6789":
        return "+" + digits, ()
    if n == 11 and digits[0] == "0" and digits[1] in "6789" and not first.startswith("+"):
        return "+91" + digits[1:], ()
    return _check_phone_slow(first)


@lru_cache(maxsize=16384)
def _check_phone_slow(value: str) -> tuple[str | None, tuple[Reason, ...]]:
    try:
        number = phonenumbers.parse(value, "IN")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        return None, (("phone_invalid", "phone", f"not a valid phone number: {value[:40]!r}"),)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), ()


_NAME_PUNCT = re.compile(r"[\W_]+")
_MS_PREFIX = re.compile(r"m\s*/\s*s\b\.?\s*", re.IGNORECASE)
#: Words that spell a legal form, wherever they stand.
_FORM_WORDS = {"limited": "ltd", "company": "co", "pvtltd": "pvt ltd", "pltd": "pvt ltd"}
#: First words of a "private limited" pair ("Pvt Ltd", "P. Ltd", "Private Limited", "(P) Ltd").
_PRIVATE = frozenset({"private", "pvt", "pvte", "prv", "p"})


def company_key(name: str) -> str:
    """A key under which spellings of one company name agree.

    Case, spacing, punctuation, a leading ``M/s``, ``&`` vs ``and`` and the legal-form variants
    (``Pvt. Ltd.``, ``Private Limited``, ``P Ltd``, ``(P) Ltd``, ``Pvt.Ltd``) collapse:
    ``M/s. Acme Chemicals (P) Ltd.`` and ``ACME CHEMICALS PRIVATE LIMITED`` give the same key.
    """
    text = name.strip()
    if text[:1] in "mM" and (prefix := _MS_PREFIX.match(text)):
        text = text[prefix.end() :]
    words = _NAME_PUNCT.sub(" ", text.lower().replace("&", " and ")).split()
    words = [_FORM_WORDS.get(w, w) for w in words]
    if not _PRIVATE.isdisjoint(words):
        out: list[str] = []
        for word in words:
            if word in ("ltd", "pvt ltd") and out and out[-1] in _PRIVATE:
                out[-1] = "pvt ltd"
            else:
                out.append(word)
        if out[-1] == "pvt":  # "Acme Chemicals Pvt" is how people shorten Pvt Ltd
            out[-1] = "pvt ltd"
        words = out
    if words[-3:] == ["l", "l", "p"]:
        words[-3:] = ["llp"]
    return " ".join(words)
