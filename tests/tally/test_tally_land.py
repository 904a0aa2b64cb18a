"""Landing in PostgreSQL: idempotent merges, stock snapshots, all-or-nothing pulls."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from demo.sim.tally import TallySimulator
from ingest.common.cursors import get_cursor
from ingest.tally import land, sync
from ingest.tally.client import TallyClient
from ingest.tally.errors import TallyConnectionError, TallyParseError

TABLES = (
    "tally_stock_items",
    "tally_stock_groups",
    "tally_ledgers",
    "tally_vouchers",
    "tally_voucher_lines",
)
T0 = datetime(2025, 11, 1, 9, 0, tzinfo=UTC)


def _counts(conn: psycopg.Connection) -> dict[str, int]:
    return {
        t: conn.execute(f"SELECT count(*) FROM raw.{t}").fetchone()[0]  # noqa: S608 - constant names
        for t in TABLES
    }


def _client(sim: TallySimulator) -> TallyClient:
    return TallyClient(url=sim.url, retries=0, read_timeout_s=5.0)


def _voucher(alter_id: int, qty: float, lines: int = 1) -> dict:
    return {
        "guid": "v-1",
        "master_id": 1,
        "alter_id": alter_id,
        "voucher_type": "Sales",
        "number": "INV/1",
        "date": date(2025, 11, 3),
        "party": "Shah & Sons",
        "party_gstin": None,
        "reference": None,
        "order_refs": ["SO/1"],
        "is_cancelled": False,
        "is_optional": False,
        "total": qty * 10,
        "vehicle_no": None,
        "lr_no": None,
        "ledger_entries": [{"ledger": "Shah & Sons", "amount": -qty * 10, "is_party": True}],
        "lines": [
            {"line_no": n, "item": "Zinc Oxide", "qty": qty, "unit": "kg", "billed_qty": qty,
             "rate": 10.0, "rate_unit": "kg", "amount": qty * 10, "order_no": "SO/1",
             "godown": None}
            for n in range(1, lines + 1)
        ],
    }  # fmt: skip


def test_full_sync_then_resync_is_idempotent(warehouse, tally_sim: TallySimulator) -> None:
    client = _client(tally_sim)
    first = sync.pull_all(warehouse, client)
    assert [(r.collection, r.received, r.landed) for r in first] == [
        ("stock-groups", 3, 3),
        ("stock-items", 3, 3),
        ("ledgers", 9, 9),
        ("vouchers", 7, 7),
    ]
    counts = _counts(warehouse)
    assert counts == {
        "tally_stock_items": 3,
        "tally_stock_groups": 3,
        "tally_ledgers": 9,
        "tally_vouchers": 7,
        "tally_voucher_lines": 9,
    }
    again = sync.pull_all(warehouse, client)
    assert [r.landed for r in again] == [0, 0, 0, 0]
    assert _counts(warehouse) == counts
    gstins = warehouse.execute(
        "SELECT gstins, pan FROM raw.tally_ledgers WHERE name = 'Shah & Sons Detergents'"
    ).fetchone()
    assert gstins[0][0].startswith("24") and gstins[1] == "AAFFS5678K"


def test_dispatch_adds_a_voucher_and_a_stock_snapshot(warehouse, tally_sim) -> None:
    client = _client(tally_sim)
    sync.pull_all(warehouse, client)
    cursor_before = int(get_cursor(warehouse, "tally", "vouchers.alter_id"))
    number = tally_sim.dispatch_one()
    results = {r.collection: r for r in sync.pull_all(warehouse, client)}
    assert results["vouchers"].received == 1 and results["vouchers"].landed == 1
    assert results["stock-items"].landed == 1  # only Zinc Oxide moved
    assert int(get_cursor(warehouse, "tally", "vouchers.alter_id")) > cursor_before
    snapshots = warehouse.execute(
        "SELECT closing_qty FROM raw.tally_stock_items WHERE name = 'Zinc Oxide' "
        "ORDER BY snapshot_at"
    ).fetchall()
    assert [float(q) for (q,) in snapshots] == [9500.0, 8750.0]  # history kept
    line = warehouse.execute(
        "SELECT l.item, l.qty, l.order_no FROM raw.tally_voucher_lines l "
        "JOIN raw.tally_vouchers v ON v.guid = l.voucher_guid WHERE v.voucher_number = %s",
        (number,),
    ).fetchone()
    assert (line[0], float(line[1]), line[2]) == ("Zinc Oxide", 750.0, "SO/25-26/00003")


def test_stock_snapshots_only_on_change(warehouse) -> None:
    item = {"guid": "g-1", "name": "Zinc Oxide", "closing_qty": 500.0, "rate": 125.0,
            "value": 62500.0, "unit": "kg", "alter_id": 4, "master_id": 4}  # fmt: skip
    assert land.land_stock_items(warehouse, [item], T0) == 1
    assert land.land_stock_items(warehouse, [item], T0) == 0
    assert land.land_stock_items(warehouse, [item], T0 + timedelta(hours=1)) == 0
    moved = item | {"closing_qty": 400.0, "value": 50000.0}
    assert land.land_stock_items(warehouse, [moved], T0 + timedelta(hours=2)) == 1
    assert land.land_stock_items(warehouse, [item], T0 + timedelta(hours=3)) == 1  # back again
    rows = warehouse.execute(
        "SELECT closing_qty FROM raw.tally_stock_items ORDER BY snapshot_at"
    ).fetchall()
    assert [float(q) for (q,) in rows] == [500.0, 400.0, 500.0]


def test_latest_alter_id_wins_and_replaces_lines(warehouse) -> None:
    assert land.land_vouchers(warehouse, [_voucher(10, 5.0, lines=2)]) == 1
    assert land.land_vouchers(warehouse, [_voucher(10, 5.0, lines=2)]) == 0
    assert land.land_vouchers(warehouse, [_voucher(12, 7.0, lines=1)]) == 1
    assert land.land_vouchers(warehouse, [_voucher(11, 9.0, lines=3)]) == 0  # stale: ignored
    total, alter_id = warehouse.execute("SELECT total, alter_id FROM raw.tally_vouchers").fetchone()
    assert (float(total), alter_id) == (70.0, 12)
    lines = warehouse.execute("SELECT qty FROM raw.tally_voucher_lines").fetchall()
    assert [float(q) for (q,) in lines] == [7.0]
    entries = warehouse.execute("SELECT ledger_entries FROM raw.tally_vouchers").fetchone()[0]
    assert entries == [{"ledger": "Shah & Sons", "amount": -70.0, "is_party": True}]


def test_records_without_guid_are_keyed_stably(warehouse) -> None:
    group = {"name": "Solvents", "parent": "Primary", "guid": None, "master_id": None,
             "alter_id": None}  # fmt: skip
    assert land.land_stock_groups(warehouse, [group]) == 1
    assert land.land_stock_groups(warehouse, [group]) == 0
    assert warehouse.execute("SELECT guid FROM raw.tally_stock_groups").fetchone()[0] == (
        "stock_group:name:Solvents"
    )


def test_failed_pull_leaves_last_good_data_intact(warehouse, tally_sim) -> None:
    client = _client(tally_sim)
    client.settings = client.settings.model_copy(update={"batch_days": 120})
    sync.pull_stock_groups(warehouse, client)
    sync.pull_stock_items(warehouse, client, snapshot_at=T0)
    sync.pull_ledgers(warehouse, client)
    counts = _counts(warehouse)
    assert counts["tally_vouchers"] == 0

    # The first date window arrives and lands; then Tally starts sending broken documents.
    windows: list[int] = []
    records = client.records

    def breaking_after_first_window(collection: str, **request: object):
        if collection == "vouchers" and len(windows) == 1:
            tally_sim.faults.set("truncated")
        batch = list(records(collection, **request))
        if collection == "vouchers":
            windows.append(len(batch))
        return iter(batch)

    client.records = breaking_after_first_window  # type: ignore[method-assign]
    with pytest.raises(TallyParseError, match="truncated"):
        sync.pull_vouchers(warehouse, client)
    assert windows and windows[0] > 0  # something was landed before the failure...
    assert _counts(warehouse) == counts  # ...and rolled back with it
    assert get_cursor(warehouse, "tally", "vouchers.alter_id") is None

    tally_sim.faults.set("down")
    with pytest.raises(TallyConnectionError):
        sync.pull_stock_items(warehouse, client, snapshot_at=T0 + timedelta(hours=1))
    with pytest.raises(TallyConnectionError):
        sync.pull_ledgers(warehouse, client)
    assert _counts(warehouse) == counts

    tally_sim.faults.set("none")  # Tally recovers: the next pull catches up
    client.records = records  # type: ignore[method-assign]
    assert sync.pull_vouchers(warehouse, client).landed == 7
    assert get_cursor(warehouse, "tally", "vouchers.alter_id") is not None
