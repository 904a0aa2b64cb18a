"""dbt build of the whole project: full build time, incremental refresh after new mail against
a naive full rebuild, and rebuild determinism of every mart (issue 10's targets).

Generates a demo world at ``--scale``, lands it into a scratch database
(``<warehouse db>_bench_dbt``, dropped afterwards unless ``--keep``) exactly as
``tests/platform/test_crm_master.py`` does (Tally and Focus RT through their simulators, mail
and lead lists through their loaders, valid leads approved through the event write path),
then runs the real ``dbt`` command line on it, in this order:

1. ``dbt build`` of the whole project on empty marts (timed; the ten slowest models from
   ``run_results.json``);
2. the dbt schemas (staging, intermediate, marts) dropped and ``dbt build`` again from the
   same raw data (timed): every mart's full contents, keys included, must hash the same;
3. ``--new-emails`` (100) follow-ups land in the mailboxes: replies from real customers to
   their own earlier mail, in the same threads, through the mail loader;
4. ``dbt build`` (timed, no full refresh): activity_stream must stay incremental (same
   table, rows appended, one EmailReceived per new email);
5. the naive baseline for the same new mail: ``dbt build --full-refresh`` (timed); every mart
   must equal what the incremental run left (the stream's rows included), and the ratio of
   the two times is reported.

ML scoring is not run (``ml.*`` stays empty: its staging and the marts must cope). Every
build pins ``erp_as_of_date`` to today, so a run across midnight compares like with like.
The mart hashes are order-independent: per table, the row count and the sums of both 64-bit
halves of md5(row text), and the same per column, so a table that differs names its columns.

    .venv/bin/python bench/bench_dbt.py --scale 1
    .venv/bin/python bench/bench_dbt.py --scale 10 --json bench-dbt.json   # target: build < 2 min
    .venv/bin/python bench/bench_dbt.py --incremental-select 'source:raw.emails+'  # mail's models only

Targets (issue 10): full build at scale 10 under 120 s; incremental refresh after 100 new
emails under 20 s. Timings are reported, never gated; the exit status is 1 when the marts
differ between builds or activity_stream was rebuilt instead of appended to.

Measured 2026-12-04 on the 2-core machine, quiet (load 1.5), ``--incremental-select
'source:raw.emails+'``, scale 10 (28,955 emails): full build 32.1 s, rebuild 30.6 s,
incremental after 100 emails 19.9 s (was 26.4 s on 2026-12-03, before the CRM's mail mining
became incremental and the lead-name search left the mail path), naive full refresh of the
same selection 21.4 s. Marts identical between rebuilds and between incremental and full
refresh.

Measured 2026-12-05, quiet (load 1-2), same selection, after the shared mail and sales
intermediates became tables and the refresh stopped running unit tests: scale 10 full
build 31.7 s, incremental after 100 emails 15.4 s, naive full refresh 18.1 s; scale 1 8.6 s
vs 9.0 s.
"""

from __future__ import annotations

import argparse
import email
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DBT = Path(sys.executable).parent / "dbt"
#: Schemas dbt writes (models and seeds); raw, ml and ops belong to Python.
DBT_SCHEMAS = ("staging", "intermediate", "marts")
FULL_BUILD_TARGET_S = 120.0  # at scale 10
INCREMENTAL_TARGET_S = 20.0


