"""Benchmark: the prelead screening page's two heavy moments, ours against a naive baseline.

1. **Open a batch** of ``--rows`` rows (default 100,000): the batches list, the filtered
   row count and the first page (100 rows, best score first, with live decisions), the
   first row's detail and audit trail, the first page of invalid rows and the newest 500
   decisions, as the page runs them through ``app/prelead.py``. Baseline: what one writes first,
   every row of the batch and every decision fetched into polars, joined, sorted, counted
   and sliced in Python.
2. **A bulk decision** over ``--bulk`` rows (default 10,000): "approve every pending row
   with score >= 80 and no duplicate candidates" through :func:`app.prelead.bulk_decide`
   (one selection query with the versions from ``ops.prelead_decisions``, one
   ``events.append_many``). Baseline: fetch every row and decision, filter in Python, then
   one ``events.append`` per row (re-deciding the same rows, so both write ``--bulk`` events).

Targets (issue 11): a 100,000-row batch opens in under 2 s; a 10,000-row bulk decision
commits in under 5 s.

Runs in a scratch database beside the warehouse (``<db>_bench_prelead_screen``, dropped
afterwards unless ``--keep``); without ``DATABASE_URL`` an embedded PostgreSQL is started in
a temporary PEBBLE_HOME. Never touches the warehouse's own rows. The raw rows are
generated in SQL (the loader has its own benchmark, bench_prelead.py), the staging views
are the dbt models' SQL rendered with the project's macros, and ``marts.prelead_queue`` is
created from its yml contract (with its primary key, as dbt does) and filled in SQL: dbt
is not run.

    .venv/bin/python bench/bench_prelead_screen.py                # 100,000 rows, 10,000 bulk
    .venv/bin/python bench/bench_prelead_screen.py --rows 10000
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from scratch import drop_database, scratch_database  # bench/scratch.py

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DBT = ROOT / "dbt"
BATCH = "bench_screen"
OTHER = "bench_other"


def _contract_ddl(yml: Path) -> str:
    import yaml

    (model,) = yaml.safe_load(yml.read_text())["models"]
    columns = [f'"{c["name"]}" {c["data_type"]}' for c in model["columns"]]
    keys = [
        c["name"]
        for c in model["columns"]
        if any(k.get("type") == "primary_key" for k in c.get("constraints", []))
    ]
    if keys:
        columns.append("PRIMARY KEY (" + ", ".join(f'"{k}"' for k in keys) + ")")
    return f"CREATE TABLE marts.{model['name']} ({', '.join(columns)})"


def _staging_view(model: Path) -> str:
    import jinja2

    macros = "\n".join(p.read_text() for p in sorted((DBT / "macros").glob("*.sql")))
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    body = env.from_string(macros + "\n" + model.read_text()).render(
        source=lambda _src, table: f"raw.{table}"
    )
    return f"CREATE OR REPLACE VIEW staging.{model.stem} AS {body}"


def fill(conn, rows: int, bulk: int, other_rows: int) -> None:  # noqa: ANN001
    """Two batches in raw, the staging views and the queue: in ``BATCH`` rows 1..bulk score
    >= 80 without candidates; the rest score < 80, every tenth with a candidate. 5% of the
    batch's rows are invalid (a bad GSTIN checksum)."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS staging; CREATE SCHEMA IF NOT EXISTS marts")
    for model in (
        DBT / "models/staging/prelead/stg_prelead__batches.sql",
        DBT / "models/staging/prelead/stg_prelead__rows.sql",
        DBT / "models/staging/ingest/stg_ingest__rejects.sql",
    ):
        conn.execute(_staging_view(model))
    conn.execute(_contract_ddl(DBT / "models/marts/prelead/prelead_queue.yml"))
    for batch, n in ((BATCH, rows), (OTHER, other_rows)):
        invalid = n // 20
        conn.execute(
            """
            INSERT INTO raw.prelead_batches (batch, file_name, file_sha256, file_kind, encoding,
                header_row, rows, valid, invalid, duplicates_in_batch, formula_neutralised)
            VALUES (%s, %s, md5(%s), 'csv', 'utf-8', 1, %s, %s, %s, 0, 0)
            """,
            (batch, batch + ".csv", batch, n + invalid, n, invalid),
        )
        # valid rows 2..n+1, invalid rows after them
        conn.execute(
            """
            INSERT INTO raw.prelead_rows (batch, row_no, company_name, gstin, email,
                email_normalised, phone, phone_e164, state, state_code, is_valid, reason_codes,
                reasons, formula_neutralised)
            SELECT %(batch)s, i + 1, 'Company ' || i || ' Chemicals Pvt Ltd', NULL,
                   'buy' || i || '@firm' || i || '.in', 'buy' || i || '@firm' || i || '.in',
                   '98200' || lpad(i::text, 5, '0'), '+9198200' || lpad(i::text, 5, '0'),
                   'Maharashtra', '27', i <= %(n)s,
                   CASE WHEN i <= %(n)s THEN '{}'::text[] ELSE '{gstin_checksum}' END,
                   CASE WHEN i <= %(n)s THEN '[]'::jsonb ELSE
                       '[{"code": "gstin_checksum", "field": "gstin",
                          "message": "GSTIN check character is 6, expected X"}]'::jsonb END,
                   false
            FROM generate_series(1, %(total)s) AS i
            """,
            {"batch": batch, "n": n, "total": n + invalid},
        )
        conn.execute(
            """
            INSERT INTO marts.prelead_queue (prelead_key, prelead_id, batch, row_no, file_name,
                loaded_at, company_name, contact_person, email, email_domain, is_free_mail,
                phone, state, state_code, industry, decision, decision_version,
                pending_same_gstin_keys, is_queue_duplicate, duplicate_candidates,
                candidate_count, best_candidate_key, best_candidate_name, best_candidate_match,
                best_candidate_score, score, score_reasons, industry_points, state_points,
                size_points, relationship_points, data_quality_points)
            SELECT %(batch)s || ':' || (i + 1), %(batch)s || '/' || (i + 1), %(batch)s, i + 1,
                   %(batch)s || '.csv', now(), 'Company ' || i || ' Chemicals Pvt Ltd',
                   'Person ' || i, 'buy' || i || '@firm' || i || '.in', 'firm' || i || '.in',
                   false, '+9198200' || lpad(i::text, 5, '0'), 'Maharashtra', '27',
                   'chemicals', 'pending', 0, '{}', false,
                   CASE WHEN cand THEN jsonb_build_array(jsonb_build_object(
                       'company_key', 'pan:AAACX' || lpad(i::text, 4, '0') || 'X',
                       'name', 'Company ' || i || ' Chemicals Private Limited',
                       'match', 'name', 'score', 0.91, 'matches', jsonb_build_array('name'),
                       'matched_value', 'company ' || i || ' chemicals',
                       'source_systems', jsonb_build_array('tally'))) ELSE '[]'::jsonb END,
                   cand::integer,
                   CASE WHEN cand THEN 'pan:AAACX' || lpad(i::text, 4, '0') || 'X' END,
                   CASE WHEN cand THEN 'Company ' || i || ' Chemicals Private Limited' END,
                   CASE WHEN cand THEN 'name' END, CASE WHEN cand THEN 0.91 END,
                   score,
                   jsonb_build_array(
                       jsonb_build_object('factor', 'industry', 'points', least(score, 25),
                                          'reason', 'industry chemicals'),
                       jsonb_build_object('factor', 'state', 'points', least(greatest(score - 25, 0), 15),
                                          'reason', '40 ERP companies in Maharashtra'),
                       jsonb_build_object('factor', 'size', 'points', greatest(score - 40, 0) / 2,
                                          'reason', 'turnover 50 crore'),
                       jsonb_build_object('factor', 'data_quality', 'points',
                                          score - least(score, 25) - least(greatest(score - 25, 0), 15)
                                          - greatest(score - 40, 0) / 2,
                                          'reason', 'email on a company domain')),
                   least(score, 25), least(greatest(score - 25, 0), 15), 0, 0, 0
            FROM (
                SELECT i,
                       CASE WHEN i <= %(bulk)s THEN 80 + i %% 21 ELSE i %% 80 END AS score,
                       i > %(bulk)s AND i %% 10 = 0 AS cand
                FROM generate_series(1, %(n)s) AS i
            ) AS g
            """,
            {"batch": batch, "n": n, "bulk": bulk if batch == BATCH else 0},
        )
    conn.execute("ANALYZE")


