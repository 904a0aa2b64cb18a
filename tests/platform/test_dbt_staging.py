"""dbt staging over real landed data: every raw table has a staging model, and the models
state quantities in kg and Tally amounts debit-positive.

Data lands the way production lands it: the Tally and Focus RT connectors pull from their
simulators over a small demo world, a lead list goes through the prelead loader, and a
hand-written Tally export (a purchase in MT, a debtor's "Dr" opening balance) goes through
the Tally parser and landing. dbt then runs through the project's own resource (the one
the Dagster definitions configure), with the profile Pebble derives from its settings.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pebble import db

#: A Tally day book as Tally writes it: a purchase of caustic lye in MT (the stock
#: item's debit, "(-)", is stock coming in) and a debtor whose opening balance is "Dr".
TALLY_EXPORT = """<ENVELOPE><BODY><IMPORTDATA><REQUESTDATA>
<TALLYMESSAGE><LEDGER NAME="Acme Rubber Pvt Ltd">
 <GUID>ledger-acme</GUID><NAME>Acme Rubber Pvt Ltd</NAME><PARENT>Sundry Debtors</PARENT>
 <PARTYGSTIN>27aacca1234f1z5</PARTYGSTIN><OPENINGBALANCE>1,18,000.00 Dr</OPENINGBALANCE>
 <MASTERID> 901</MASTERID><ALTERID> 901</ALTERID>
</LEDGER></TALLYMESSAGE>
<TALLYMESSAGE><VOUCHER REMOTEID="vch-lye" VCHTYPE="Purchase">
 <DATE>20251114</DATE><GUID>vch-lye</GUID><VOUCHERTYPENAME>Purchase</VOUCHERTYPENAME>
 <VOUCHERNUMBER>PUR/25-26/0042</VOUCHERNUMBER>
 <PARTYLEDGERNAME>Bharat Chemical Traders</PARTYLEDGERNAME>
 <ISCANCELLED>No</ISCANCELLED><MASTERID> 902</MASTERID><ALTERID> 902</ALTERID>
 <LEDGERENTRIES.LIST><LEDGERNAME>Bharat Chemical Traders</LEDGERNAME>
  <ISPARTYLEDGER>Yes</ISPARTYLEDGER><AMOUNT>1,22,720.00</AMOUNT></LEDGERENTRIES.LIST>
 <LEDGERENTRIES.LIST><LEDGERNAME>Purchase Account</LEDGERNAME>
  <AMOUNT>(-)1,04,000.00</AMOUNT></LEDGERENTRIES.LIST>
 <ALLINVENTORYENTRIES.LIST><STOCKITEMNAME>Caustic Lye</STOCKITEMNAME>
  <RATE>52,000.00/MT</RATE><AMOUNT>(-)1,04,000.00</AMOUNT>
  <ACTUALQTY> 2.000 MT</ACTUALQTY><BILLEDQTY> 2.000 MT</BILLEDQTY>
 </ALLINVENTORYENTRIES.LIST>
</VOUCHER></TALLYMESSAGE>
</REQUESTDATA></IMPORTDATA></BODY></ENVELOPE>"""


@pytest.fixture(scope="module")
def tiny_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from demo.world import generate_world

    world = tmp_path_factory.mktemp("world")
    generate_world(world, seed=5, scale=0.02)
    return world


@pytest.fixture
def landed(pebble_env: str, tiny_world: Path, tmp_path: Path) -> Iterator[str]:
    """A migrated warehouse holding every source's landed rows."""
    from demo.sim.focus import FocusSimulator
    from demo.sim.tally import TallySimulator
    from ingest.focus.client import FocusClient
    from ingest.focus.settings import FocusSettings
    from ingest.focus.sync import sync as focus_sync
    from ingest.prelead.sync import sync as prelead_sync
    from ingest.tally import land
    from ingest.tally.client import TallyClient
    from ingest.tally.parse import iter_records
    from ingest.tally.sync import sync as tally_sync

    db.upgrade(pebble_env)
    tally = TallySimulator(tiny_world, port=0)
    focus = FocusSimulator(tiny_world, "127.0.0.1", port=0)
    leads = tmp_path / "leads"
    leads.mkdir()
    shutil.copy2(sorted((tiny_world / "prelead").glob("batch_*.csv"))[0], leads)
    try:
        with psycopg.connect(pebble_env, autocommit=True) as conn:
            tally_sync(conn, TallyClient(url=tally.start(), retries=0, read_timeout_s=30.0))
            with FocusClient(FocusSettings(url=focus.start())) as client:
                focus_sync(conn, client)
            prelead_sync(conn, [leads])
            export = TALLY_EXPORT.encode()
            land.land_ledgers(conn, iter_records(export, "ledgers"))
            land.land_vouchers(conn, list(iter_records(export, "vouchers")))
    finally:
        tally.stop()
        focus.stop()
    yield pebble_env