@dataclass
class Build:
    """One ``dbt build`` invocation and what its run_results.json says."""

    label: str
    args: list[str]
    wall_s: float
    dbt_elapsed_s: float
    returncode: int
    results: list[dict[str, Any]] = field(repr=False)

    @property
    def failures(self) -> list[tuple[str, str, str]]:
        return [
            (r["unique_id"], r["status"], (r.get("message") or "")[:2000])
            for r in self.results
            if r["status"] not in ("success", "pass")
        ]

    def slowest_models(self, n: int = 10) -> list[tuple[str, float]]:
        models = [r for r in self.results if r["unique_id"].startswith("model.")]
        models.sort(key=lambda r: r["execution_time"], reverse=True)
        return [(r["unique_id"].split(".", 2)[-1], r["execution_time"]) for r in models[:n]]

    def time_by_kind(self) -> dict[str, dict[str, float]]:
        """Nodes and summed execution time per resource type (model, test, unit_test, seed)."""
        out: dict[str, dict[str, float]] = {}
        for r in self.results:
            kind = r["unique_id"].split(".", 1)[0]
            entry = out.setdefault(kind, {"nodes": 0, "seconds": 0.0})
            entry["nodes"] += 1
            entry["seconds"] = round(entry["seconds"] + r["execution_time"], 2)
        return out

    def result(self, model: str) -> dict[str, Any] | None:
        return next((r for r in self.results if r["unique_id"] == f"model.pebble.{model}"), None)

    def summary(self) -> dict[str, Any]:
        return {
            "command": "dbt " + " ".join(self.args),
            "wall_s": round(self.wall_s, 2),
            "dbt_elapsed_s": round(self.dbt_elapsed_s, 2),
            "returncode": self.returncode,
            "nodes": len(self.results),
            "by_kind": self.time_by_kind(),
            "slowest_models": [[m, round(s, 2)] for m, s in self.slowest_models()],
            "failures": self.failures,
        }


