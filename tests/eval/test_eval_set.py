"""Checks on the hand-written evaluation sets of customer emails.

The sets measure whether models trained on generated mail generalise to mail people write, so
their labels must be internally consistent: one test per set holds the file to the label guide
in tests/data/eval/README.md and lists every problem it finds at once (not one test id per
email). Both files are pinned by SHA-256: v1 is frozen for good (it leaked into the product's
alias list and bench settings, so it no longer measures generalisation); v2 is pinned so that
any edit is deliberate and shows up in review.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from stdnum.in_ import gstin, pan

from ml.taxonomy import INTENT_STREAM, STREAMS

EVAL_DIR = Path(__file__).resolve().parent.parent / "data" / "eval"


@dataclass(frozen=True)
class EvalSet:
    """One hand-written set: its file, id scheme, minimum size and pinned digest."""

    path: Path
    id_pattern: str
    min_emails: int
    min_per_intent: int
    min_quoted: int
    min_forwarded: int
    sha256: str


SETS: dict[str, EvalSet] = {
    "v1": EvalSet(
        path=EVAL_DIR / "handwritten_v1.jsonl",
        id_pattern=r"hw-\d{3}",
        min_emails=72,
        min_per_intent=6,
        min_quoted=6,
        min_forwarded=4,
        sha256="ef6acd5fe879271e4aad45f1180ae01f177335d4c463517910c7448d4a773fb9",
    ),
    "v2": EvalSet(
        path=EVAL_DIR / "handwritten_v2.jsonl",
        id_pattern=r"hw2-\d{3}",
        min_emails=100,
        min_per_intent=8,
        min_quoted=6,
        min_forwarded=4,
        sha256="62b4f0fce1c225f0303eb9e52beca90d81183c39f47b426bba1b78ade324e1fe",
    ),
}

#: stream -> its intents, from the one source of the labels.
TAXONOMY: dict[str, set[str]] = {
    stream: {i for i, s in INTENT_STREAM.items() if s == stream} for stream in STREAMS
}

CATALOGUE = {
    "Zinc Oxide",
    "Titanium Dioxide Rutile",
    "Titanium Dioxide Anatase",
    "Caustic Soda Flakes",
    "Caustic Soda Lye 48%",
    "Soda Ash Light",
    "Soda Ash Dense",
    "Sodium Bicarbonate",
    "Citric Acid Monohydrate",
    "Citric Acid Anhydrous",
    "Stearic Acid",
    "Zinc Stearate",
    "Calcium Carbonate Precipitated",
    "Precipitated Silica",
    "Carbon Black N330",
    "Hydrogen Peroxide 50%",
    "Sulphuric Acid 98%",
    "Hydrochloric Acid 33%",
    "Isopropyl Alcohol",
    "Acetone",
    "Toluene",
    "Methanol",
    "Mono Ethylene Glycol",
    "Glycerine 99.5%",
    "PVC Resin K67",
    "Sodium Lauryl Ether Sulphate 70%",
    "Linear Alkyl Benzene Sulphonic Acid",
    "Sodium Sulphate Anhydrous",
    "Magnesium Oxide",
    "Aluminium Hydroxide",
    "Sodium Hexametaphosphate",
    "Borax Decahydrate",
    "Boric Acid",
    "Potassium Hydroxide Flakes",
    "Sodium Metabisulphite",
    "Formic Acid 85%",
    "Acetic Acid Glacial",
    "Phosphoric Acid 85%",
    "Sodium Silicate",
}

LABELS = {
    "GSTIN",
    "PAN",
    "CIN",
    "ORDER_NO",
    "INVOICE_NO",
    "PO_NO",
    "PRODUCT",
    "QUANTITY",
    "PRICE",
}
RECORD_KEYS = ["id", "from", "subject", "body", "stream", "intent", "entities"]
SENDER = re.compile(r"[^<>]+ <[^<>@\s]+@[^<>@\s]+\.[a-z]{2,}>")

# Identifiers a pattern finds reliably: every match in labelable text must carry a label.
PATTERN_LABELS: dict[str, re.Pattern[str]] = {
    "GSTIN": re.compile(
        r"(?<![0-9A-Za-z])\d{2}[A-Za-z]{5}\d{4}[A-Za-z][0-9A-Za-z]{3}(?![0-9A-Za-z])"
    ),
    "PAN": re.compile(r"(?<![0-9A-Za-z])[A-Z]{5}\d{4}[A-Z](?![0-9A-Za-z])"),
    "CIN": re.compile(r"(?<![0-9A-Za-z])[LU]\d{5}[A-Z]{2}\d{4}[A-Z]{3}\d{6}(?![0-9A-Za-z])"),
    "ORDER_NO": re.compile(r"(?<![0-9A-Za-z])SO\s*/\s*\d{2}-\d{2}\s*/\s*\d+", re.IGNORECASE),
    "INVOICE_NO": re.compile(r"(?<![0-9A-Za-z])INV\s*/\s*\d{2}-\d{2}\s*/\s*\d+", re.IGNORECASE),
}

FORWARD_MARKERS = ("---------- Forwarded message ---------", "-----Original Message-----")
FORWARD_HEADER = re.compile(r"^(From|Date|Sent|Subject|To|Cc):")


def load_emails(path: Path) -> list[dict]:
    """Every record of an evaluation file, in file order."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def labelable_segments(email: dict) -> list[str]:
    """Subject and body lines an annotator labels: no '>' history, no forwarded headers."""
    segments = [email["subject"]]
    in_forward_header = False
    for line in email["body"].split("\n"):
        if any(marker in line for marker in FORWARD_MARKERS):
            in_forward_header = True
            continue
        if in_forward_header:
            if FORWARD_HEADER.match(line):
                continue
            in_forward_header = False
        if line.lstrip().startswith(">"):
            continue
        segments.append(line)
    return segments


