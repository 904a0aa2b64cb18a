"""The two-level label set: which mailbox stream an email belongs to, and what it asks for.

This module is the one source of the labels. dbt reads them from the seed
`dbt/seeds/taxonomy_labels.csv` (one row per intent with its stream), which this module
writes and checks:

    python -m ml.taxonomy --write-seed     # after changing the labels
    python -m ml.taxonomy --check-seed     # exit 1 when the seed is out of date
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

#: Every intent and the stream it belongs to. Order is the model's class order.
INTENT_STREAM: dict[str, str] = {
    "price_enquiry": "crm",
    "sample_request": "crm",
    "new_business": "crm",
    "purchase_order": "erp",
    "order_status": "erp",
    "invoice_payment": "erp",
    "coa_request": "erp",
    "quality_complaint": "erp",
    "tender_notice": "tender",
    "newsletter_spam": "other",
    "auto_reply": "other",
}
INTENTS: tuple[str, ...] = tuple(INTENT_STREAM)
STREAMS: tuple[str, ...] = ("crm", "erp", "tender", "other")
#: The stream of mail that asks nothing of the business (newsletters, auto-replies).
OTHER = "other"
#: The dbt seed generated from this module.
SEED_PATH = Path(__file__).resolve().parent.parent / "dbt" / "seeds" / "taxonomy_labels.csv"
SEED_COLUMNS: tuple[str, ...] = ("intent", "stream")

if set(INTENT_STREAM.values()) != set(STREAMS):
    raise RuntimeError("every stream needs at least one intent, and every intent a stream")


def stream_of(intent: str) -> str:
    """The stream an intent belongs to; raises ValueError for an unknown intent."""
    try:
        return INTENT_STREAM[intent]
    except KeyError:
        raise ValueError(
            f"unknown intent {intent!r}; expected one of {', '.join(INTENTS)}"
        ) from None


def check_label(stream: str, intent: str) -> None:
    """Raise ValueError unless (stream, intent) is a valid, consistent pair."""
    if stream not in STREAMS:
        raise ValueError(f"unknown stream {stream!r}; expected one of {', '.join(STREAMS)}")
    if stream_of(intent) != stream:
        raise ValueError(
            f"intent {intent!r} belongs to stream {stream_of(intent)!r}, not {stream!r}"
        )


def seed_csv() -> str:
    """The seed's text: a header, then one `intent,stream` row per intent in class order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SEED_COLUMNS)
    for intent in INTENTS:
        writer.writerow((intent, INTENT_STREAM[intent]))
    return out.getvalue()


def write_seed(path: Path = SEED_PATH) -> Path:
    """Write the seed (creating its folder); returns its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(seed_csv(), encoding="utf-8")
    return path


def seed_is_current(path: Path = SEED_PATH) -> bool:
    """True when the seed at `path` holds exactly the labels of this module."""
    return path.is_file() and path.read_text(encoding="utf-8") == seed_csv()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ml.taxonomy", description="The dbt seed of the label set."
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write-seed", action="store_true", help="write the seed")
    action.add_argument("--check-seed", action="store_true", help="exit 1 if it is stale")
    parser.add_argument("--path", type=Path, default=SEED_PATH, help=f"default: {SEED_PATH}")
    args = parser.parse_args(argv)
    if args.write_seed:
        print(f"wrote {write_seed(args.path)}")
        return 0
    if seed_is_current(args.path):
        print(f"{args.path} is current")
        return 0
    print(
        f"{args.path} does not match ml.taxonomy; run: python -m ml.taxonomy --write-seed",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
