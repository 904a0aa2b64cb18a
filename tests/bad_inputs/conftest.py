"""The bad-input suite's shared parts: one warehouse per session, the outcome ledger and the
summary printed (and written as JSON) when the session ends.

Every case is generated hostile input handed to a real entry point (the mail loader, the
prelead loader, the Tally and Focus clients against a tiny local server) with a real
PostgreSQL warehouse. Each case ends in exactly one outcome:

- ``rejected``: a ``raw.rejects`` row with a reason, or a typed connector error
  (``TallyError``, ``FocusError``, ``PreleadFileError``, ``Unparseable``) with a message;
- ``stored``: landed as ordinary data (with its hostile parts neutralised, checked per case);
- ``duplicate``: recognised as input already stored;
- ``crashed``: any other exception, or a reject that only a catch-all wrote
  (``parser error: ...``): a bug, must never happen;
- ``dropped``: seen but neither stored, a duplicate nor rejected: must never happen.

Cases are landed in batches per category (one loader call for many cases where the loader
takes many), then reported one test per case. ``test_zz_summary.py`` asserts the totals.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from pebble import db
from pebble.settings import get_settings

OUTCOMES = ("rejected", "stored", "duplicate", "crashed", "dropped")
#: Reasons that only a catch-all writes: the input reached an unexpected exception.
CATCH_ALL_PREFIXES = ("parser error:",)


@dataclass
class Result:
    """What one hostile case ended in."""

    case: str
    category: str
    outcome: str
    detail: str
    seconds: float = 0.0


#: case id -> result, filled as the cases run (a session-wide ledger).
LEDGER: dict[str, Result] = {}
#: case ids generated per category (what should be tried), registered at import time.
GENERATED: dict[str, str] = {}


def register(category: str, case_ids: list[str]) -> list[str]:
    """Note the generated case ids of a category (for the summary's "tried" check)."""
    for case in case_ids:
        assert case not in GENERATED, f"duplicate case id {case}"
        GENERATED[case] = category
    return case_ids


def record(result: Result) -> Result:
    """Put one case's outcome in the ledger (a case id is recorded once)."""
    if result.outcome == "rejected" and result.detail.startswith(CATCH_ALL_PREFIXES):
        result.outcome = "crashed"  # only a catch-all wrote it: an unexpected exception
    LEDGER[result.case] = result
    return result


def crash_detail(exc: BaseException) -> str:
    return f"{type(exc).__module__}.{type(exc).__name__}: {str(exc)[:300]}"


def summary() -> dict[str, object]:
    """Counts per category and outcome, plus the totals."""
    per: dict[str, Counter[str]] = {}
    for result in LEDGER.values():
        per.setdefault(result.category, Counter())[result.outcome] += 1
    totals: Counter[str] = Counter()
    for counts in per.values():
        totals.update(counts)
    return {
        "tried": sum(totals.values()),
        "generated": len(GENERATED),
        **{name: totals.get(name, 0) for name in OUTCOMES},
        "categories": {
            category: {"tried": sum(counts.values()), **{n: counts.get(n, 0) for n in OUTCOMES}}
            for category, counts in sorted(per.items())
        },
        "problems": [asdict(r) for r in LEDGER.values() if r.outcome in ("crashed", "dropped")],
    }


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ANN001
    """Print the table and write it to ``<basetemp>/bad_inputs_summary.json``."""
    if not LEDGER:
        return
    data = summary()
    lines = [
        f"{'category':<22}{'tried':>7}{'rejected':>10}{'stored':>8}{'dup':>6}"
        f"{'crashed':>9}{'dropped':>9}"
    ]
    for category, counts in data["categories"].items():  # type: ignore[union-attr]
        lines.append(
            f"{category:<22}{counts['tried']:>7}{counts['rejected']:>10}{counts['stored']:>8}"
            f"{counts['duplicate']:>6}{counts['crashed']:>9}{counts['dropped']:>9}"
        )
    lines.append(
        f"{'total':<22}{data['tried']:>7}{data['rejected']:>10}{data['stored']:>8}"
        f"{data['duplicate']:>6}{data['crashed']:>9}{data['dropped']:>9}"
    )
    out = Path(config._tmp_path_factory.getbasetemp()) / "bad_inputs_summary.json"  # noqa: SLF001
    out.write_text(json.dumps(data, indent=2, default=str))
    terminalreporter.write_sep("=", "bad-input suite")
    for line in lines:
        terminalreporter.write_line(line)
    terminalreporter.write_line(f"summary written to {out}")


# --- one warehouse for the whole suite ----------------------------------------------------


@pytest.fixture(scope="session")
def bad_database(pg_server_url: str, migrated_template: str) -> Iterator[tuple[str, Path]]:
    """A fresh migrated warehouse (copied from the session's migrated template, as
    ``warehouse`` does per test) and a PEBBLE_HOME, for the whole suite: the cases land in
    batches, and a database per case would cost more than the cases."""
    name = f"pebble_bad_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(migrated_template)
            )
        )
    url = db._to_url({**conninfo_to_dict(pg_server_url), "dbname": name})  # noqa: SLF001
    home = Path(tempfile.mkdtemp(prefix="pebble-bad-inputs-"))
    try:
        assert db.upgrade(url, cached=False) == db.head_revision()
        yield url, home / "pebble_home"
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module", autouse=True)
def bad_env(bad_database: tuple[str, Path]) -> Iterator[str]:
    """Point every pebble component at the suite's warehouse and home, for one module of
    this directory at a time (undone after it: nothing leaks into other suites)."""
    url, home = bad_database
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        patch.setenv("PEBBLE_HOME", str(home))
        patch.delenv(db.RESOLVED_URL_ENV, raising=False)
        patch.delenv("PEBBLE_DAGSTER_DATABASE_URL", raising=False)
        patch.delenv("PEBBLE_LLM_BASE_URL", raising=False)
        get_settings.cache_clear()
        try:
            yield url
        finally:
            get_settings.cache_clear()


@pytest.fixture(scope="session")
def bad_warehouse(bad_database: tuple[str, Path]) -> Iterator[psycopg.Connection]:
    """An autocommit connection to the suite's warehouse."""
    with psycopg.connect(bad_database[0], autocommit=True) as conn:
        yield conn


def table_counts(conn: psycopg.Connection, schemas: tuple[str, ...]) -> dict[str, int]:
    """Row count of every table in ``schemas`` (to show a landing changed nothing else)."""
    tables = conn.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema = ANY(%s) AND table_type = 'BASE TABLE'",
        (list(schemas),),
    ).fetchall()
    counts = {}
    for schema, table in tables:
        (n,) = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table))
        ).fetchone()
        counts[f"{schema}.{table}"] = n
    return counts
