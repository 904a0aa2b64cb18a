"""Indian states and union territories with their GST state codes.

Lead lists write states every way people type them: ``MH``, ``Maharastra``, ``Tamilnadu``,
``Orissa``, ``J&K``, ``27-Maharashtra``. :func:`normalise_state` maps these to one canonical
name and the GST state code, so a stated state can be compared with a GSTIN's first two digits.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class State:
    """A state or union territory as GST registers it."""

    code: str
    name: str
    #: Every GSTIN state code that belongs to this state: Andhra Pradesh kept its pre-2014
    #: code 28 for old registrations, and Daman and Diu (25) merged into code 26 in 2020.
    gst_codes: frozenset[str]


#: GST state codes 01-38 and 97 (Other Territory). Codes 25 and 28 are legacy codes folded into
#: the state that now holds them, so every code resolves to exactly one canonical state.
STATES: tuple[State, ...] = (
    State("01", "Jammu and Kashmir", frozenset({"01"})),
    State("02", "Himachal Pradesh", frozenset({"02"})),
    State("03", "Punjab", frozenset({"03"})),
    State("04", "Chandigarh", frozenset({"04"})),
    State("05", "Uttarakhand", frozenset({"05"})),
    State("06", "Haryana", frozenset({"06"})),
    State("07", "Delhi", frozenset({"07"})),
    State("08", "Rajasthan", frozenset({"08"})),
    State("09", "Uttar Pradesh", frozenset({"09"})),
    State("10", "Bihar", frozenset({"10"})),
    State("11", "Sikkim", frozenset({"11"})),
    State("12", "Arunachal Pradesh", frozenset({"12"})),
    State("13", "Nagaland", frozenset({"13"})),
    State("14", "Manipur", frozenset({"14"})),
    State("15", "Mizoram", frozenset({"15"})),
    State("16", "Tripura", frozenset({"16"})),
    State("17", "Meghalaya", frozenset({"17"})),
    State("18", "Assam", frozenset({"18"})),
    State("19", "West Bengal", frozenset({"19"})),
    State("20", "Jharkhand", frozenset({"20"})),
    State("21", "Odisha", frozenset({"21"})),
    State("22", "Chhattisgarh", frozenset({"22"})),
    State("23", "Madhya Pradesh", frozenset({"23"})),
    State("24", "Gujarat", frozenset({"24"})),
    State("26", "Dadra and Nagar Haveli and Daman and Diu", frozenset({"25", "26"})),
    State("27", "Maharashtra", frozenset({"27"})),
    State("29", "Karnataka", frozenset({"29"})),
    State("30", "Goa", frozenset({"30"})),
    State("31", "Lakshadweep", frozenset({"31"})),
    State("32", "Kerala", frozenset({"32"})),
    State("33", "Tamil Nadu", frozenset({"33"})),
    State("34", "Puducherry", frozenset({"34"})),
    State("35", "Andaman and Nicobar Islands", frozenset({"35"})),
    State("36", "Telangana", frozenset({"36"})),
    State("37", "Andhra Pradesh", frozenset({"28", "37"})),
    State("38", "Ladakh", frozenset({"38"})),
    State("97", "Other Territory", frozenset({"97"})),
)

#: GST state code (including legacy 25 and 28) -> canonical state.
BY_GST_CODE: dict[str, State] = {code: s for s in STATES for code in s.gst_codes}

_BY_NAME: dict[str, State] = {s.name: s for s in STATES}

#: Abbreviations (vehicle-registration and postal style), old names and common misspellings.
_ALIASES: dict[str, str] = {
    "jk": "Jammu and Kashmir",
    "j and k": "Jammu and Kashmir",
    "jammu kashmir": "Jammu and Kashmir",
    "hp": "Himachal Pradesh",
    "pb": "Punjab",
    "ch": "Chandigarh",
    "chd": "Chandigarh",
    "uk": "Uttarakhand",
    "ut": "Uttarakhand",
    "uttaranchal": "Uttarakhand",
    "uttrakhand": "Uttarakhand",
    "hr": "Haryana",
    "dl": "Delhi",
    "new delhi": "Delhi",
    "nct of delhi": "Delhi",
    "delhi ncr": "Delhi",
    "rj": "Rajasthan",
    "up": "Uttar Pradesh",
    "br": "Bihar",
    "sk": "Sikkim",
    "ar": "Arunachal Pradesh",
    "nl": "Nagaland",
    "mn": "Manipur",
    "mz": "Mizoram",
    "tr": "Tripura",
    "ml": "Meghalaya",
    "as": "Assam",
    "wb": "West Bengal",
    "bengal": "West Bengal",
    "jh": "Jharkhand",
    "od": "Odisha",
    "or": "Odisha",
    "orissa": "Odisha",
    "cg": "Chhattisgarh",
    "ct": "Chhattisgarh",
    "chattisgarh": "Chhattisgarh",
    "chhatisgarh": "Chhattisgarh",
    "mp": "Madhya Pradesh",
    "gj": "Gujarat",
    "guj": "Gujarat",
    "gujrat": "Gujarat",
    "dd": "Dadra and Nagar Haveli and Daman and Diu",
    "dn": "Dadra and Nagar Haveli and Daman and Diu",
    "dnh": "Dadra and Nagar Haveli and Daman and Diu",
    "daman": "Dadra and Nagar Haveli and Daman and Diu",
    "daman and diu": "Dadra and Nagar Haveli and Daman and Diu",
    "dadra and nagar haveli": "Dadra and Nagar Haveli and Daman and Diu",
    "silvassa": "Dadra and Nagar Haveli and Daman and Diu",
    "mh": "Maharashtra",
    "maha": "Maharashtra",
    "ka": "Karnataka",
    "kar": "Karnataka",
    "ga": "Goa",
    "ld": "Lakshadweep",
    "kl": "Kerala",
    "tn": "Tamil Nadu",
    "tamilnadu": "Tamil Nadu",
    "py": "Puducherry",
    "pondicherry": "Puducherry",
    "pondy": "Puducherry",
    "an": "Andaman and Nicobar Islands",
    "a and n": "Andaman and Nicobar Islands",
    "andaman": "Andaman and Nicobar Islands",
    "andaman and nicobar": "Andaman and Nicobar Islands",
    "ts": "Telangana",
    "tg": "Telangana",
    "telengana": "Telangana",
    "ap": "Andhra Pradesh",
    "andhra": "Andhra Pradesh",
    "la": "Ladakh",
    "other territory": "Other Territory",
}

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_CODE_PREFIX = re.compile(r"^(\d{1,2})(?:\D|$)")


def _key(text: str) -> str:
    text = text.lower().replace("&", " and ")
    return _NON_ALNUM.sub(" ", text).strip()


_LOOKUP: dict[str, State] = {_key(s.name): s for s in STATES}
_LOOKUP.update({_key(alias): _BY_NAME[name] for alias, name in _ALIASES.items()})
# Fuzzy matching only against full names: two-letter abbreviations are too close to each other.
_FUZZY_CANDIDATES: tuple[str, ...] = tuple(k for k in _LOOKUP if len(k) > 4)


@lru_cache(maxsize=4096)
def normalise_state(text: str | None) -> State | None:
    """The canonical state for a free-text state, or None when it cannot be recognised.

    Accepts full names in any case and spacing, abbreviations (``MH``, ``TN``), old names
    (``Orissa``, ``Pondicherry``), a leading GST code (``27``, ``27-Maharashtra``) and close
    misspellings (``Maharastra``, ``Karnatka``).
    """
    if not text:
        return None
    key = _key(text)
    if not key:
        return None
    if key in _LOOKUP:
        return _LOOKUP[key]
    squeezed = key.replace(" ", "")  # "T.N." and "M P" are abbreviations too
    if squeezed in _LOOKUP:
        return _LOOKUP[squeezed]
    prefix = _CODE_PREFIX.match(key)
    if prefix:
        return BY_GST_CODE.get(prefix.group(1).zfill(2))
    without_state = key.removeprefix("state of ").removesuffix(" state").strip()
    if without_state in _LOOKUP:
        return _LOOKUP[without_state]
    match = difflib.get_close_matches(without_state, _FUZZY_CANDIDATES, n=1, cutoff=0.85)
    return _LOOKUP[match[0]] if match else None