def _median(fn, runs: int) -> tuple[float, object]:  # noqa: ANN001
    times, out = [], None
    for _ in range(runs):
        started = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), out


def open_ours(conn, filters) -> dict:  # noqa: ANN001
    """What the page runs to show a batch: every tab is rendered on each run."""
    from app import prelead

    batches = prelead.list_batches(conn)
    total = prelead.queue_count(conn, filters)
    page = prelead.queue_page(conn, filters)
    detail = prelead.row_detail(conn, page["prelead_id"][0]) if page.height else None
    if detail is not None:
        prelead.row_history(conn, detail.row["prelead_id"])
    prelead.invalid_rows(conn, filters.batch)
    prelead.decision_history(conn, filters.batch, newest=500)
    prelead.decision_count(conn, filters.batch)
    return {
        "batches": batches.height,
        "total": total,
        "first": page["row_no"].to_list(),
        "detail": detail is not None,
    }


def _naive_rows(conn, batch: str):  # noqa: ANN001, ANN202
    import polars as pl
    from psycopg.rows import dict_row

    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT * FROM marts.prelead_queue WHERE batch = %s", (batch,)
        ).fetchall()
        decisions = cur.execute(
            "SELECT prelead_id, decision AS live_decision, version FROM ops.prelead_decisions"
        ).fetchall()
    nested = ("duplicate_candidates", "score_reasons", "extra", "pending_same_gstin_keys")
    frame = pl.DataFrame(
        [{k: v for k, v in r.items() if k not in nested} for r in rows],
        infer_schema_length=None,
    )
    live = pl.DataFrame(
        decisions,
        schema={"prelead_id": pl.String, "live_decision": pl.String, "version": pl.Int64},
        orient="row",
    )
    return frame.join(live, on="prelead_id", how="left").with_columns(
        pl.col("live_decision").fill_null("pending"), pl.col("version").fill_null(0)
    )


