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
    first = sync.sync(warehouse, client)
    assert [(name, r.seen, r.landed) for name, r in first.parts.items()] == [
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
    assert first.accounted and first.tables[0] == "rejects"
    again = sync.sync(warehouse, client)
    assert [r.landed for r in again.parts.values()] == [0, 0, 0, 0]
    assert again.parts["stock-items"].duplicates == 3  # pulled whole, all unchanged
    assert again.duplicates == again.seen and again.accounted
    assert _counts(warehouse) == counts
    gstins = warehouse.execute(
        "SELECT gstins, pan FROM raw.tally_ledgers WHERE name = 'Shah & Sons Detergents'"
    ).fetchone()
    assert gstins[0][0].startswith("24") and gstins[1] == "AAFFS5678K"
    # the stock master keeps Tally's aliases and standard pack (what mail is matched against)
    caustic = warehouse.execute(
        "SELECT aliases, pack_size FROM raw.tally_stock_items WHERE name = 'Caustic Soda Flakes'"
    ).fetchone()
    assert caustic[0] == ["Caustic Flakes", "NaOH Flakes"] and caustic[1] == 50


def test_dispatch_adds_a_voucher_and_a_stock_snapshot(warehouse, tally_sim) -> None:
    client = _client(tally_sim)
    sync.sync(warehouse, client)
    cursor_before = int(get_cursor(warehouse, "tally", "vouchers.alter_id"))
    number = tally_sim.dispatch_one()
    results = sync.sync(warehouse, client).parts
    assert results["vouchers"].seen == 1 and results["vouchers"].landed == 1
    assert results["vouchers"].cursor_before == str(cursor_before)
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


STOCK_ITEMS_ONE_BAD = b"""<ENVELOPE><BODY><DATA><COLLECTION>
<STOCKITEM NAME="Zinc Oxide"><GUID>g-zno</GUID><ALTERID> 3</ALTERID>
 <CLOSINGBALANCE> 500.000 kg</CLOSINGBALANCE><CLOSINGRATE>125.00/kg</CLOSINGRATE></STOCKITEM>
<STOCKITEM NAME="Caustic Soda Flakes"><GUID>g-csf</GUID><ALTERID> 4</ALTERID>
 <CLOSINGBALANCE>lots and lots</CLOSINGBALANCE></STOCKITEM>
<STOCKITEM NAME="Sodium Bicarbonate"><GUID>g-sbc</GUID><ALTERID> 5</ALTERID>
 <CLOSINGBALANCE> 20.000 kg</CLOSINGBALANCE></STOCKITEM>
</COLLECTION></DATA></BODY></ENVELOPE>"""


def test_a_bad_value_rejects_its_record_and_the_collection_lands(warehouse, canned_tally) -> None:
    server = canned_tally({"StockItem": STOCK_ITEMS_ONE_BAD})
    client = TallyClient(url=server.url, retries=0, utf8=True)
    report = sync.sync(warehouse, client, collections=["stock-items"], run_id="run-7")
    part = report.parts["stock-items"]
    assert (part.seen, part.landed, part.rejected) == (3, 2, 1) and report.accounted
    names = {r[0] for r in warehouse.execute("SELECT name FROM raw.tally_stock_items")}
    assert names == {"Zinc Oxide", "Sodium Bicarbonate"}
    row = warehouse.execute(
        "SELECT source, source_kind, locator, reason, payload, run_id FROM raw.rejects"
    ).fetchone()
    assert row[:3] == ("tally", "stock-items", "g-csf")
    assert "lots and lots" in row[3] and row[5] == "run-7"
    assert b"<CLOSINGBALANCE>lots and lots</CLOSINGBALANCE>" in bytes(row[4])
    assert report.rejects == [{"locator": "g-csf", "reason": row[3]}]
    # The same answer again: nothing new landed, the reject recorded once.
    again = sync.sync(warehouse, client, collections=["stock-items"])
    assert (again.landed, again.rejected, again.duplicates) == (0, 1, 2)
    assert warehouse.execute("SELECT count(*) FROM raw.rejects").fetchone() == (1,)


def test_unknown_company_is_a_typed_error_never_the_first_company(warehouse, tally_sim) -> None:
    from ingest.tally.errors import TallyCompanyNotFound

    client = TallyClient(url=tally_sim.url, retries=0, company="Some Other Traders LLP")
    with pytest.raises(TallyCompanyNotFound) as caught:
        sync.sync(warehouse, client, collections=["ledgers"])
    assert caught.value.code == "TALLY_COMPANY_NOT_FOUND"
    assert "Pebble Demo Chemicals Pvt Ltd" in str(caught.value)  # what Tally does have open
    assert _counts(warehouse)["tally_ledgers"] == 0
    assert get_cursor(warehouse, "tally", "ledgers.alter_id") is None


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_tally_fails_the_sync_fast_with_bounded_attempts(warehouse) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    client = TallyClient(url=url, retries=3, backoff_s=0.01, breaker_failures=5)
    with pytest.raises(TallyConnectionError) as caught:
        sync.sync(warehouse, client)
    assert caught.value.code == "TALLY_CONNECTION_FAILED" and caught.value.url == url
    assert client.attempts == 4  # the first try and 3 retries, then the sync gives up
    assert _counts(warehouse) == dict.fromkeys(TABLES, 0)

    # With the breaker's threshold below the retries, the open circuit stops them early.
    client = TallyClient(url=url, retries=10, backoff_s=0.01, breaker_failures=3)
    with pytest.raises(TallyConnectionError, match="cool-down"):
        sync.sync(warehouse, client)
    assert client.attempts == 3 and client.breaker.state == "open"
