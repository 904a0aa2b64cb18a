"""Turn one row of cells into one stored lead row: cleaned values, reasons, safety flags.

Invalid rows are never dropped: every row becomes a record carrying the list of what is wrong
with it. Rows are validated in chunks (:func:`validate_chunk`, possibly in worker processes);
duplicates within a batch are found by :class:`DuplicateIndex`, which must see the chunks in
file order (it points each duplicate at the first row it repeats).

A row whose cells the parser cut to ``PRELEAD_MAX_CELL_CHARS`` (a
:class:`~ingest.prelead.parse.TruncatedRow`) is stored with the cut cells and marked invalid
with one ``cell_too_long`` reason per cell, so a cut value never passes as a clean lead.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterable
from typing import NamedTuple

from ingest.prelead.headers import FIELDS, ColumnMap
from ingest.prelead.rules import (
    Reason,
    check_cin,
    check_email,
    check_gstin,
    check_pan,
    check_phone,
    company_key,
)
from ingest.prelead.states import BY_GST_CODE, normalise_state

#: Columns of ``raw.prelead_rows`` in COPY order.
COLUMNS: tuple[str, ...] = (
    "batch",
    "row_no",
    "company_name",
    "company_key",
    "gstin",
    "pan",
    "cin",
    "contact_person",
    "email",
    "email_normalised",
    "phone",
    "phone_e164",
    "city",
    "state",
    "state_name",
    "state_code",
    "address",
    "product_interest",
    "source",
    "extra",
    "is_valid",
    "reason_codes",
    "reasons",
    "formula_neutralised",
    "formula_originals",
    # Last, because only the parent loader (which sees rows in file order) can fill them.
    "duplicate_of",
    "duplicate_on",
)

#: Leading characters that make a spreadsheet treat a cell as a formula (OWASP CSV injection).
#: Every stored cell starting with one gets a leading apostrophe, phone numbers such as
#: "+91 98765 43210" included: telling a harmless "+..." from "+cmd|..." is exactly the
#: judgement that lets injections through. The usable phone number is ``phone_e164``, computed
#: from the original cell, and every original is kept in ``formula_originals`` (JSON).
# Leading tabs and CRs are stripped with the other surrounding whitespace, and the cell is then
# checked again, so a formula cannot hide behind them.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: Cells that mean "nothing here".
PLACEHOLDERS = frozenset({"-", "--", "---", "na", "n/a", "nil", "null", "none", "#n/a", "."})
# Every upper/lower-case spelling of the placeholders, so a cell needs one set lookup, no lower().
_PLACEHOLDER_SPELLINGS = frozenset(
    "".join(spelling)
    for word in PLACEHOLDERS
    for spelling in itertools.product(*((ch.lower(), ch.upper()) for ch in word))
)

# One encoder for every row: json.dumps(..., ensure_ascii=False) would build one per call.
_to_json = json.JSONEncoder(ensure_ascii=False).encode
_json_string = json.encoder.encode_basestring  # C implementation: escapes as json.dumps does


def _extra_json(extra: dict[str, str]) -> str:
    """``extra`` as a JSON object (the same text as json.dumps(..., ensure_ascii=False))."""
    return (
        "{" + ", ".join([f"{_json_string(k)}: {_json_string(v)}" for k, v in extra.items()]) + "}"
    )


_EMPTY_CODES = "{}"
_EMPTY_REASONS = "[]"


class ValidatedRow(NamedTuple):
    """One validated row: its COPY text line up to (not including) the duplicate columns,
    plus the keys under which it may repeat an earlier row."""

    row_no: int
    #: Tab-separated COPY text fields for every column before ``duplicate_of``, no newline.
    copy_prefix: str
    is_valid: bool
    formula_neutralised: bool
    gstin_key: str | None
    name_state_key: str | None
    email_key: str | None


_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: str | None) -> str:
    """A value as a field of PostgreSQL's COPY text format (None is NULL)."""
    if value is None:
        return "\\N"
    if _COPY_SPECIAL.search(value):
        return value.translate(_COPY_ESCAPES)
    return value