def open_naive(conn, batch: str) -> dict:  # noqa: ANN001
    import polars as pl

    batches = conn.execute("SELECT * FROM staging.stg_prelead__batches").fetchall()
    frame = _naive_rows(conn, batch).filter(pl.col("live_decision") == "pending")
    ordered = frame.sort(["score", "row_no"], descending=[True, False])
    return {"batches": len(batches), "total": ordered.height,
            "first": ordered["row_no"].head(100).to_list()}  # fmt: skip


def bulk_ours(conn, user, filters, expected: int) -> int:  # noqa: ANN001
    from app import prelead

    return prelead.bulk_decide(conn, user, filters, "approved", expected_rows=expected).rows


def bulk_naive(conn, user, batch: str, bulk: int) -> int:  # noqa: ANN001
    import polars as pl

    from pebble import events

    frame = _naive_rows(conn, batch).filter(
        (pl.col("score") >= 80) & (pl.col("candidate_count") == 0)
    )
    written = 0
    for prelead_id, row_no, version in frame.select("prelead_id", "row_no", "version").iter_rows():
        event = events.new_event(
            "PreleadRejected",
            prelead_id,
            actor=user.name,
            payload={"batch": batch, "row_no": row_no, "reason": "naive baseline"},
        )
        events.append(conn, event, expected_version=version)
        written += 1
    assert written == bulk, (written, bulk)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="valid rows in the batch")
    parser.add_argument(
        "--bulk", type=int, default=10_000, help="rows of the bulk decision (at most rows/2)"
    )
    parser.add_argument("--other-rows", type=int, default=20_000, help="another batch's rows")
    parser.add_argument("--runs", type=int, default=5, help="runs per open (median)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    bulk = min(args.bulk, args.rows // 2)  # half the batch at most: some rows stay pending

    home = Path(tempfile.mkdtemp(prefix="bench-prelead-screen-"))
    os.environ["PEBBLE_HOME"] = str(home)
    from pebble import db
    from pebble.settings import get_settings

    get_settings.cache_clear()
    url = None
    try:
        import psycopg

        from app import prelead
        from pebble.auth import User

        url = scratch_database("prelead_screen")
        db.upgrade(url)
        user = User("bench", "marketing")
        with psycopg.connect(url, autocommit=True) as conn:
            server = conn.execute("SHOW server_version").fetchone()[0]
            started = time.perf_counter()
            fill(conn, args.rows, bulk, args.other_rows)
            # decisions already taken in the other batch: the live view has work to do
            others = prelead.selection(conn, prelead.Filters(OTHER, min_score=40))
            prelead.bulk_decide_rows(conn, user, others, "rejected", reason="earlier")
            print(f"filled {args.rows:,} + {args.other_rows:,} rows, {len(others):,} decisions "
                  f"in {time.perf_counter() - started:.1f} s", file=sys.stderr)  # fmt: skip

            pending = prelead.Filters(BATCH)
            top = prelead.Filters(BATCH, min_score=80, no_candidates=True)
            ours_s, ours = _median(lambda: open_ours(conn, pending), args.runs)
            naive_s, naive = _median(lambda: open_naive(conn, BATCH), args.runs)
            assert ours["total"] == naive["total"] == args.rows, (ours, naive)
            assert ours["first"] == naive["first"], "the two paths disagree on the first page"
            deep = prelead.Filters(BATCH, decision="all")
            deep_s, _ = _median(
                lambda: prelead.queue_page(conn, deep, page=args.rows // 100 - 1), args.runs
            )
            count_s, _ = _median(lambda: prelead.queue_count(conn, pending), args.runs)

            started = time.perf_counter()
            written = bulk_ours(conn, user, top, bulk)
            bulk_s = time.perf_counter() - started
            assert written == bulk, (written, bulk)
            after_s, after = _median(lambda: open_ours(conn, pending), args.runs)
            assert after["total"] == args.rows - bulk

            started = time.perf_counter()
            bulk_naive(conn, user, BATCH, bulk)
            naive_bulk_s = time.perf_counter() - started

        load = os.getloadavg()[0]
        print(f"PostgreSQL {server}, {os.cpu_count()} cores, load {load:.1f}")
        print(f"batch of {args.rows:,} valid rows (+{args.rows // 20:,} invalid), another batch "
              f"of {args.other_rows:,} with {len(others):,} decisions")  # fmt: skip
        rows = [
            ("open a batch (every query of the page)", ours_s, naive_s, 2.0),
            (f"bulk decision over {bulk:,} rows", bulk_s, naive_bulk_s, 5.0),
        ]
        print(f"\n{'':52} {'ours':>9} {'naive':>9} {'ratio':>7} {'target':>8}")
        for name, mine, theirs, target in rows:
            ok = "ok" if mine < target else "MISSED"
            print(f"{name:52} {mine:8.3f}s {theirs:8.3f}s {theirs / mine:6.1f}x "
                  f"{'<' + str(target) + ' s':>6} {ok}")  # fmt: skip
        print(f"\nour parts: pending count {count_s * 1000:.0f} ms; last page (OFFSET "
              f"{args.rows - 100:,}) {deep_s * 1000:.0f} ms; open again after the bulk "
              f"decision {after_s:.3f} s")  # fmt: skip
    finally:
        if url and not args.keep:
            drop_database(url)
        import shutil

        if db.is_embedded():
            db.stop_embedded()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
