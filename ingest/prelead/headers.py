"""Map the column headers marketing's lists arrive with onto the lead fields we load.

Headers differ from list to list (``Firm``, ``Company Name``, ``GST No.``, ``E-mail ID``,
``Mobile``...). A header is matched after lower-casing and dropping everything but letters and
digits, so ``E-Mail`` and ``email`` agree. Columns we do not know are kept, by their header, in
the row's ``extra`` object.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Lead fields in the order they are stored.
FIELDS: tuple[str, ...] = (
    "company",
    "gstin",
    "pan",
    "cin",
    "contact_person",
    "email",
    "phone",
    "city",
    "state",
    "address",
    "product_interest",
    "source",
)

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "company": (
        "company",
        "company name",
        "name of company",
        "name of the company",
        "firm",
        "firm name",
        "name of firm",
        "name of the firm",
        "organisation",
        "organization",
        "organisation name",
        "organization name",
        "party",
        "party name",
        "customer",
        "customer name",
        "business name",
        "account name",
        "entity",
        "entity name",
    ),
    "gstin": (
        "gstin",
        "gst",
        "gst no",
        "gst number",
        "gstin no",
        "gstin number",
        "gst in",
        "gstn",
        "gst reg no",
        "gst registration no",
        "gst registration number",
        "gstin uin",
    ),
    "pan": ("pan", "pan no", "pan number", "pan card", "pan card no"),
    "cin": (
        "cin",
        "cin no",
        "cin number",
        "corporate identification number",
        "corporate identity number",
    ),
    "contact_person": (
        "contact person",
        "contact person name",
        "contact name",
        "name",
        "contact",
        "person",
        "key person",
        "concerned person",
        "person name",
    ),
    "email": (
        "email",
        "e mail",
        "email id",
        "e mail id",
        "email address",
        "e mail address",
        "mail",
        "mail id",
    ),
    "phone": (
        "phone",
        "phone no",
        "phone number",
        "mobile",
        "mobile no",
        "mobile number",
        "mob",
        "mob no",
        "contact no",
        "contact number",
        "tel",
        "tel no",
        "telephone",
        "cell",
        "cell no",
        "whatsapp",
        "whatsapp no",
        "whatsapp number",
    ),
    "city": ("city", "town", "location", "district"),
    "state": ("state", "state name", "province"),
    "address": (
        "address",
        "addr",
        "full address",
        "office address",
        "registered address",
        "address line 1",
    ),
    "product_interest": (
        "product interest",
        "product",
        "products",
        "product of interest",
        "interested in",
        "interest",
        "requirement",
        "material",
        "chemical",
    ),
    "source": ("source", "lead source", "campaign", "channel"),
}

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def header_key(header: str) -> str:
    """The matching key of a header: lower case, letters and digits only."""
    return _NON_ALNUM.sub("", header.lower())


_LOOKUP: dict[str, str] = {
    header_key(synonym): field for field, synonyms in _SYNONYMS.items() for synonym in synonyms
}


@dataclass(frozen=True)
class ColumnMap:
    """Where each lead field and each unknown column sits in a row of cells."""

    #: field name -> cell index, for the fields this file has.
    fields: dict[str, int]
    #: (name in `extra`, cell index) for columns that are not lead fields.
    extra: tuple[tuple[str, int], ...]
    #: The headers as they appear in the file.
    headers: tuple[str, ...]


def field_for(header: str) -> str | None:
    """The lead field a header names, or None."""
    return _LOOKUP.get(header_key(header))


def map_headers(headers: list[str]) -> ColumnMap:
    """Assign each header to a lead field or to `extra`.

    The first column naming a field wins; a second ``Phone`` column is kept in ``extra`` under
    its own header, never silently dropped. Blank headers become ``column_<n>`` (1-based).
    """
    fields: dict[str, int] = {}
    extra: list[tuple[str, int]] = []
    used_names: set[str] = set()
    for index, raw in enumerate(headers):
        header = (raw or "").strip()
        field = field_for(header) if header else None
        if field is not None and field not in fields:
            fields[field] = index
            continue
        name = header or f"column_{index + 1}"
        base, n = name, 2
        while name in used_names:
            name = f"{base}_{n}"
            n += 1
        used_names.add(name)
        extra.append((name, index))
    return ColumnMap(fields=fields, extra=tuple(extra), headers=tuple(headers))