class Dbt:
    """The dbt command line on the scratch warehouse, with a target dir of its own (its
    partial-parse state is shared by every build here, as in a long-lived deployment)."""

    def __init__(self, work: Path, env: dict[str, str], as_of: str) -> None:
        # a copy of the project taken now: edits made to the checkout during the run (it is
        # shared) must not change the project between the builds compared
        self.project = work / "dbt"
        shutil.copytree(ROOT / "dbt", self.project, ignore=shutil.ignore_patterns("target", "logs"))
        self.target = work / "dbt-target"
        self.logs = work / "dbt-logs"
        self.env = dict(env, DBT_PROFILES_DIR=str(self.project))
        self.vars = json.dumps({"erp_as_of_date": as_of})

    def _run(self, args: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
        cmd = [str(DBT), *args, "--target-path", str(self.target), "--log-path", str(self.logs)]
        started = time.perf_counter()
        done = subprocess.run(
            cmd, cwd=self.project, env=self.env, capture_output=True, text=True, check=False
        )
        return time.perf_counter() - started, done

    def parse(self) -> float:
        elapsed, done = self._run(["parse", "--vars", self.vars])
        if done.returncode:
            raise SystemExit(f"dbt parse failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
        return elapsed

    def build(self, label: str, *extra: str) -> Build:
        args = ["build", *extra]
        elapsed, done = self._run([*args, "--vars", self.vars])
        path = self.target / "run_results.json"
        if not path.exists():
            raise SystemExit(f"dbt {' '.join(args)} wrote no run_results:\n{done.stdout[-3000:]}")
        run = json.loads(path.read_text())
        path.unlink()  # the next build must not be read from this one's results
        return Build(label, args, elapsed, run["elapsed_time"], done.returncode, run["results"])


# --- the new mail ------------------------------------------------------------------------


def write_follow_ups(world: Path, count: int, out: Path) -> int:
    """Write ``count`` follow-ups into Maildirs under ``out`` (one per mailbox): each is a
    customer replying to one of their own earlier messages (picked evenly through the
    world's inbound customer mail), two days later, in the same thread. Returns how many."""
    from demo.world import load_jsonl

    inbound = [
        r
        for r in load_jsonl(world / "mail" / "truth.jsonl")
        if r.get("direction") == "inbound" and r.get("company_id")
    ]
    step = max(1, len(inbound) // max(count, 1))
    picked = inbound[::step][:count]
    for index, record in enumerate(picked):
        original = email.message_from_bytes(
            (world / record["file"]).read_bytes(), policy=policy.default
        )
        sender = str(original["From"])
        domain = sender.rsplit("@", 1)[-1].strip("> ")
        subject = str(original["Subject"] or "").strip()
        sent = original["Date"].datetime if original["Date"] else datetime(2025, 6, 1)
        reply = EmailMessage()
        reply["From"] = sender
        reply["To"] = str(original["To"])
        reply["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
        reply["Date"] = format_datetime(sent + timedelta(days=2))
        reply["Message-ID"] = f"<bench-dbt-followup-{index}@{domain}>"
        # as a mail client does: the original's References, then the original itself
        reply["In-Reply-To"] = str(original["Message-ID"])
        chain = str(original["References"] or "").split()
        reply["References"] = " ".join([*chain, str(original["Message-ID"])])
        reply.set_content(
            "Dear Sir,\n\nAny update on the below? Kindly confirm rate and dispatch date,"
            f" we need it this week.\n\nRegards,\n{sender.split('<', 1)[0].strip()}\n"
        )
        box = out / record["mailbox"]
        for sub in ("cur", "new", "tmp"):
            (box / sub).mkdir(parents=True, exist_ok=True)
        (box / "cur" / f"1790000000.{index:07d}.benchdbt:2,S").write_bytes(reply.as_bytes())
    return len(picked)


def land_follow_ups(url: str, maildir: Path) -> tuple[int, float]:
    """Land the follow-ups as production lands a drop folder; (landed, seconds)."""
    import psycopg

    from ingest.mail.sync import sync as mail_sync

    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        report = mail_sync(conn, sorted(p for p in maildir.iterdir() if p.is_dir()))
    return report.landed, time.perf_counter() - started


# --- mart contents -----------------------------------------------------------------------


@dataclass(frozen=True)
class TableHash:
    """A mart's contents: rows, a hash of every row and one per column (order-independent:
    the sums of both 64-bit halves of md5 of the text, so a changed, missing or duplicated
    row changes them)."""

    rows: int
    row_hash: str
    columns: dict[str, str]


def _hash_sql(expr: sql.Composable) -> sql.Composable:
    halves = [
        sql.SQL(
            "coalesce(sum(('x' || substr(md5({}), {}, 16))::bit(64)::bigint::numeric), 0)"
        ).format(expr, sql.Literal(start))
        for start in (1, 17)
    ]
    return sql.SQL("({} || ':' || {})").format(*halves)


def snapshot(url: str) -> dict[str, TableHash]:
    """Every relation in the marts schema, hashed in one scan each."""
    import psycopg

    out: dict[str, TableHash] = {}
    with psycopg.connect(url) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s"
                " ORDER BY table_name",
                ("marts",),
            )
        ]
        for table in tables:
            columns = [
                row[0]
                for row in conn.execute(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                    ("marts", table),
                )
            ]
            parts = [sql.SQL("count(*)"), _hash_sql(sql.SQL("t::text"))]
            parts += [
                _hash_sql(sql.SQL("quote_nullable(t.{}::text)").format(sql.Identifier(column)))
                for column in columns
            ]
            query = sql.SQL("SELECT {} FROM {} AS t").format(
                sql.SQL(", ").join(parts), sql.Identifier("marts", table)
            )
            rows, row_hash, *by_column = conn.execute(query).fetchone()
            out[table] = TableHash(rows, row_hash, dict(zip(columns, by_column, strict=True)))
    return out


def compare(before: dict[str, TableHash], after: dict[str, TableHash]) -> list[dict[str, Any]]:
    """Tables whose contents differ, with their row counts and the columns that differ."""
    diffs = []
    for table in sorted(set(before) | set(after)):
        old, new = before.get(table), after.get(table)
        if old and new and (old.rows, old.row_hash) == (new.rows, new.row_hash):
            continue
        diffs.append(
            {
                "table": table,
                "rows_before": old.rows if old else None,
                "rows_after": new.rows if new else None,
                "columns": sorted(
                    c
                    for c in set(old.columns) | set(new.columns)
                    if old.columns.get(c) != new.columns.get(c)
                )
                if old and new
                else [],
            }
        )
    return diffs


# --- the run -----------------------------------------------------------------------------


def _relation_oid(url: str, relation: str) -> int | None:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT to_regclass(%s)::oid", (relation,)).fetchone()[0]


def _scalar(url: str, query: str) -> Any:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchone()[0]


def _drop_dbt_schemas(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for schema in DBT_SCHEMAS:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from bench.scratch import drop_database, scratch_database
    from demo.world import generate_world
    from pebble import db
    from pebble.settings import get_settings
    from tests.platform.test_crm_master import land_world

    result: dict[str, Any] = {
        "scale": args.scale,
        "seed": args.seed,
        "incremental_select": args.incremental_select,
        "incremental_unit_tests": args.unit_tests,
    }
    world = work / "world"
    started = time.perf_counter()
    generate_world(world, seed=args.seed, scale=args.scale)
    result["generate_s"] = round(time.perf_counter() - started, 1)
    print(f"world: seed {args.seed}, scale {args.scale} ({result['generate_s']}s)", flush=True)

    url = scratch_database(args.scratch_name)
    os.environ["DATABASE_URL"] = url
    os.environ["PEBBLE_HOME"] = str(work / "pebble_home")
    os.environ.pop(db.RESOLVED_URL_ENV, None)
    os.environ.pop("PEBBLE_DAGSTER_DATABASE_URL", None)
    os.environ.setdefault("PEBBLE_TIMEZONE", "Asia/Kolkata")
    os.environ.update(db.dbt_env(url))
    get_settings.cache_clear()
    as_of = datetime.now(ZoneInfo(os.environ["PEBBLE_TIMEZONE"])).date().isoformat()
    env = dict(os.environ, DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    dbt = Dbt(work, env, as_of)
    try:
        db.upgrade(url)
        started = time.perf_counter()
        land_world(url, world)
        result["land_s"] = round(time.perf_counter() - started, 1)
        result["raw_emails"] = _scalar(url, "SELECT count(*) FROM raw.emails")
        print(f"landed in {result['land_s']}s ({result['raw_emails']} emails)", flush=True)
        result["parse_s"] = round(dbt.parse(), 1)

        # the machine is often shared: the load before the first build and after the last
        load_before = os.getloadavg()[0]

        # 1. full build on empty marts
        full = dbt.build("full build")
        print(f"full build: {full.wall_s:.1f}s", flush=True)
        first = snapshot(url)
        result["marts_rows"] = {table: h.rows for table, h in first.items()}

        # 2. from scratch again, same raw data: identical marts?
        _drop_dbt_schemas(url)
        rebuild = dbt.build("rebuild from scratch")
        print(f"rebuild from scratch: {rebuild.wall_s:.1f}s", flush=True)
        rebuild_diffs = compare(first, snapshot(url))

        # 3. new mail
        count = write_follow_ups(world, args.new_emails, work / "new_mail")
        landed, land_new_s = land_follow_ups(url, work / "new_mail")
        print(f"{landed} of {count} new emails landed in {land_new_s:.1f}s", flush=True)

        # 4. incremental refresh
        stream_oid = _relation_oid(url, "marts.activity_stream")
        stream_rows = _scalar(url, "SELECT count(*) FROM marts.activity_stream")
        select = ["--select", args.incremental_select] if args.incremental_select else []
        # as the refresh after new mail runs in production (orchestration/defs/dbt: unit
        # tests only in full builds), unless asked; the naive baseline gets the same flags
        if not args.unit_tests:
            select += ["--exclude-resource-type", "unit_test"]
        incremental = dbt.build("incremental after new mail", *select)
        print(f"incremental build: {incremental.wall_s:.1f}s", flush=True)
        stream_rows_after = _scalar(url, "SELECT count(*) FROM marts.activity_stream")
        new_received = _scalar(
            url,
            "SELECT count(*) FROM marts.activity_stream s JOIN raw.emails e"
            " ON s.entity_id = e.email_key WHERE s.event_type = 'EmailReceived'"
            " AND e.message_id LIKE 'bench-dbt-followup-%'",
        )
        adapter = (incremental.result("activity_stream") or {}).get("adapter_response", {})
        same_table = _relation_oid(url, "marts.activity_stream") == stream_oid
        stayed_incremental = (
            same_table
            and str(adapter.get("_message", "")).upper().startswith("INSERT")
            and stream_rows_after - stream_rows == adapter.get("rows_affected")
            and new_received == landed
        )
        result["activity_stream"] = {
            "stayed_incremental": stayed_incremental,
            "same_table": same_table,
            "rows_before": stream_rows,
            "rows_after": stream_rows_after,
            "dbt_says": adapter.get("_message"),
            "email_received_for_new_mail": new_received,
        }
        after_incremental = snapshot(url)
        # the follow-ups' cards: each should have joined the thread it replies to
        in_known_threads = _scalar(
            url,
            "SELECT count(*) FROM intermediate.int_mail__thread_messages n"
            " JOIN raw.emails e USING (email_key)"
            " WHERE e.message_id LIKE 'bench-dbt-followup-%' AND EXISTS ("
            "   SELECT 1 FROM intermediate.int_mail__thread_messages o"
            "   WHERE o.thread_key = n.thread_key AND o.email_key <> n.email_key)",
        )

        # 5. the naive baseline: rebuild everything for the same new mail
        naive = dbt.build("naive: --full-refresh after new mail", "--full-refresh", *select)
        print(f"full refresh: {naive.wall_s:.1f}s", flush=True)
        refresh_diffs = compare(after_incremental, snapshot(url))

        result.update(
            {
                "new_emails": {
                    "written": count,
                    "landed": landed,
                    "in_existing_threads": in_known_threads,
                    "land_s": round(land_new_s, 2),
                },
                "builds": {
                    "full": full.summary(),
                    "rebuild": rebuild.summary(),
                    "incremental": incremental.summary(),
                    "naive_full_refresh": naive.summary(),
                },
                "naive_over_incremental": round(naive.wall_s / incremental.wall_s, 2),
                "determinism": {
                    "rebuild_identical": not rebuild_diffs,
                    "rebuild_diffs": rebuild_diffs,
                    "incremental_equals_full_refresh": not refresh_diffs,
                    "incremental_vs_full_refresh_diffs": refresh_diffs,
                    "tables_compared": len(first),
                },
                "load_average_1m": round(os.getloadavg()[0], 1),
                "load_average_1m_before": round(load_before, 1),
                "erp_as_of_date": as_of,
            }
        )
        return result
    finally:
        get_settings.cache_clear()
        if args.keep:
            print(f"kept: {db.redact(url)}")
        else:
            drop_database(url)


def report(result: dict[str, Any]) -> None:
    builds = result["builds"]
    print()
    print(
        f"dbt build, demo scale {result['scale']} (seed {result['seed']}): "
        f"{result['raw_emails']} emails, {len(result['marts_rows'])} marts, "
        f"load average {result['load_average_1m_before']} before, {result['load_average_1m']} after"
    )
    print(f"{'build':<40} {'wall s':>8} {'dbt s':>8} {'nodes':>6} {'failed':>7}  target")
    targets = {
        "full": f"< {FULL_BUILD_TARGET_S:.0f} s at scale 10",
        "incremental": f"< {INCREMENTAL_TARGET_S:.0f} s",
    }
    labels = {
        "full": "full build (empty marts)",
        "rebuild": "rebuild from scratch (schemas dropped)",
        "incremental": f"incremental, {result['new_emails']['landed']} new emails",
        "naive_full_refresh": "naive: --full-refresh, same new emails",
    }
    for key, label in labels.items():
        b = builds[key]
        print(
            f"{label:<40} {b['wall_s']:>8.1f} {b['dbt_elapsed_s']:>8.1f} {b['nodes']:>6}"
            f" {len(b['failures']):>7}  {targets.get(key, '')}"
        )
    print(f"naive / incremental: {result['naive_over_incremental']:.2f}x")
    if result["incremental_select"]:
        print(f"(incremental and naive builds: --select {result['incremental_select']})")
    if not result.get("incremental_unit_tests"):
        print("(incremental and naive builds without dbt's unit tests, as the refreshes run)")
    mail = result["new_emails"]
    print(
        f"new emails: {mail['landed']} landed in {mail['land_s']}s, "
        f"{mail['in_existing_threads']} joined the thread they reply to"
    )
    for key, label in labels.items():
        skipped = sum(1 for _, status, _ in builds[key]["failures"] if status == "skipped")
        if skipped:
            print(f"WARNING: {label}: {skipped} nodes skipped, so not the whole project")
    stream = result["activity_stream"]
    print(
        f"activity_stream incremental: {'yes' if stream['stayed_incremental'] else 'NO'}"
        f" ({stream['dbt_says']}; {stream['rows_before']} -> {stream['rows_after']} rows,"
        f" same table: {stream['same_table']}, EmailReceived for the new mail:"
        f" {stream['email_received_for_new_mail']})"
    )
    det = result["determinism"]
    for key, title in (
        ("rebuild_diffs", "rebuild from the same raw data"),
        ("incremental_vs_full_refresh_diffs", "incremental vs --full-refresh"),
    ):
        diffs = det[key]
        verdict = (
            f"identical ({det['tables_compared']} marts, keys included)"
            if not diffs
            else "DIFFERENT: "
            + "; ".join(
                f"{d['table']} ({d['rows_before']} -> {d['rows_after']} rows,"
                f" columns {', '.join(d.get('columns', [])) or '?'})"
                for d in diffs
            )
        )
        print(f"{title}: {verdict}")
    print("\nslowest models, full build (s):")
    for model, seconds in builds["full"]["slowest_models"]:
        print(f"  {seconds:>7.2f}  {model}")
    print(
        "\ntime per node kind, full build: "
        + ", ".join(
            f"{kind} {v['nodes']} nodes {v['seconds']:.1f}s"
            for kind, v in builds["full"]["by_kind"].items()
        )
    )
    for key in labels:
        failures = builds[key]["failures"]
        skipped = sum(1 for _, status, _ in failures if status == "skipped")
        if failures:
            print(f"\n{labels[key]}: {len(failures) - skipped} failed, {skipped} skipped")
        for unique_id, status, message in failures:
            if status != "skipped":
                print(f"  {status}: {unique_id}: {' '.join(message.split())[:160]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--new-emails", type=int, default=100)
    parser.add_argument(
        "--incremental-select",
        help="dbt selection for the incremental build and its naive baseline (default: the"
        " whole project), e.g. 'source:raw.emails+' for what new mail alone refreshes",
    )
    parser.add_argument(
        "--unit-tests",
        action="store_true",
        help="run dbt's unit tests in the incremental and naive builds too (the refreshes"
        " after new mail skip them; full builds run them)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--scratch-name",
        default="dbt",
        help="scratch database <warehouse db>_bench_<name> (two runs at once need two names)",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-dbt-"))
    try:
        result = run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nwrote {args.json}")
    det = result["determinism"]
    # timings are reported, not gated; these two are correctness claims of issue 10
    if not (
        det["rebuild_identical"]
        and det["incremental_equals_full_refresh"]
        and result["activity_stream"]["stayed_incremental"]
    ):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
