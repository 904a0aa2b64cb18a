"""A first run that works: empty drop folders are normal, and ERPs that are configured but
down fail their own assets with typed errors while mail is still landed and carded."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from rich.console import Console

from pebble import db
from pebble.settings import get_settings

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "emails"
#: Everything but the model: training is measured by the walking skeleton and the ML tests.
WITHOUT_ML = "not group:ml"


def _closed_port() -> int:
    """A local port nothing listens on (bound once, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def first_run_env(
    pebble_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Path]]:
    """A new home: a fresh warehouse, drop folders that do not exist yet, Tally and Focus
    pointing at closed ports; the process environment restored afterwards."""
    folders = {"mail": tmp_path / "drops" / "mail", "prelead": tmp_path / "drops" / "prelead"}
    monkeypatch.setenv("PEBBLE_MAIL_DROP_DIR", str(folders["mail"]))
    monkeypatch.setenv("PEBBLE_PRELEAD_DROP_DIR", str(folders["prelead"]))
    monkeypatch.setenv("TALLY_URL", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("FOCUS_URL", f"http://127.0.0.1:{_closed_port()}")
    get_settings.cache_clear()
    saved = dict(os.environ)
    yield folders
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


def test_empty_drop_folders_are_not_errors(first_run_env: dict[str, Path]) -> None:
    from pebble.materialize import materialize

    summary = materialize("group:ingest_mail or group:ingest_prelead", console=Console(quiet=True))
    assert summary.success, summary.failures
    for key in ("raw/emails", "raw/prelead_batches", "raw/prelead_rows"):
        assert summary.assets[key]["rows"] == 0, key
    assert summary.checks and summary.checks_failed == 0, summary.checks
    # the folders exist now, ready for the sensors
    assert all(folder.is_dir() for folder in first_run_env.values())


def test_erps_down_fail_their_assets_and_mail_still_lands(
    first_run_env: dict[str, Path], pebble_env: str
) -> None:
    from pebble.materialize import materialize, print_summary

    shutil.copytree(SAMPLES, first_run_env["mail"])
    emails = len(list(SAMPLES.glob("*.eml")))

    summary = materialize(WITHOUT_ML, console=Console(quiet=True))

    assert not summary.success
    assert set(summary.failures) == {"raw_tally", "raw_focus"}, summary.failures
    assert summary.failures["raw_tally"].startswith("TALLY_CONNECTION_FAILED")
    assert summary.failures["raw_focus"].startswith("FOCUS_CONNECTION_FAILED")
    # only the ERP landings and the dbt step built on them are left out; every model the
    # cards need is built
    from orchestration.defs.dbt.assets import pebble_dbt_cards, pebble_dbt_warehouse

    warehouse_step = {key.to_user_string() for key in pebble_dbt_warehouse.keys}
    for key in summary.not_materialised:
        assert key.startswith(("raw/tally_", "raw/focus_")) or key in warehouse_step, key
    assert {key.to_user_string() for key in pebble_dbt_cards.keys} <= set(summary.assets)
    # the cards step's dbt unit tests ran as asset checks, and passed
    unit_tests = {
        f"{spec.asset_key.to_user_string()}:{spec.name}"
        for spec in pebble_dbt_cards.check_specs
        if str(spec.metadata.get("dagster_dbt/unique_id", "")).startswith("unit_test.")
    }
    assert unit_tests and unit_tests <= set(summary.checks), unit_tests - set(summary.checks)
    assert all(summary.checks[key]["passed"] for key in unit_tests)
    assert "raw/tally_stock_items" in summary.not_materialised
    # mail is landed and carded all the same
    assert summary.assets["raw/emails"]["rows_added"] == emails
    assert {"staging/stg_mail__emails", "marts/email_cards"} <= set(summary.assets)
    with psycopg.connect(pebble_env) as conn:
        cards = conn.execute("SELECT count(*) FROM marts.email_cards").fetchone()[0]
    assert 0 < cards <= emails
    # and the summary says what failed
    out = Console(record=True, width=200)
    print_summary(summary, out)
    text = out.export_text()
    assert "failed raw_tally: TALLY_CONNECTION_FAILED" in text
    assert "failed raw_focus: FOCUS_CONNECTION_FAILED" in text


def test_materialize_in_a_demo_home_runs_its_own_stand_ins(
    first_run_env: dict[str, Path], pebble_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pebble materialize` with the demo on and no source configured starts the stand-ins
    for the run, lands from them, stops them after, and exits 0."""
    import json

    from pebble.materialize import run_materialize

    for name in ("TALLY_URL", "FOCUS_URL", "MAIL_IMAP_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PEBBLE_DEMO", "1")  # a DATABASE_URL alone would turn it off
    monkeypatch.setenv("PEBBLE_DEMO_SCALE", "0.05")
    get_settings.cache_clear()

    assert run_materialize(WITHOUT_ML) == 0

    with psycopg.connect(pebble_env) as conn:
        for table in ("emails", "tally_stock_items", "focus_sales_orders", "prelead_batches"):
            count = conn.execute(f"SELECT count(*) FROM raw.{table}").fetchone()[0]
            assert count > 0, table
    # the model's training world is another seed than the mailbox it scores
    settings = get_settings()
    seeds = [
        json.loads((folder / "manifest.json").read_text())["seed"]
        for folder in (settings.world, settings.training)
    ]
    assert seeds == [7, 8]
    # and the stand-ins are gone
    for variable in ("TALLY_URL", "FOCUS_URL"):
        port = int(os.environ[variable].rsplit(":", 1)[1])
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
            pass


def _keys(selection: object) -> set[str]:
    from pebble.materialize import selected_keys

    return {key.to_user_string() for key in selected_keys(selection)}


def test_every_asset_lands_the_erps_and_builds_the_warehouse_before_mail() -> None:
    """Scoring links mail through marts.crm_companies, marts.stock_levels and
    marts.sales_orders: on a first run they are built before any mail is scored, and the
    models reading mail are built again after it."""
    from orchestration.definitions import defs
    from pebble.materialize import stages

    graph = defs.resolve_asset_graph()
    every = {k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).is_executable}
    erp, rest = (_keys(stage) for stage in stages("*"))
    assert {"raw/tally_ledgers", "raw/focus_sales_orders", "raw/prelead_rows"} <= erp
    assert {"marts/crm_companies", "marts/stock_levels", "marts/sales_orders"} <= erp
    assert not {k for k in erp if k == "raw/emails" or k.startswith("ml/")}
    assert {
        "raw/emails",
        "ml/classifier_model",
        "ml/email_predictions",
        "marts/email_cards",
    } <= rest
    assert erp | rest == every
    # what reads mail is built again once the mail is there
    assert "marts/activity_stream" in erp & rest
    assert not {k for k in rest if k.startswith(("raw/tally_", "raw/focus_"))}

    erp_first, cards, scored = (_keys(stage) for stage in stages("*", cards_first=True))
    assert erp_first == erp
    assert {"raw/emails", "marts/email_cards"} <= cards
    assert not {k for k in cards if k.startswith("ml/")}  # the cards before the model
    assert {"ml/classifier_model", "ml/email_predictions", "marts/email_cards"} <= scored
    assert erp_first | cards | scored == every
    # any other selection is one run, as given
    assert stages(WITHOUT_ML) == (WITHOUT_ML,)
