"""Scoring landed mail into the warehouse (ml.warehouse), through the Dagster asset.

Products are matched against the stock master dbt models from what Tally landed
(`marts.stock_levels`), so an item the trader adds in Tally is recognised in mail after the
next sync and dbt build, with no code change; the sender's company is the CRM master's
(`marts.crm_companies`); and mail is scored whatever master data is (or is not) there.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from demo.sim.tally import TallySimulator
from demo.world.catalogue import PRODUCTS
from ingest.mail.sync import sync as land_mail
from ingest.tally.client import TallyClient
from ingest.tally.sync import pull_stock_items
from ml.classifier import load_classifier
from ml.extract import as_product_refs, get_extractor
from ml.taxonomy import stream_of
from ml.warehouse import score_pending
from orchestration.defs.ml.assets import email_predictions
from orchestration.resources import WarehouseResource
from pebble.settings import get_settings
from tests.ml.marts import build_marts

KULKARNI_GSTIN = "27AAKCK4321M1Z8"
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "emails"
#: A stock item the demo catalogue has never heard of, created only in the trader's Tally.
NEW_ITEM = {
    "code": "PBK40",
    "name": "Pebblite K-40 Resin",
    "aliases": ["PBK-40 resin"],
    "grade": "Industrial",
    "hsn": "39069090",
    "gst_rate": 18.0,
    "unit": "kg",
    "pack": "drum",
    "pack_size_kg": 200.0,
    "stock_group": "Polymers",
    "base_price_per_kg": 141.0,
    "specs": [],
}


@pytest.fixture
def scoring(warehouse: psycopg.Connection, home_with_model: Path, monkeypatch) -> Iterator:
    """A migrated, empty warehouse and a PEBBLE_HOME holding the session's model."""
    monkeypatch.setenv("PEBBLE_HOME", str(home_with_model))
    get_settings.cache_clear()
    yield warehouse
    get_settings.cache_clear()


def _mail(folder: Path, name: str, subject: str, body: str) -> Path:
    message = EmailMessage()
    message["From"] = "Ravi Kulkarni <ravi@kulkarni-coatings.example>"
    message["To"] = "sales@pebbledemo.in"
    message["Subject"] = subject
    message["Date"] = "Mon, 17 Nov 2025 10:15:00 +0530"
    message["Message-ID"] = f"<{name}@kulkarni-coatings.example>"
    message.set_content(body)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.eml"
    path.write_bytes(bytes(message))
    return path


def _sync_stock(conn: psycopg.Connection, world: Path) -> None:
    simulator = TallySimulator(world, port=0)
    url = simulator.start()
    try:
        pull_stock_items(conn, TallyClient(url=url))
    finally:
        simulator.stop()


def _materialize(url: str) -> dg.MaterializeResult:
    result = dg.materialize(
        [email_predictions], resources={"warehouse": WarehouseResource(database_url=url)}
    )
    assert result.success
    return result


def _products(conn: psycopg.Connection, subject: str) -> list[tuple[str, str | None]]:
    return conn.execute(
        "SELECT n.value #>> '{}', n.linked_to FROM ml.email_entities n"
        " JOIN raw.emails e USING (email_key)"
        " WHERE e.subject = %s AND n.label = 'PRODUCT' ORDER BY n.position",
        (subject,),
    ).fetchall()


def _company(conn: psycopg.Connection, subject: str) -> tuple[str | None, ...]:
    row = conn.execute(
        "SELECT p.company_key, p.company_name, p.company_evidence FROM ml.email_predictions p"
        " JOIN raw.emails e USING (email_key) WHERE e.subject = %s",
        (subject,),
    ).fetchone()
    assert row is not None, subject
    return tuple(row)


