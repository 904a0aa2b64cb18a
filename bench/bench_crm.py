"""Benchmark: the CRM master's company resolution and mail linking against a naive baseline.

Generates a demo world at ``--scale`` (default 1), lands it into a scratch database
(``<warehouse db>_bench_crm``, dropped afterwards unless ``--keep``) exactly as
``tests/platform/test_crm_master.py`` does (Tally and Focus RT through their simulators,
mail and lead lists through their loaders, every valid lead approved through the event
write path), builds the CRM dbt models with their tests, and prints, for the dbt model
and for a naive baseline computed in Python over the same source records:

- pairwise precision / recall of company resolution (``pebble.crm_eval.measure``);
- precision / recall of linking inbound mail to its company (``mail_link_score``);
- the time each took, and the ratios.

The naive baseline is what one writes first: records with the same name (lower case,
trimmed) are one company, and a mail sender belongs to the company of any named record on
the same email domain (free mail included, first name alphabetically when several).

    .venv/bin/python bench/bench_crm.py                  # scale 1
    .venv/bin/python bench/bench_crm.py --scale 0.05 --keep --misses   # inspect a small world
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: The dbt selection the test builds: the CRM models, everything upstream, their tests.
SELECT = [
    "--select",
    "+crm_companies +crm_contacts +crm_email_links",
    "--indirect-selection",
    "cautious",
]


def naive_companies(records: list[tuple[str, str, str | None, str | None]]) -> dict[str, str]:
    """``system:source_id`` -> cluster key by exact name; mail senders by raw domain.

    ``records`` are (source_system, source_id, name, email) from int_crm__source_records.
    """
    out: dict[str, str] = {}
    by_domain: dict[str, set[str]] = defaultdict(set)
    for system, source_id, name, email in records:
        if system == "mail" or not (name or "").strip():
            continue
        key = "name:" + (name or "").strip().lower()
        out[f"{system}:{source_id}"] = key
        if email and "@" in email:
            by_domain[email.rsplit("@", 1)[1].lower()].add(key)
    for system, source_id, _name, email in records:
        if system == "mail" and email and "@" in email:
            keys = by_domain.get(email.rsplit("@", 1)[1].lower())
            if keys:
                out[f"{system}:{source_id}"] = min(keys)
    return out


def _build(url: str) -> float:
    """``dbt build`` of the CRM selection through the project's dbt resource; seconds."""
    from orchestration.definitions import defs

    started = time.perf_counter()
    invocation = defs.resources["dbt"].cli(["build", *SELECT], raise_on_error=False).wait()
    elapsed = time.perf_counter() - started
    results = invocation.get_artifact("run_results.json")["results"]
    failed = [
        (r["unique_id"], r["message"]) for r in results if r["status"] not in ("success", "pass")
    ]
    if failed or not invocation.is_successful():
        raise SystemExit(f"dbt build failed: {failed}")
    return elapsed


def _print_misses(world: Path, conn: object) -> None:
    """Inbound mail with a true company that the model left unlinked or linked wrongly."""
    from pebble.crm_eval import mail_link_misses

    for line in mail_link_misses(world, conn):  # type: ignore[arg-type]
        print(" ", line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--misses", action="store_true", help="list mail the model missed")
    args = parser.parse_args()

    import psycopg

    from bench.scratch import drop_database, scratch_database
    from demo.world import generate_world
    from pebble import db
    from pebble.crm_eval import mail_link_score, measure, predicted_companies
    from pebble.settings import get_settings
    from tests.platform.test_crm_master import land_world

    with tempfile.TemporaryDirectory() as home:
        world = Path(home) / "world"
        started = time.perf_counter()
        generate_world(world, seed=args.seed, scale=args.scale)
        print(f"world: seed {args.seed}, scale {args.scale} ({time.perf_counter() - started:.1f}s)")
        url = scratch_database("crm")
        os.environ["DATABASE_URL"] = url
        os.environ["PEBBLE_HOME"] = str(Path(home) / "pebble_home")
        os.environ.pop(db.RESOLVED_URL_ENV, None)
        os.environ.pop("PEBBLE_DAGSTER_DATABASE_URL", None)
        os.environ.setdefault("PEBBLE_TIMEZONE", "Asia/Kolkata")
        os.environ.update(db.dbt_env(url))
        get_settings.cache_clear()
        try:
            db.upgrade(url)
            started = time.perf_counter()
            land_world(url, world)
            print(f"landed in {time.perf_counter() - started:.1f}s")
            build_s = _build(url)
            with psycopg.connect(url) as conn:
                model_pairs = measure(world, conn)
                model_links = mail_link_score(world, conn)
                records = conn.execute(
                    "SELECT source_system, source_id, name, email"
                    " FROM intermediate.int_crm__source_records"
                ).fetchall()
                started = time.perf_counter()
                naive = naive_companies(records)
                naive_s = time.perf_counter() - started
                naive_pairs = measure(world, conn, naive)
                naive_links = mail_link_score(world, conn, naive)
                resolved = len(predicted_companies(conn))
                if args.misses:
                    _print_misses(world, conn)
            print(f"records: {len(records)}, placed by the model: {resolved}")
            print(f"model  build {build_s:6.1f}s  pairs {model_pairs}")
            print(f"                      {model_links}")
            print(f"naive  build {naive_s:6.3f}s  pairs {naive_pairs}")
            print(f"                      {naive_links}")
            print(
                "model / naive: pair precision "
                f"{_ratio(model_pairs.precision, naive_pairs.precision)}, pair recall "
                f"{_ratio(model_pairs.recall, naive_pairs.recall)}, mail precision "
                f"{_ratio(model_links.precision, naive_links.precision)}, mail recall "
                f"{_ratio(model_links.recall, naive_links.recall)}, time "
                f"{_ratio(build_s, naive_s)} (dbt build of the CRM selection with its tests, "
                "against Python over records already staged)"
            )
        finally:
            get_settings.cache_clear()
            if args.keep:
                print(f"kept: {db.redact(url)}")
            else:
                drop_database(url)


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


if __name__ == "__main__":
    main()