def make_row_validator(
    batch: str, columns: ColumnMap
) -> Callable[[int, list[str | None]], ValidatedRow]:
    """A function validating rows of a file with this column map into :class:`ValidatedRow`."""
    # A header is a cell too: an extra column named "=HYPERLINK(...)" keeps its name
    # behind the same apostrophe as a formula cell.
    extra_columns = [(_neutral_name(name), position) for name, position in columns.extra]
    batch_prefix = copy_text(batch) + "\t"
    # A field the file lacks reads index `width`: the None every row is padded with.
    width = len(columns.headers)
    pad = [None] * (width + 1)
    (
        i_company,
        i_gstin,
        i_pan,
        i_cin,
        i_contact,
        i_email,
        i_phone,
        i_city,
        i_state,
        i_address,
        i_product,
        i_source,
    ) = (columns.fields.get(field, width) for field in FIELDS)
    column_names = _column_names(columns)

    def validate(row_no: int, cells: list[str | None]) -> ValidatedRow:
        cut = cells.cut if type(cells) is not list else None  # type: ignore[attr-defined]
        max_chars = cells.max_chars if cut else 0  # type: ignore[attr-defined]
        n = len(cells)
        overflow = cells[width:] if n > width else None
        # Exactly width + 1 cells: the last is the None that absent fields point at.
        cells = raw = (cells[:width] if overflow else cells) + pad[min(n, width) :]
        cells = [c.strip() if c else None for c in cells]
        cells = [None if not c or c in _PLACEHOLDER_SPELLINGS else c for c in cells]
        reasons: list[Reason] = []
        company = cells[i_company]
        if company is not None:
            company = " ".join(company.split())
            key = company_key(company) or None
        else:
            key = None
        if key is None:
            reasons.append(("company_missing", "company", "company name is empty"))

        gstin = cells[i_gstin]
        gstin_state = None
        if gstin is not None:
            gstin, problems = check_gstin(gstin)
            if problems:
                reasons.extend(problems)
            if len(gstin) == 15:
                gstin_state = BY_GST_CODE.get(gstin[:2])

        pan = cells[i_pan]
        if pan is not None:
            pan, problems = check_pan(pan)
            if problems:
                reasons.extend(problems)
            if gstin is not None and len(gstin) == 15 and gstin[2:12] != pan:
                reasons.append(
                    (
                        "pan_gstin_mismatch",
                        "pan",
                        f"PAN {pan} differs from the PAN inside the GSTIN ({gstin[2:12]})",
                    )
                )

        cin = cells[i_cin]
        if cin is not None:
            cin, problems = check_cin(cin)
            if problems:
                reasons.extend(problems)

        state_text = cells[i_state]
        state = normalise_state(state_text) if state_text is not None else None
        if state_text is not None and state is None:
            reasons.append(("state_unknown", "state", f"unknown state {state_text[:60]!r}"))
        elif state is not None and gstin_state is not None and gstin[:2] not in state.gst_codes:
            reasons.append(
                (
                    "gstin_state_mismatch",
                    "gstin",
                    f"GSTIN state code {gstin[:2]} is {gstin_state.name}, "
                    f"but the stated state is {state.name}",
                )
            )
        if state is None and state_text is None:
            state = gstin_state  # no stated state: the GSTIN says where the registration is

        email = cells[i_email]
        email_normalised = None
        if email is not None:
            email_normalised, problems = check_email(email)
            if problems:
                reasons.extend(problems)

        phone = cells[i_phone]
        phone_e164 = None
        if phone is not None:
            phone_e164, problems = check_phone(phone)
            if problems:
                reasons.extend(problems)
        if email is None and phone is None:
            reasons.append(("contact_missing", "contact", "neither email nor phone is given"))
        if cut:
            reasons.extend(_cut_reasons(cut, column_names, max_chars))

        extra = None
        for name, position in extra_columns:
            value = raw[position]
            if value and (value := value.strip()):
                if extra is None:
                    extra = {}
                extra[name] = value
        if overflow:  # cells beyond the last header: kept under their column number
            for offset, value in enumerate(overflow, start=width + 1):
                if value and (value := value.strip()):
                    if extra is None:
                        extra = {}
                    extra[f"column_{offset}"] = value

        contact = cells[i_contact]
        if contact is not None:
            contact = " ".join(contact.split())
        fields: list[str | None] = [
            company,
            key,
            gstin,
            pan,
            cin,
            contact,
            email,
            email_normalised,
            phone,
            phone_e164,
            cells[i_city],
            state_text,
            state.name if state else None,
            state.code if state else None,
            cells[i_address],
            cells[i_product],
            cells[i_source],
        ]
        originals: dict[str, str] | None = None
        for position in _TEXT_FIELDS:
            value = fields[position]
            if value is not None and value[0] in FORMULA_TRIGGERS:
                if originals is None:
                    originals = {}
                originals[COLUMNS[position + 2]] = value
                fields[position] = "'" + value
        if extra is not None:
            for name, value in extra.items():
                if value[0] in FORMULA_TRIGGERS:
                    if originals is None:
                        originals = {}
                    originals[f"extra.{name}"] = value
                    extra[name] = "'" + value
        fields.append(_extra_json(extra) if extra is not None else None)
        if reasons:
            fields.append("f")
            fields.append("{" + ",".join(r[0] for r in reasons) + "}")
            fields.append(_to_json([{"code": c, "field": f, "message": m} for c, f, m in reasons]))
        else:
            fields += _VALID
        if originals is not None:
            fields.append("t")
            fields.append(_to_json(originals))
        else:
            fields += _NOT_NEUTRALISED
        line = "\t".join([_NULL if f is None else f for f in fields])
        # Escaping is rarely needed: the only backslashes should be the NULL markers, and the
        # only tabs the separators. Otherwise escape field by field.
        if (
            line.count("\\") != fields.count(None)
            or line.count("\t") != _SEPARATORS
            or "\n" in line
            or "\r" in line
        ):
            line = "\t".join([copy_text(f) for f in fields])
        line = batch_prefix + str(row_no) + "\t" + line

        gstin_key = gstin if gstin is not None and len(gstin) == 15 else None
        name_state_key = None
        if key is not None:
            where = state.code if state is not None else (state_text or "").lower()
            name_state_key = f"{key}|{where}"
        return ValidatedRow(
            row_no,
            line,
            not reasons,
            originals is not None,
            gstin_key,
            name_state_key,
            email_normalised,
        )

    return validate