def test_an_item_created_only_in_tally_is_recognised_after_the_next_materialisation(
    scoring: psycopg.Connection, pebble_env: str, tmp_path: Path
) -> None:
    from demo.world import generate_world

    conn = scoring
    world = tmp_path / "world"
    generate_world(world, seed=11, scale=0.05)
    assert NEW_ITEM["name"] not in {p.name for p in PRODUCTS}
    text = "Please quote Pebblite K-40 Resin, 10 drums, delivery Vapi."
    catalogue_only = get_extractor(as_product_refs(PRODUCTS)).extract(text)
    assert not [e for e in catalogue_only if e.label == "PRODUCT"]  # the catalogue can't

    # Before: Tally does not stock the resin; a mail asking for it names no product.
    _sync_stock(conn, world)
    # the sender's firm is a Tally customer: its ledger carries the sender's domain
    conn.execute(
        "INSERT INTO raw.tally_ledgers (guid, name, parent, gstin, gstins, email, row_hash)"
        " VALUES ('l-kc', 'Kulkarni Coatings (Maharashtra)', 'Sundry Debtors', %s, %s,"
        " 'accounts@kulkarni-coatings.example', 'h')",
        (KULKARNI_GSTIN, [KULKARNI_GSTIN]),
    )
    drop = tmp_path / "drop"
    land_mail(conn, [_mail(drop, "before", "Rate - resin (1)", text)])
    _materialize(pebble_env)  # the dbt warehouse step has not run: no products, no company
    assert _products(conn, "Rate - resin (1)") == []
    assert _company(conn, "Rate - resin (1)") == (None, None, None)

    build_marts(pebble_env)
    conn.execute("DELETE FROM ml.email_predictions")  # score it again, now with the marts
    _materialize(pebble_env)
    assert _products(conn, "Rate - resin (1)") == []
    kulkarni = f"pan:{KULKARNI_GSTIN[2:12]}"  # the CRM master's key and name, which the
    # CRM gave this sender (by the domain on the ledger) when dbt built it
    assert _company(conn, "Rate - resin (1)") == (kulkarni, "Kulkarni Coatings", "contact")

    # The trader creates the item in Tally; the next sync lands it with the stock master.
    catalogue = json.loads((world / "catalogue.json").read_text("utf-8"))
    (world / "catalogue.json").write_text(json.dumps([*catalogue, NEW_ITEM]), "utf-8")
    _sync_stock(conn, world)
    build_marts(pebble_env, "+stock_levels")
    land_mail(conn, [_mail(drop, "after", "Rate - resin (2)", text)])
    _materialize(pebble_env)
    assert _products(conn, "Rate - resin (2)") == [("Pebblite K-40 Resin", "Pebblite K-40 Resin")]
    assert _products(conn, "Rate - resin (1)") == []  # scored mail is not scored again


def test_mail_is_scored_without_any_erp_data_and_only_once(
    scoring: psycopg.Connection, tmp_path: Path
) -> None:
    conn = scoring
    landed = land_mail(conn, [shutil.copytree(SAMPLES, tmp_path / "drop")]).landed
    assert landed >= 10
    classifier = load_classifier()
    said: list[str] = []
    report = score_pending(conn, classifier, None, batch=4, log=said.append)
    assert report.scored == report.total == landed
    assert report.products == 0 and report.linked_to_company == 0
    assert sum(report.by_stream.values()) == landed
    assert any("0 stock items" in line for line in said)
    rows = conn.execute("SELECT stream, intent, model_version FROM ml.email_predictions").fetchall()
    assert all(stream_of(intent) == stream for stream, intent, _ in rows)
    assert {version for *_, version in rows} == {classifier.version}
    entities = conn.execute("SELECT count(*) FROM ml.email_entities").fetchone()[0]
    assert entities > 0  # GSTINs, order numbers, quantities: found without a stock master

    again = score_pending(conn, classifier, None)
    assert again.scored == 0 and again.total == landed
    assert conn.execute("SELECT count(*) FROM ml.email_entities").fetchone()[0] == entities