def _dbt_build(*args: str) -> Any:
    """`dbt build` through the dbt resource the Dagster definitions configure."""
    from orchestration.definitions import defs

    return defs.resources["dbt"].cli(["build", *args], raise_on_error=False).wait()


def _raw_tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'raw' AND table_type = 'BASE TABLE'"
        ).fetchall()
    return {name for (name,) in rows}


def _staged_raw_tables(manifest: dict[str, Any]) -> dict[str, set[str]]:
    """raw table -> the staging models reading it, from the manifest dbt just wrote."""
    sources = {
        uid: node["identifier"]
        for uid, node in manifest["sources"].items()
        if node["schema"] == "raw"
    }
    staged: dict[str, set[str]] = {table: set() for table in sources.values()}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["config"].get("schema") != "staging":
            continue
        for parent in node["depends_on"]["nodes"]:
            if parent in sources:
                staged[sources[parent]].add(node["name"])
    return staged


def test_staging_builds_every_raw_table_with_kg_and_debit_positive_amounts(
    landed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PEBBLE_TIMEZONE", "Asia/Kolkata")
    for variable, value in db.dbt_env(landed).items():  # the profile Pebble derives
        monkeypatch.setenv(variable, value)
    # the seed the mail and ML models are tested against; cautious: not the tests of marts
    # that merely point at a staging model
    invocation = _dbt_build(
        "--select", "staging taxonomy_labels", "--indirect-selection", "cautious"
    )
    results = invocation.get_artifact("run_results.json")["results"]
    failed = [(r["unique_id"], r["status"], r["message"]) for r in results if r["status"] in
              ("error", "fail", "runtime error")]  # fmt: skip
    assert invocation.is_successful() and not failed, failed
    ran = {r["unique_id"].split(".")[0] for r in results}
    assert {"model", "test", "unit_test"} <= ran  # views, data tests and unit tests all ran

    # every raw table is a dbt source read by a staging model: a new raw table without one
    # fails here
    staged = _staged_raw_tables(invocation.get_artifact("manifest.json"))
    raw = _raw_tables(landed)
    assert raw - set(staged) == set(), "raw tables without a dbt source"
    assert {t for t in raw if not staged.get(t)} == set(), "raw tables without a staging model"

    with psycopg.connect(landed) as conn:
        line = conn.execute(
            "SELECT qty, unit, qty_kg, rate_inr_per_kg, amount_inr, stock_direction"
            " FROM staging.stg_tally__voucher_lines WHERE voucher_guid = 'vch-lye'"
        ).fetchone()
        voucher = conn.execute(
            "SELECT voucher_class, (occurred_at AT TIME ZONE 'UTC')::text"
            " FROM staging.stg_tally__vouchers"
            " WHERE voucher_guid = 'vch-lye'"
        ).fetchone()
        ledger = conn.execute(
            "SELECT gstin, gstin_pan, opening_balance_inr, opening_balance_dr_cr"
            " FROM staging.stg_tally__ledgers WHERE ledger_guid = 'ledger-acme'"
        ).fetchone()
        entries = conn.execute(
            "SELECT ledger, amount_inr, dr_cr FROM staging.stg_tally__voucher_ledger_entries"
            " WHERE voucher_guid = 'vch-lye' ORDER BY entry_no"
        ).fetchall()
        mismatched = conn.execute(
            "SELECT count(*) FROM staging.stg_focus__invoice_lines l"
            " JOIN raw.focus_invoice_lines r ON r.doc_no = l.invoice_no AND r.line_no = l.line_no"
            " WHERE r.unit = 'kg' AND l.qty_kg IS DISTINCT FROM r.quantity"
        ).fetchone()[0]
        counts = {
            table: conn.execute(f"SELECT count(*) FROM staging.{table}").fetchone()[0]  # noqa: S608
            for table in ("stg_focus__sales_orders", "stg_prelead__rows", "stg_tally__stock_items")
        }
    # 2 MT -> 2000 kg; 52,000/MT -> 52/kg; the purchase's "(-)" is stock in, value positive
    assert line == (Decimal(2), "MT", Decimal(2000), Decimal(52), Decimal(104000), "in")
    assert voucher == ("purchase", "2025-11-13 18:30:00")  # midnight in India, in UTC
    # "1,18,000.00 Dr": the customer owes us 118000
    assert ledger == ("27AACCA1234F1Z5", "AACCA1234F", Decimal(118000), "Dr")
    assert entries == [
        ("Bharat Chemical Traders", Decimal(-122720), "Cr"),
        ("Purchase Account", Decimal(104000), "Dr"),
    ]
    assert mismatched == 0  # Focus RT lines in kg arrive unchanged
    assert all(counts.values()), counts
