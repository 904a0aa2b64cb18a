"""The measured side of ``bench/report.py``: one path of one stage, run in a process of its own.

    .venv/bin/python bench/stages.py STAGE PATH --data DIR --out FILE [--limit N] [--url URL]

STAGE is mail, prelead, tally or events; PATH is ``ours`` or ``naive``. The harness prepares
the input (``prepare``) and the scratch database (``setup_sql``) beforehand, so this process
does nothing but the work measured: its peak memory is the path's own. It writes
``{"n": records done, "seconds": wall time, "cpu_s": its own CPU time}`` to ``--out``.

Ours is the shipped code path; naive is what one would write without it:

- **mail**: ours ``ingest.mail.land.land_paths`` over the Maildirs, as ``pebble mail load``
  (parser pool of one process per core, COPY in batches). Naive: ``email.message_from_bytes``
  per file, headers decoded with ``email.header``, the first text/plain part as the body, and
  one autocommit ``INSERT`` per message into a copy of ``raw.emails``.
- **prelead**: ours ``ingest.prelead.land.load_file`` (validation workers, one COPY). Naive:
  the same reader and row validator in one process, one autocommit ``INSERT`` per row (no
  duplicate detection: it does less work than ours).
- **tally**: ours the streaming ``ingest.tally.parse.read_file_records``. Naive: the whole
  file decoded, Tally's invalid character references (``&#4;``) removed, ``xmltodict.parse``
  of the document, then every voucher walked.
- **events**: ours ``pebble.events.append`` (version check in the insert), naive ``SELECT
  max(version)`` then ``INSERT`` (both from ``bench/bench_events.py``), one writer, on an
  empty ``ops.events``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: Records of each stage at demo scale 1, and what one record is.
UNIT = {
    "mail": (3_000, "emails"),  # demo scale 1: ~3,000 mails
    "prelead": (10_000, "lead rows"),
    "tally": (10, "MB of UTF-16 Day Book"),  # n reported in vouchers (~360 per MB)
    "events": (1_000, "appends"),
}
#: Largest input the naive path is run on; above it, it runs on the first records only.
NAIVE_CAP = {"mail": 30_000, "prelead": 20_000, "tally": 100, "events": 20_000}
EVENT_TYPE_COUNT = 10  # appends per entity
URL_ENV = "PEBBLE_BENCH_STAGE_URL"

NAIVE_EMAILS = "CREATE TABLE raw.bench_naive_emails (LIKE raw.emails INCLUDING ALL)"


# --- preparing the input (in the harness, not measured) ------------------------------------


def size_at(stage: str, scale: float) -> int:
    return max(1, round(UNIT[stage][0] * scale))


def prepare(stage: str, scale: float, data: Path) -> dict[str, object]:
    """Write the input of ``stage`` at ``scale`` under ``data``; returns its facts."""
    data.mkdir(parents=True, exist_ok=True)
    size = size_at(stage, scale)
    naive = min(size, NAIVE_CAP[stage])
    if stage == "mail":
        from bench_mail import synthesise

        raw = synthesise(data / "maildir", size, seed=7)
        return {"n": size, "naive_limit": naive, "input_mb": round(raw / 1e6, 1)}
    if stage == "prelead":
        from bench_prelead import write_leads_csv

        write_leads_csv(data / "leads.csv", size)
        return {
            "n": size,
            "naive_limit": naive,
            "input_mb": round((data / "leads.csv").stat().st_size / 1e6, 1),
        }
    if stage == "tally":
        from bench_tally import synthesise

        vouchers = synthesise(data / "daybook.xml", size)
        facts: dict[str, object] = {
            "n": vouchers,
            "input_mb": round((data / "daybook.xml").stat().st_size / 1e6, 1),
        }
        if naive < size:  # the naive parse gets a smaller export of its own
            facts["naive_n"] = synthesise(data / "daybook_naive.xml", naive)
        return facts
    if stage == "events":
        return {"n": size, "naive_limit": naive}
    raise ValueError(f"unknown stage {stage!r}")


def setup_sql(stage: str) -> list[str]:
    """Statements run on the fresh scratch database after the migrations."""
    if stage == "mail":
        return [NAIVE_EMAILS]
    if stage == "events":
        from bench_events import NAIVE_TABLE

        return [NAIVE_TABLE]
    return []


# --- the measured paths (in the child) -------------------------------------------------------


def mail_ours(url: str, data: Path, limit: int | None) -> int:
    import psycopg

    from ingest.mail.land import land_paths

    with psycopg.connect(url, autocommit=True) as conn:
        report = land_paths(conn, [data / "maildir"], workers=os.cpu_count() or 2)
        if report.landed + report.duplicates == 0:
            raise RuntimeError(f"nothing landed: {report}")
        return conn.execute("SELECT count(*) FROM raw.emails").fetchone()[0]


NAIVE_EMAIL_INSERT = """
INSERT INTO raw.bench_naive_emails (email_key, message_id, mailbox, source_kind, source,
    subject, from_addr, from_name, to_addrs, sent_at, in_reply_to, "references", thread_key,
    subject_key, body_text, has_html, attachment_count, size_bytes)