def mention_spans(segment: str, text: str) -> list[tuple[int, int]]:
    """Where text occurs in segment as a whole token sequence (not inside a longer word)."""
    pattern = re.compile(r"(?<![0-9A-Za-z])" + re.escape(text) + r"(?![0-9A-Za-z])")
    return [match.span() for match in pattern.finditer(segment)]


def unlabelled_mention_counts(email: dict) -> dict[str, int]:
    """For each labelled text, how many stand-alone mentions the labelable text holds.

    A mention lying inside a mention of a longer labelled text ("soda ash" inside "soda ash
    dense") belongs to the longer one and is not counted.
    """
    texts = {entity["text"] for entity in email["entities"]}
    counts: dict[str, int] = dict.fromkeys(texts, 0)
    for segment in labelable_segments(email):
        spans = {text: mention_spans(segment, text) for text in texts}
        for text, own in spans.items():
            for start, end in own:
                covered = any(
                    other != text
                    and len(other) > len(text)
                    and any(o_start <= start and end <= o_end for o_start, o_end in other_spans)
                    for other, other_spans in spans.items()
                )
                if not covered:
                    counts[text] += 1
    return counts


def record_shape_problems(email: dict) -> list[str]:
    """Key order, sender address, non-empty subject/body, entity list, taxonomy labels."""
    found = []
    if list(email) != RECORD_KEYS:
        found.append(f"keys {list(email)} != {RECORD_KEYS}")
    if not SENDER.fullmatch(str(email.get("from", ""))):
        found.append(f"sender {email.get('from')!r} is not 'Name <addr@domain>'")
    for key in ("subject", "body"):
        if not str(email.get(key, "")).strip():
            found.append(f"empty {key}")
    if not isinstance(email.get("entities"), list):
        found.append("entities is not a list")
    stream, intent = email.get("stream"), email.get("intent")
    if stream not in TAXONOMY or intent not in TAXONOMY[stream]:
        found.append(f"({stream!r}, {intent!r}) is not a stream/intent pair of ml.taxonomy")
    return found


def entity_value_problems(entity: dict) -> list[str]:
    """An entity's keys, text and value against the label guide."""
    label, text, value = entity.get("label"), entity.get("text"), entity.get("value")
    if label not in LABELS:
        return [f"unknown label in {entity}"]
    found = []
    if not isinstance(text, str) or not text or text != text.strip():
        found.append(f"text must be a trimmed non-empty string: {entity}")
        return found
    expected_keys = ["label", "text", "value", "valid"] if label == "GSTIN" else None
    if list(entity) != (expected_keys or ["label", "text", "value"]):
        found.append(f"entity keys: {entity}")
    ok = True
    if label == "GSTIN":
        # State code and embedded PAN shape hold even for a mistyped number.
        ok = (
            value == text.upper()
            and entity.get("valid") is gstin.is_valid(value)
            and (1 <= int(value[:2]) <= 38 or value[:2] == "97")
        )
    elif label == "PAN":
        ok = value == text and pan.is_valid(value)
    elif label == "CIN":
        ok = value == text and bool(PATTERN_LABELS["CIN"].fullmatch(value))
    elif label in ("ORDER_NO", "INVOICE_NO"):
        prefix = "SO" if label == "ORDER_NO" else "INV"
        ok = value == text.upper().replace(" ", "") and bool(
            re.fullmatch(prefix + r"/\d{2}-\d{2}/\d+", value)
        )
    elif label == "PO_NO":
        ok = value == text
    elif label == "PRODUCT":
        ok = value in CATALOGUE
    else:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
    if not ok:
        found.append(f"value does not follow the guide: {entity}")
    return found


