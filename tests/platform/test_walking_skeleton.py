"""Materialising every asset into a real PostgreSQL yields the expected rows, twice over."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from rich.console import Console

from pebble import db
from pebble.settings import get_settings

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "emails"


@pytest.fixture
def platform_env(pebble_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh warehouse, a drop folder holding the sample mailbox, and the runtime env
    restored afterwards (materialising exports variables into this process)."""
    drop = tmp_path / "drop"
    shutil.copytree(SAMPLES, drop)
    monkeypatch.setenv("PEBBLE_MAIL_DROP_DIR", str(drop))
    get_settings.cache_clear()
    saved = dict(os.environ)
    yield pebble_env
    dagster_db = db.libpq_parts(db.dagster_url())["dbname"]
    os.environ.clear()
    os.environ.update(saved)
    get_settings.cache_clear()
    admin = psycopg.conninfo.make_conninfo(pebble_env, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                psycopg.sql.Identifier(dagster_db)
            )
        )


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("raw.emails", "staging.stg_mail__emails", "marts.email_cards")
        }


def test_materialize_twice_gives_same_rows(platform_env: str) -> None:
    from pebble.materialize import materialize

    quiet = Console(quiet=True)
    first = materialize("*", console=quiet)
    assert first.success, first.failed_steps
    assert {"raw/emails", "staging/stg_mail__emails", "marts/email_cards"} <= set(first.assets)
    assert first.checks and first.checks_failed == 0, first.checks

    counts = _counts(platform_env)
    assert counts["raw.emails"] == len(list(SAMPLES.glob("*.eml")))
    assert counts["staging.stg_mail__emails"] == counts["raw.emails"]
    with psycopg.connect(platform_env) as conn:
        subjects = {r[0] for r in conn.execute("SELECT subject FROM marts.email_cards")}
    # not cards: an out-of-office reply, our colleague's forward, a newsletter to sales
    not_cards = {
        "Automatic reply: Revised price list",
        "Fwd: Introduction - new detergent plant in Baddi",
        "This week: caustic soda prices soften, monsoon logistics outlook",
    }
    assert counts["marts.email_cards"] == counts["raw.emails"] - len(not_cards)
    assert not subjects & not_cards
    assert "Rate enquiry - Zinc Oxide and Stearic Acid" in subjects
    assert any(s.startswith("Tender Notice") for s in subjects)
    assert first.assets["raw/emails"]["rows_added"] == counts["raw.emails"]

    second = materialize("*", console=quiet)
    assert second.success
    assert second.assets["raw/emails"]["rows_added"] == 0
    assert _counts(platform_env) == counts