VALUES (%s, %s, %s, 'maildir', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""


def mail_naive(url: str, data: Path, limit: int | None) -> int:
    import email
    import hashlib
    import re
    from email.header import decode_header, make_header
    from email.utils import getaddresses, parseaddr, parsedate_to_datetime

    import psycopg

    files = sorted(p for p in (data / "maildir").glob("*/cur/*") if p.is_file())
    files = files[:limit] if limit else files
    with psycopg.connect(url, autocommit=True) as conn:
        for path in files:
            raw = path.read_bytes()
            msg = email.message_from_bytes(raw)
            subject = str(make_header(decode_header(msg.get("Subject", ""))))
            name, address = parseaddr(msg.get("From", ""))
            to = [a for _, a in getaddresses(msg.get_all("To", []))]
            sent = parsedate_to_datetime(msg["Date"]) if msg["Date"] else None
            body, has_html, attachments = "", False, 0
            for part in msg.walk():
                if part.is_multipart():
                    continue
                if part.get_filename():
                    attachments += 1
                elif part.get_content_type() == "text/plain" and not body:
                    payload = part.get_payload(decode=True) or b""
                    body = payload.decode(part.get_content_charset() or "utf-8", "replace")
                elif part.get_content_type() == "text/html":
                    has_html = True
            references = (msg.get("References") or "").split()
            message_id = (msg.get("Message-ID") or "").strip() or None
            key = hashlib.sha256(raw).hexdigest()
            conn.execute(
                NAIVE_EMAIL_INSERT,
                (
                    key,
                    message_id,
                    path.parent.parent.name,
                    str(path),
                    subject,
                    address.lower(),
                    name,
                    to,
                    sent,
                    msg.get("In-Reply-To"),
                    references,
                    references[0] if references else message_id or key,
                    re.sub(r"^((re|fwd?):\s*)+", "", subject.lower()).strip(),
                    body,
                    has_html,
                    attachments,
                    len(raw),
                ),
            )
        return conn.execute("SELECT count(*) FROM raw.bench_naive_emails").fetchone()[0]


def prelead_ours(url: str, data: Path, limit: int | None) -> int:
    import psycopg

    from ingest.prelead.land import load_file

    with psycopg.connect(url, autocommit=True) as conn:
        return load_file(data / "leads.csv", "bench-ours", conn).rows


_UNESCAPE = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}


def _from_copy_text(field: str) -> str | None:
    if field == "\\N":
        return None
    if "\\" not in field:
        return field
    import re

    return re.sub(r"\\[\\tnr]", lambda m: _UNESCAPE[m.group(0)], field)