def _neutral_name(name: str) -> str:
    """A column name as stored in ``extra``: with a leading apostrophe when a spreadsheet
    would run it as a formula."""
    return "'" + name if name[:1] in FORMULA_TRIGGERS else name


def _column_names(columns: ColumnMap) -> dict[int, str]:
    """Cell index -> the name a reason uses: the lead field, else ``extra.<header>``."""
    names = {index: f"extra.{_neutral_name(name)}" for name, index in columns.extra}
    names.update({index: field for field, index in columns.fields.items()})
    return names


def _cut_reasons(
    cut: list[tuple[int, int | None]], names: dict[int, str], max_chars: int
) -> list[Reason]:
    """One ``cell_too_long`` reason per cell the parser cut."""
    reasons: list[Reason] = []
    for index, length in cut:
        was = f"{length} characters" if length is not None else "far longer"
        reasons.append(
            (
                "cell_too_long",
                names.get(index, f"column_{index + 1}"),
                f"cell was {was}; stored cut to its first {max_chars} (PRELEAD_MAX_CELL_CHARS)",
            )
        )
    return reasons


# Stored text columns a spreadsheet could show (everything a person typed), as positions in
# the validator's field list, which starts at ``company_name`` (COLUMNS index 2).
_TEXT_FIELDS: tuple[int, ...] = tuple(
    COLUMNS.index(c) - 2
    for c in (
        "company_name",
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
)
_VALID = ("t", "{}", "[]")
_NULL = "\\N"
_SEPARATORS = len(COLUMNS) - 2 - 2 - 1  # fields between row_no and the duplicate columns, minus 1
_NOT_NEUTRALISED = ("f", None)
_NOT_DUPLICATE = "\t\\N\t\\N\n"


class ValidatedChunk(NamedTuple):
    """Consecutive validated rows, column by column (cheap to pickle between processes)."""

    row_nos: list[int]
    copy_prefixes: list[str]
    gstin_keys: list[str | None]
    name_state_keys: list[str | None]
    email_keys: list[str | None]
    valid: int
    formula_neutralised: int


def validate_chunk(
    validate: Callable[[int, list[str | None]], ValidatedRow],
    rows: Iterable[tuple[int, list[str | None]]],
) -> ValidatedChunk:
    """Validate consecutive rows with ``validate`` (from :func:`make_row_validator`)."""
    chunk = ValidatedChunk([], [], [], [], [], 0, 0)
    valid = neutralised = 0
    for row_no, cells in rows:
        row = validate(row_no, cells)
        chunk.row_nos.append(row_no)
        chunk.copy_prefixes.append(row.copy_prefix)
        chunk.gstin_keys.append(row.gstin_key)
        chunk.name_state_keys.append(row.name_state_key)
        chunk.email_keys.append(row.email_key)
        valid += row.is_valid
        neutralised += row.formula_neutralised
    return chunk._replace(valid=valid, formula_neutralised=neutralised)


class DuplicateIndex:
    """Finds rows that repeat an earlier row of the same batch.

    A row repeats an earlier one when it has the same GSTIN, the same normalised company name
    and state, or the same email address. Chunks must be offered in file order.
    """

    def __init__(self) -> None:
        self._first: dict[str, int] = {}
        self.duplicates = 0

    def copy_text(self, chunk: ValidatedChunk) -> str:
        """The chunk's COPY text: each row's prefix plus ``duplicate_of`` (the first row it
        repeats) and ``duplicate_on`` (which keys matched), NULL for a first occurrence."""
        first = self._first
        lines: list[str] = []
        append = lines.append
        for row_no, prefix, gstin_key, name_state_key, email_key in zip(
            chunk.row_nos,
            chunk.copy_prefixes,
            chunk.gstin_keys,
            chunk.name_state_keys,
            chunk.email_keys,
            strict=True,
        ):
            hit_on: list[str] | None = None
            earliest = row_no
            for kind, tagged in (
                ("gstin", gstin_key and "g" + gstin_key),
                ("name_state", name_state_key and "n" + name_state_key),
                ("email", email_key and "e" + email_key),
            ):
                if not tagged:
                    continue
                seen = first.get(tagged)
                if seen is None:
                    first[tagged] = row_no
                else:
                    if hit_on is None:
                        hit_on = []
                    hit_on.append(kind)
                    earliest = min(earliest, seen)
            if hit_on is None:
                append(prefix + _NOT_DUPLICATE)
            else:
                self.duplicates += 1
                append(f"{prefix}\t{earliest}\t{{{','.join(hit_on)}}}\n")
        return "".join(lines)
