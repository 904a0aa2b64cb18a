"""Measure the CRM master's company resolution against a generated demo world's truth.

The demo world (``demo.world.generate_world``) writes what is true: ``companies.jsonl``
(company ids, GSTINs), ``contacts.jsonl`` (who writes for which company),
``mail/truth.jsonl`` (each message's company) and ``prelead/truth.jsonl`` (each lead row's
company, or the row it duplicates). This module reads what dbt built
(``intermediate.int_crm__source_records``, ``marts.crm_company_sources`` and
``marts.crm_email_links``) and scores it
pairwise: a pair of source records is a true pair when both belong to the same real
company, a predicted pair when both got the same company key. Records with no true company
(tender portals, newsletters, strangers on free mail) pair with nothing, so linking one to
a company costs precision. It reads the world's files only, never imports ``demo``.

Used by ``tests/platform/test_crm_master.py``; ``python -m pebble.crm_eval WORLD URL``
prints the figures for a landed world.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg


@dataclass(frozen=True)
class PairScore:
    """Pairwise precision and recall of a clustering, with the counts behind them."""

    precision: float
    recall: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    records: int
    resolved: int

    def __str__(self) -> str:
        return (
            f"precision {self.precision:.4f} recall {self.recall:.4f} "
            f"({self.correct_pairs} of {self.predicted_pairs} predicted pairs correct, "
            f"{self.true_pairs} true pairs; {self.resolved} of {self.records} records resolved)"
        )


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pair_score(truth: dict[str, str | None], predicted: dict[str, str | None]) -> PairScore:
    """Pairwise precision/recall over the records in ``truth`` (record -> true entity or
    None); ``predicted`` maps records to a cluster key (missing or None: unresolved).
    Counted from cluster sizes, so it stays linear in the number of records."""
    true_sizes: Counter[str] = Counter(t for t in truth.values() if t is not None)
    pred_sizes: Counter[str] = Counter(p for r in truth if (p := predicted.get(r)) is not None)
    both: Counter[tuple[str, str]] = Counter(
        (t, p) for r, t in truth.items() if t is not None and (p := predicted.get(r)) is not None
    )
    true_pairs = sum(_pairs(n) for n in true_sizes.values())
    pred_pairs = sum(_pairs(n) for n in pred_sizes.values())
    correct = sum(_pairs(n) for n in both.values())
    return PairScore(
        precision=correct / pred_pairs if pred_pairs else 1.0,
        recall=correct / true_pairs if true_pairs else 1.0,
        true_pairs=true_pairs,
        predicted_pairs=pred_pairs,
        correct_pairs=correct,
        records=len(truth),
        resolved=sum(1 for r in truth if predicted.get(r) is not None),
    )


def _message_id(value: str) -> str:
    """The warehouse keeps a Message-ID without its angle brackets."""
    return value.strip().strip("<>")


def _jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _world_truth(world: Path) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """GSTIN -> company, normalised name -> company, contact address -> company."""
    by_gstin: dict[str, str] = {}
    by_name: dict[str, str] = {}
    for company in _jsonl(world / "companies.jsonl"):
        by_name[company["name"].strip().lower()] = company["company_id"]
        for registration in company.get("gstins") or []:
            by_gstin[registration["gstin"].upper()] = company["company_id"]
    by_address = {
        c["email"].strip().lower(): c["company_id"]
        for c in _jsonl(world / "contacts.jsonl")
        if c.get("email") and c.get("company_id")
    }
    return by_gstin, by_name, by_address


def _mail_truth(world: Path, message_senders: dict[str, str]) -> dict[str, str]:
    """Sender address -> the company most of its messages truly came from."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for message in _jsonl(world / "mail" / "truth.jsonl"):
        sender = message_senders.get(_message_id(message["message_id"]))
        if sender and message.get("company_id"):
            votes[sender][message["company_id"]] += 1
    return {sender: counts.most_common(1)[0][0] for sender, counts in votes.items()}