def mention_problems(email: dict) -> list[str]:
    """Texts occur verbatim, each mention is labelled exactly once, and no identifier a
    pattern finds in labelable text goes unlabelled."""
    found = []
    for entity in email["entities"]:
        if entity.get("text", "") not in email["subject"] + "\n" + email["body"]:
            found.append(f"text not in subject or body: {entity}")
    labelled = dict(Counter(entity["text"] for entity in email["entities"]))
    standing = unlabelled_mention_counts(email)
    for text in sorted(labelled):
        if standing.get(text) != labelled[text]:
            found.append(
                f"{text!r} labelled {labelled[text]}x but stands {standing.get(text)}x "
                "in labelable text"
            )
    by_label: dict[str, set[str]] = {}
    for entity in email["entities"]:
        by_label.setdefault(entity["label"], set()).add(entity["text"])
    for segment in labelable_segments(email):
        for label, pattern in PATTERN_LABELS.items():
            for match in pattern.finditer(segment):
                if match.group(0) not in by_label.get(label, set()):
                    found.append(f"unlabelled {label} {match.group(0)!r}")
    return found


def email_problems(email: dict) -> list[str]:
    """Every problem of one record, each prefixed with its id."""
    found = record_shape_problems(email)
    if isinstance(email.get("entities"), list):
        for entity in email["entities"]:
            found.extend(entity_value_problems(entity))
        if not found:
            found.extend(mention_problems(email))
    return [f"{email.get('id', '?')}: {problem}" for problem in found]


def set_problems(emails: list[dict], spec: EvalSet) -> list[str]:
    """Every problem of a whole set: its records, size, balance, coverage and history."""
    found: list[str] = []
    ids = [str(email.get("id")) for email in emails]
    if len(emails) < spec.min_emails:
        found.append(f"{len(emails)} emails, fewer than {spec.min_emails}")
    found.extend(f"duplicate id {i}" for i, n in Counter(ids).items() if n > 1)
    found.extend(
        f"id {i!r} does not match {spec.id_pattern}"
        for i in ids
        if not re.fullmatch(spec.id_pattern, i)
    )
    per_intent = Counter(email.get("intent") for email in emails)
    found.extend(
        f"intent {intent} has {per_intent[intent]} emails, fewer than {spec.min_per_intent}"
        for intent in INTENT_STREAM
        if per_intent[intent] < spec.min_per_intent
    )
    for email in emails:
        found.extend(email_problems(email))
    entities = [e for email in emails for e in email.get("entities") or []]
    missing = LABELS - {e.get("label") for e in entities}
    if missing:
        found.append(f"labels never used: {sorted(missing)}")
    invalid = [e for e in entities if e.get("label") == "GSTIN" and e.get("valid") is False]
    if len(invalid) < 1:
        found.append("no deliberately mistyped GSTIN")
    quoted = [email for email in emails if "\n> " in email.get("body", "")]
    forwarded = [email for email in emails if FORWARD_MARKERS[0] in email.get("body", "")]
    if len(quoted) < spec.min_quoted or len(forwarded) < spec.min_forwarded:
        found.append(
            f"{len(quoted)} quoted replies and {len(forwarded)} forwards; the guide asks for "
            f"at least {spec.min_quoted} and {spec.min_forwarded}"
        )
    return found


@pytest.mark.parametrize("name", sorted(SETS))
def test_eval_set_follows_the_label_guide(name: str) -> None:
    """One test per set; on failure it lists every problem of every email at once."""
    spec = SETS[name]
    problems = set_problems(load_emails(spec.path), spec)
    assert not problems, f"{spec.path.name}: {len(problems)} problems\n" + "\n".join(problems)


@pytest.mark.parametrize("name", sorted(SETS))
def test_eval_set_is_pinned(name: str) -> None:
    """An edit to a pinned set fails here: v1 is frozen; v2 changes only on purpose, with a new
    pin, a note in tests/data/eval/README.md and a re-measurement."""
    spec = SETS[name]
    digest = hashlib.sha256(spec.path.read_bytes()).hexdigest()
    assert digest == spec.sha256, f"{spec.path.name} changed: sha256 {digest}"


def test_sets_share_no_email() -> None:
    """The fresh set is new mail: no v1 body, nor the opening of one, reappears in v2.
    (One-word subjects such as "order" naturally recur and are not compared.)"""
    v1, v2 = (load_emails(SETS[name].path) for name in ("v1", "v2"))
    overlap = {e["body"][:120] for e in v1} & {e["body"][:120] for e in v2}
    assert not overlap


def test_checker_lists_every_problem_of_a_broken_set() -> None:
    """A set with several faults in several emails is reported in full, not first-fault."""
    spec = SETS["v2"]
    emails = load_emails(spec.path)
    broken = [dict(email) for email in emails[:3]]
    broken[0]["intent"] = "no_such_intent"
    broken[1]["entities"] = [*broken[1]["entities"], dict(broken[1]["entities"][0])]
    broken[2]["entities"] = [
        {**e, "value": "Unobtainium"} if e["label"] == "PRODUCT" else e
        for e in broken[2]["entities"]
    ]
    problems = set_problems(broken + emails[3:], spec)
    assert any(p.startswith(f"{broken[0]['id']}: ") and "taxonomy" in p for p in problems)
    assert any(p.startswith(f"{broken[1]['id']}: ") and "stands" in p for p in problems)
    assert any(p.startswith(f"{broken[2]['id']}: ") and "Unobtainium" in p for p in problems)