def prelead_naive(url: str, data: Path, limit: int | None) -> int:
    import itertools

    import psycopg
    from psycopg import sql

    from ingest.prelead.parse import inspect_file, open_table
    from ingest.prelead.validate import COLUMNS, make_row_validator

    table = open_table(inspect_file(data / "leads.csv"))
    validate = make_row_validator("bench-naive", table.columns)
    columns = COLUMNS[:-2]  # duplicate_of / duplicate_on: left NULL
    insert = sql.SQL("INSERT INTO raw.prelead_rows ({}) VALUES ({})").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder() * len(columns)),
    )
    rows = itertools.islice(table.rows, limit) if limit else table.rows
    n = 0
    with psycopg.connect(url, autocommit=True) as conn:
        for row_no, cells in rows:
            fields = validate(row_no, cells).copy_prefix.split("\t")
            conn.execute(insert, [_from_copy_text(f) for f in fields])
            n += 1
    return n


def tally_ours(url: str, data: Path, limit: int | None) -> int:
    from ingest.tally.parse import read_file_records

    vouchers = lines = 0
    for record in read_file_records(data / "daybook.xml", "vouchers"):
        vouchers += 1
        lines += len(record["lines"])
    return vouchers


def tally_naive(url: str, data: Path, limit: int | None) -> int:
    import re

    import xmltodict  # bench-time import only: the naive baseline, never the shipped path

    path = data / ("daybook_naive.xml" if (data / "daybook_naive.xml").exists() else "daybook.xml")
    text = path.read_bytes().decode("utf-16")
    # Tally writes character references XML 1.0 forbids (&#4;): expat refuses the document
    text = re.sub(r"&#(?:[0-8]|1[124-9]|2\d|3[01]);", "", text)
    document = xmltodict.parse(text)
    messages = document["ENVELOPE"]["BODY"]["IMPORTDATA"]["REQUESTDATA"]["TALLYMESSAGE"]
    if isinstance(messages, dict):
        messages = [messages]
    vouchers = lines = 0
    for message in messages:
        voucher = message.get("VOUCHER")
        if voucher is None:
            continue
        vouchers += 1
        entries = voucher.get("ALLINVENTORYENTRIES.LIST") or []
        lines += len(entries) if isinstance(entries, list) else 1
    return vouchers


def _events(path: str) -> Callable[[str, Path, int | None], int]:
    def run(url: str, data: Path, limit: int | None) -> int:
        import bench_events

        total = limit or 1000
        entities = [f"bench-{path}-{i}" for i in range(max(1, total // EVENT_TYPE_COUNT))]
        make = bench_events.ours if path == "ours" else bench_events.naive
        return make(url, entities, EVENT_TYPE_COUNT)()

    return run


PATHS: dict[tuple[str, str], Callable[[str, Path, int | None], int]] = {
    ("mail", "ours"): mail_ours,
    ("mail", "naive"): mail_naive,
    ("prelead", "ours"): prelead_ours,
    ("prelead", "naive"): prelead_naive,
    ("tally", "ours"): tally_ours,
    ("tally", "naive"): tally_naive,
    ("events", "ours"): _events("ours"),
    ("events", "naive"): _events("naive"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=sorted({s for s, _ in PATHS}))
    parser.add_argument("path", choices=("ours", "naive"))
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument(
        "--url",
        default=os.environ.get(URL_ENV),
        help=f"scratch database (default: ${URL_ENV}; the environment keeps it out of ps)",
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--limit", type=int, help="records to process (default: all)")
    args = parser.parse_args()
    if not args.url:
        parser.error(f"no database: give --url or set {URL_ENV}")
    run = PATHS[(args.stage, args.path)]
    started, cpu = time.perf_counter(), time.process_time()
    n = run(args.url, args.data, args.limit)
    seconds = time.perf_counter() - started
    args.out.write_text(
        json.dumps({"n": n, "seconds": seconds, "cpu_s": time.process_time() - cpu}) + "\n"
    )


if __name__ == "__main__":
    main()
