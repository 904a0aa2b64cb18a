"""Field-level precision, recall and F1 of the NIT reader, separately for text and scanned PDFs.

Scoring units: every scalar field (`tender_no`, amounts, dates, `emd_form`, ...), the parts
of the compound fields (`pre_bid_meeting.at`/`.venue`, `eligibility.turnover_inr`/
`.experience_years`, one unit per registration, `contact.name`/`.email`/`.phone`) and one unit
per tender item. A unit is a true positive when the normalised predicted value equals the
truth, a false positive when predicted but wrong or not in the truth, a false negative when
in the truth but missing or wrong. Items match on quantity + unit and a description that is
the same after normalisation (or one contains the other, or 85% similar).

Two sources of truth: the hand-typed fixtures (tests/data/nit/truth.json, measured only) and
a generated world's metadata (the development set: `world_notices`).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from difflib import SequenceMatcher
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

KINDS = ("text", "scanned")
_HONORIFIC = re.compile(r"^(?:(?:shri|smt|sri|mr|mrs|ms|dr|kum)\.?\s*/?\s*)+", re.IGNORECASE)


def _text(v: Any) -> str:
    return re.sub(r"[^a-z0-9%]+", " ", str(v).lower()).strip()


def _name(v: Any) -> str:
    return re.sub(r"[^a-z]", "", _HONORIFIC.sub("", str(v).strip()).lower())


def _phone(v: Any) -> str:
    return re.sub(r"\D", "", str(v))[-10:]


def _same(kind: str, truth: Any, pred: Any) -> bool:
    if isinstance(truth, dict) and "any_of" in truth:
        return any(_same(kind, t, pred) for t in truth["any_of"])
    if kind == "amount":
        try:
            return abs(float(truth) - float(pred)) <= 0.5
        except (TypeError, ValueError):
            return False
    if kind == "int":
        return truth == pred
    if kind == "id":
        return re.sub(r"\s+", "", str(truth)).upper() == re.sub(r"\s+", "", str(pred)).upper()
    if kind == "name":
        return _name(truth) == _name(pred)
    if kind == "phone":
        return _phone(truth) == _phone(pred)
    if kind == "email":
        return str(truth).strip().lower() == str(pred).strip().lower()
    if kind == "exact":
        return truth == pred
    return _text(truth) == _text(pred)


def _units(fields: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """Flatten a field dict into scoring units: name -> (comparison kind, value)."""
    out: dict[str, tuple[str, Any]] = {}
    simple = {
        "tender_no": "id",
        "organisation": "text",
        "estimated_value_inr": "amount",
        "emd_amount_inr": "amount",
        "emd_form": "exact",
        "tender_fee_inr": "amount",
        "bid_start": "exact",
        "bid_end": "exact",
        "bid_opening": "exact",
    }
    for name, kind in simple.items():
        if fields.get(name) is not None:
            out[name] = (kind, fields[name])
    pb = fields.get("pre_bid_meeting")
    if isinstance(pb, str):
        pb = {"at": pb, "venue": None}
    if isinstance(pb, dict):
        for part, kind in (("at", "exact"), ("venue", "text")):
            if pb.get(part) is not None:
                out[f"pre_bid_meeting.{part}"] = (kind, pb[part])
    el = fields.get("eligibility")
    if isinstance(el, dict):
        for part, kind in (("turnover_inr", "amount"), ("experience_years", "int")):
            if el.get(part) is not None:
                out[f"eligibility.{part}"] = (kind, el[part])
        for reg in el.get("registrations") or ():
            out[f"eligibility.registrations.{reg}"] = ("exact", reg)
    ct = fields.get("contact")
    if isinstance(ct, dict):
        for part in ("name", "email", "phone"):
            if ct.get(part):
                out[f"contact.{part}"] = (part, ct[part])
    return out


def _item_match(t: dict[str, Any], p: dict[str, Any]) -> bool:
    try:
        if abs(float(t["quantity"]) - float(p["quantity"])) > 1e-6 or t["unit"] != p["unit"]:
            return False
    except (KeyError, TypeError, ValueError):
        return False
    a, b = _text(t.get("description", "")), _text(p.get("description", ""))
    return (
        a == b
        or (len(a) >= 4 and (a in b or b in a))
        or SequenceMatcher(None, a, b).ratio() >= 0.85
    )


class Tally:
    """True/false positives and false negatives per scoring unit family."""

    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])

    def add(self, family: str, tp: int = 0, fp: int = 0, fn: int = 0) -> None:
        c = self.counts[family]
        c[0] += tp
        c[1] += fp
        c[2] += fn

    def score(self, truth: dict[str, Any], pred: dict[str, Any]) -> list[str]:
        """Score one notice; returns readable mistakes."""
        mistakes = []
        tu, pu = _units(truth), _units(pred)
        for unit in sorted(set(tu) | set(pu)):
            family = unit.split(".registrations.")[0]
            family = "eligibility.registrations" if ".registrations." in unit else family
            if unit in tu and unit in pu:
                if _same(tu[unit][0], tu[unit][1], pu[unit][1]):
                    self.add(family, tp=1)
                else:
                    self.add(family, fp=1, fn=1)
                    mistakes.append(f"{unit}: want {tu[unit][1]!r} got {pu[unit][1]!r}")
            elif unit in tu:
                self.add(family, fn=1)
                mistakes.append(f"{unit}: missing {tu[unit][1]!r}")
            else:
                self.add(family, fp=1)
                mistakes.append(f"{unit}: unexpected {pu[unit][1]!r}")
        want = list(truth.get("items") or [])
        got = list(pred.get("items") or [])
        for t in want:
            hit = next((p for p in got if _item_match(t, p)), None)
            if hit is not None:
                got.remove(hit)
                self.add("items", tp=1)
            else:
                self.add("items", fn=1)
                mistakes.append(f"item missing {t['description']!r} {t['quantity']} {t['unit']}")
        for p in got:
            self.add("items", fp=1)
            mistakes.append(f"item unexpected {p}")
        return mistakes

    def summary(self) -> dict[str, Any]:
        tp = sum(c[0] for c in self.counts.values())
        fp = sum(c[1] for c in self.counts.values())
        fn = sum(c[2] for c in self.counts.values())
        return {
            **_prf(tp, fp, fn),
            "by_field": {k: _prf(*v) for k, v in sorted(self.counts.items())},
        }


def _prf(tp: int, fp: int, fn: int) -> dict[str, Any]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(f, 4),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def evaluate(
    notices: Iterable[tuple[str, str, dict[str, Any], dict[str, Any]]],
) -> dict[str, Any]:
    """Scores `(name, kind, truth_fields, predicted_fields)` notices; a report per kind."""
    tallies = {k: Tally() for k in KINDS}
    mistakes: dict[str, list[str]] = {}
    counts = dict.fromkeys(KINDS, 0)
    for name, kind, truth, pred in notices:
        counts[kind] += 1
        found = tallies[kind].score(truth, pred)
        if found:
            mistakes[name] = found
    return {kind: {"notices": counts[kind], **tallies[kind].summary()} for kind in KINDS} | {
        "mistakes": mistakes
    }


# --- the two sets -----------------------------------------------------------------------------

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "data" / "nit"


def fixture_truth(folder: Path = FIXTURES) -> dict[str, dict[str, Any]]:
    """The hand-typed truth: file name -> {"kind", "layout", "fields"}."""
    return json.loads((folder / "truth.json").read_text(encoding="utf-8"))["notices"]


def catalogue_names(folder: Path = FIXTURES) -> list[str]:
    """The stock master the fixture NITs are read against (``products.json`` beside them)."""
    return json.loads((folder / "products.json").read_text(encoding="utf-8"))["products"]


def evaluate_fixtures(
    folder: Path = FIXTURES,
    names: Sequence[str] | None = None,
    products: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Read the fixture PDFs (all, or `names`) and score them against the hand-typed truth."""
    from ml.tender.reading import read_notice

    products = catalogue_names(folder) if products is None else products
    truth = fixture_truth(folder)
    rows = []
    for name in names or sorted(truth):
        reading = read_notice((folder / name).read_bytes(), products=products)
        pred = {k: v.value for k, v in reading.fields.items()}
        rows.append((name, truth[name]["kind"], truth[name]["fields"], pred))
    return evaluate(rows)


def world_notices(world: Path) -> Iterator[tuple[str, str, bytes, dict[str, Any]]]:
    """Development set: `(message_id, kind, pdf bytes, truth fields)` for every tender mail of
    a generated world that carries a NIT, the truth coming from the generator's metadata."""
    lines = (Path(world) / "mail" / "truth.jsonl").read_text(encoding="utf-8").splitlines()
    for row in (json.loads(line) for line in lines if line.strip()):
        nit = row.get("nit")
        if not nit:
            continue
        msg = message_from_bytes((Path(world) / row["file"]).read_bytes(), policy=default_policy)
        for part in msg.iter_attachments():
            if part.get_filename() == nit["filename"]:
                yield row["message_id"], nit["kind"], part.get_content(), nit["fields"]
