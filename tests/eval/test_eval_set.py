"""Checks on the hand-written evaluation set of customer emails.

The set measures whether models trained on generated mail generalise to mail people write, so
its labels must be internally consistent: these tests hold the file to the label guide in
tests/data/eval/README.md.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from stdnum.in_ import gstin, pan

from ml.taxonomy import INTENT_STREAM, STREAMS

EVAL_FILE = Path(__file__).resolve().parent.parent / "data" / "eval" / "handwritten_emails.jsonl"

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

MIN_EMAILS = 72
MIN_PER_INTENT = 6

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


def load_emails() -> list[dict]:
    """Every record of the evaluation file, in file order."""
    with EVAL_FILE.open(encoding="utf-8") as handle:
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


EMAILS = load_emails()
IDS = [email["id"] for email in EMAILS]


def test_file_has_enough_emails_with_unique_ids() -> None:
    assert len(EMAILS) >= MIN_EMAILS
    assert len(IDS) == len(set(IDS))
    assert all(re.fullmatch(r"hw-\d{3}", email_id) for email_id in IDS)


@pytest.mark.parametrize("email", EMAILS, ids=IDS)
def test_record_shape(email: dict) -> None:
    assert list(email) == ["id", "from", "subject", "body", "stream", "intent", "entities"]
    assert re.fullmatch(r"[^<>]+ <[^<>@\s]+@[^<>@\s]+\.[a-z]{2,}>", email["from"])
    assert email["subject"].strip()
    assert email["body"].strip()
    assert isinstance(email["entities"], list)


@pytest.mark.parametrize("email", EMAILS, ids=IDS)
def test_stream_and_intent_in_taxonomy(email: dict) -> None:
    assert email["stream"] in TAXONOMY
    assert email["intent"] in TAXONOMY[email["stream"]]


def test_every_intent_has_enough_examples() -> None:
    per_intent = Counter(email["intent"] for email in EMAILS)
    all_intents = set().union(*TAXONOMY.values())
    short = {
        intent: per_intent[intent] for intent in all_intents if per_intent[intent] < MIN_PER_INTENT
    }
    assert not short, f"intents with fewer than {MIN_PER_INTENT} examples: {short}"


@pytest.mark.parametrize("email", EMAILS, ids=IDS)
def test_entity_values(email: dict) -> None:
    for entity in email["entities"]:
        label, text, value = entity["label"], entity["text"], entity["value"]
        assert label in LABELS, entity
        assert isinstance(text, str) and text == text.strip() and text, entity
        expected_keys = ["label", "text", "value", "valid"] if label == "GSTIN" else None
        assert list(entity) == (expected_keys or ["label", "text", "value"]), entity
        if label == "GSTIN":
            assert value == text.upper(), entity
            assert entity["valid"] is gstin.is_valid(value), entity
            # State code and embedded PAN shape hold even for a mistyped number.
            assert 1 <= int(value[:2]) <= 38 or value[:2] == "97", entity
        elif label == "PAN":
            assert value == text and pan.is_valid(value), entity
        elif label == "CIN":
            assert value == text and PATTERN_LABELS["CIN"].fullmatch(value), entity
        elif label == "ORDER_NO":
            assert value == text.upper().replace(" ", ""), entity
            assert re.fullmatch(r"SO/\d{2}-\d{2}/\d+", value), entity
        elif label == "INVOICE_NO":
            assert value == text.upper().replace(" ", ""), entity
            assert re.fullmatch(r"INV/\d{2}-\d{2}/\d+", value), entity
        elif label == "PO_NO":
            assert value == text, entity
        elif label == "PRODUCT":
            assert value in CATALOGUE, entity
        else:
            assert isinstance(value, int | float) and not isinstance(value, bool), entity
            assert value > 0, entity


@pytest.mark.parametrize("email", EMAILS, ids=IDS)
def test_entity_texts_occur_verbatim(email: dict) -> None:
    for entity in email["entities"]:
        assert entity["text"] in email["subject"] or entity["text"] in email["body"], entity


@pytest.mark.parametrize("email", EMAILS, ids=IDS)
def test_every_mention_labelled_once(email: dict) -> None:
    """Each labelled text is labelled exactly as often as it stands in labelable text."""
    labelled = Counter(entity["text"] for entity in email["entities"])
    assert unlabelled_mention_counts(email) == dict(labelled)


@pytest.mark.parametrize("email", EMAILS, ids=IDS)
def test_pattern_identifiers_all_labelled(email: dict) -> None:
    """No GSTIN, PAN, CIN, order or invoice number outside quoted history goes unlabelled."""
    by_label: dict[str, set[str]] = {}
    for entity in email["entities"]:
        by_label.setdefault(entity["label"], set()).add(entity["text"])
    for segment in labelable_segments(email):
        for label, pattern in PATTERN_LABELS.items():
            for match in pattern.finditer(segment):
                assert match.group(0) in by_label.get(label, set()), (label, match.group(0))


def test_quoted_history_is_present_and_unlabelled() -> None:
    """The set exercises quoted replies and forwards, and their history carries no labels."""
    quoted = [email for email in EMAILS if "\n> " in email["body"]]
    forwarded = [email for email in EMAILS if FORWARD_MARKERS[0] in email["body"]]
    assert len(quoted) >= 6 and len(forwarded) >= 4
    for email in quoted:
        kept = "\n".join(labelable_segments(email))
        for entity in email["entities"]:
            assert entity["text"] in kept, (email["id"], entity)


def test_label_coverage() -> None:
    """Every label occurs, and mistyped GSTINs are represented."""
    per_label = Counter(entity["label"] for email in EMAILS for entity in email["entities"])
    assert set(per_label) == LABELS
    invalid = [
        entity
        for email in EMAILS
        for entity in email["entities"]
        if entity["label"] == "GSTIN" and not entity["valid"]
    ]
    assert len(invalid) >= 3