def _prelead_truth(world: Path) -> dict[tuple[str, int], str]:
    """(batch file stem, row) -> company id, or a lead's own id (its duplicates share it)."""
    rows = _jsonl(world / "prelead" / "truth.jsonl")
    out: dict[tuple[str, int], str] = {}
    for row in rows:
        stem = Path(row["file"]).stem
        if row.get("company_id"):
            out[(stem, row["row"])] = row["company_id"]
        else:
            original = row.get("duplicate_of_row") or row["row"]
            out[(stem, row["row"])] = f"lead:{stem}:{original}"
    # a duplicate of a row that is an existing company is that company
    for row in rows:
        stem = Path(row["file"]).stem
        dup = row.get("duplicate_of_row")
        if dup and not row.get("company_id") and (stem, dup) in out:
            out[(stem, row["row"])] = out[(stem, dup)]
    return out


def record_truth(world: Path, conn: psycopg.Connection) -> dict[str, str | None]:
    """``system:source_id`` -> true company (None: no real company) for every source
    record dbt saw in ``int_crm__source_records``."""
    by_gstin, by_name, by_address = _world_truth(world)
    senders = dict(
        conn.execute("SELECT message_id, from_address FROM staging.stg_mail__emails").fetchall()
    )
    mail = _mail_truth(world, senders)
    leads = _prelead_truth(world)
    # the truth counts data rows (1, 2, ...); the warehouse keeps the spreadsheet row, after
    # however many title and header rows the sheet has: the n-th landed row is data row n
    data_row: dict[tuple[str, int], int] = {}
    for batch, row_no, n in conn.execute(
        "SELECT batch, row_no, row_number() OVER (PARTITION BY batch ORDER BY row_no)"
        " FROM staging.stg_prelead__rows"
    ).fetchall():
        data_row[(Path(batch).stem, row_no)] = n
    records = conn.execute(
        "SELECT source_system, source_id, name, gstins FROM intermediate.int_crm__source_records"
    ).fetchall()
    truth: dict[str, str | None] = {}
    for system, source_id, name, gstins in records:
        key = f"{system}:{source_id}"
        if system == "tally":
            found = [by_gstin[g] for g in gstins or [] if g in by_gstin]
            base = (name or "").rsplit(" (", 1)[0].strip().lower()
            truth[key] = found[0] if found else by_name.get(base)
        elif system == "focus":
            truth[key] = source_id  # the Focus RT stand-in's customer code is the company id
        elif system == "mail":
            truth[key] = by_address.get(source_id) or mail.get(source_id)
        else:
            batch, _, row_no = source_id.rpartition(":")
            stem = Path(batch).stem
            truth[key] = leads.get((stem, data_row.get((stem, int(row_no)), -1)))
    return truth


def predicted_companies(conn: psycopg.Connection) -> dict[str, str | None]:
    """``system:source_id`` -> company key, from ``marts.crm_company_sources``."""
    rows = conn.execute(
        "SELECT source_system, source_id, company_key FROM marts.crm_company_sources"
    ).fetchall()
    return {f"{system}:{source_id}": key for system, source_id, key in rows}


def measure(
    world: Path, conn: psycopg.Connection, predicted: dict[str, str | None] | None = None
) -> PairScore:
    """The CRM master's pairwise precision and recall against ``world``'s truth; or those
    of ``predicted`` (``system:source_id`` -> cluster key, e.g. a baseline's answer)."""
    if predicted is None:
        predicted = predicted_companies(conn)
    return pair_score(record_truth(world, conn), predicted)


@dataclass(frozen=True)
class LinkScore:
    """Emails linked to a company through their sender: precision and recall."""

    precision: float
    recall: float
    linked: int
    correct: int
    truly_linked: int

    def __str__(self) -> str:
        return (
            f"mail links: precision {self.precision:.4f} recall {self.recall:.4f} "
            f"({self.correct} of {self.linked} links correct; {self.truly_linked} emails "
            "have a true company)"
        )


def _mail_links(
    world: Path, conn: psycopg.Connection, predicted: dict[str, str | None] | None
) -> Iterator[tuple[str, str | None, str | None, str | None]]:
    """(sender, true company, predicted key, the real company that key stands for) for each
    inbound email; a key stands for the real company most of its records truly belong to.

    The model's links are read per email from ``marts.crm_email_links`` (mail a machine
    wrote is not linked there). A baseline's ``predicted`` (``system:source_id`` -> key)
    links each email through its sender, automated mail excluded by the loader's flags."""
    truth = record_truth(world, conn)
    records = predicted_companies(conn) if predicted is None else predicted
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for record, key in records.items():
        if key is not None and truth.get(record) is not None:
            votes[key][truth[record]] += 1  # type: ignore[index]
    real = {key: counts.most_common(1)[0][0] for key, counts in votes.items()}
    links: dict[str, tuple[str, str | None]]
    if predicted is None:
        links = {
            message_id: (sender, key)
            for message_id, sender, key in conn.execute(
                "SELECT message_id, from_address, company_key FROM marts.crm_email_links"
            ).fetchall()
        }
    else:
        links = {
            message_id: (sender, None if automated else predicted.get(f"mail:{sender}"))
            for message_id, sender, automated in conn.execute(
                "SELECT message_id, from_address, is_auto_reply OR is_bounce OR is_bulk"
                " FROM staging.stg_mail__emails WHERE NOT is_outbound"
            ).fetchall()
        }
    for message in _jsonl(world / "mail" / "truth.jsonl"):
        link = links.get(_message_id(message["message_id"]))
        if message.get("direction") != "inbound" or link is None:
            continue
        sender, key = link
        yield sender, message.get("company_id"), key, real.get(key) if key else None


def mail_link_score(
    world: Path, conn: psycopg.Connection, predicted: dict[str, str | None] | None = None
) -> LinkScore:
    """Each inbound email's company from ``marts.crm_email_links`` (or its sender's in
    ``predicted``): how many links are right, how many true links were made."""
    linked = correct = truly = 0
    for _sender, true, key, real in _mail_links(world, conn, predicted):
        truly += true is not None
        if key is not None:
            linked += 1
            correct += real == true
    return LinkScore(
        precision=correct / linked if linked else 1.0,
        recall=correct / truly if truly else 1.0,
        linked=linked,
        correct=correct,
        truly_linked=truly,
    )


def mail_link_misses(world: Path, conn: psycopg.Connection, limit: int = 50) -> list[str]:
    """Senders whose mail was linked wrongly or, having a true company, not at all: one
    line each with the message count, for reading why (never for tuning on)."""
    misses: Counter[tuple[str, str | None, str | None, str | None]] = Counter()
    for sender, true, key, real in _mail_links(world, conn, None):
        if (key is not None and real != true) or (key is None and true is not None):
            misses[(sender, true, key, real)] += 1
    return [
        f"{n:3d} {'wrong' if key else 'unlinked'}: {sender} is {true}, got {key} ({real})"
        for (sender, true, key, real), n in misses.most_common(limit)
    ]


def wrong_pairs(world: Path, conn: psycopg.Connection, limit: int = 20) -> list[str]:
    """Human-readable disagreements (for a failing assertion's message)."""
    truth = record_truth(world, conn)
    predicted = predicted_companies(conn)
    by_pred: dict[str, set[str | None]] = defaultdict(set)
    by_true: dict[str, set[str | None]] = defaultdict(set)
    for record, true in truth.items():
        pred = predicted.get(record)
        if pred is not None:
            by_pred[pred].add(true)
        if true is not None:
            by_true[true].add(pred)
    out = [f"merged: {k} holds {sorted(map(str, v))}" for k, v in by_pred.items() if len(v) > 1]
    out += [f"split: {k} is in {sorted(map(str, v))}" for k, v in by_true.items() if len(v) > 1]
    return out[:limit]


def main(argv: list[str]) -> int:
    """``python -m pebble.crm_eval WORLD DATABASE_URL``: print the figures."""
    world, url = Path(argv[0]), argv[1]
    with psycopg.connect(url) as conn:
        print(measure(world, conn))
        print(mail_link_score(world, conn))
        for line in wrong_pairs(world, conn):
            print(" ", line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
