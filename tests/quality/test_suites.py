"""The expectation suites pass clean landings and fail the faults they exist to catch."""

import datetime as dt

import pandas as pd
import psycopg

from orchestration.checks import Window, read_window, validate, validate_chunks, window_end
from orchestration.defs.focus.checks import FOCUS_QC
from orchestration.defs.focus.checks import SUITES as FOCUS_SUITES
from orchestration.defs.mail.checks import EMAILS
from orchestration.defs.mail.checks import SUITES as MAIL_SUITES
from orchestration.defs.prelead.checks import PRELEAD_ROWS
from orchestration.defs.prelead.checks import SUITES as PRELEAD_SUITES
from orchestration.defs.tally.checks import SUITES as TALLY_SUITES
from orchestration.defs.tally.checks import (
    TALLY_LEDGERS,
    TALLY_NEGATIVE_STOCK,
    TALLY_STOCK_ITEMS,
    TALLY_VOUCHERS,
)
from orchestration.defs.tender.checks import SUITES as TENDER_SUITES

#: every source's suites (each source keeps its own beside its landing)
SUITES = (*MAIL_SUITES, *TALLY_SUITES, *FOCUS_SUITES, *PRELEAD_SUITES, *TENDER_SUITES)

GOOD_GSTIN = "27AAPFU0939F1ZV"
BAD_GSTIN = "27AAPFU0939F1ZX"


def _run(suite, frame: pd.DataFrame) -> bool:
    frame = suite.derive(frame) if suite.derive else frame
    return validate(frame, suite)[0]


def _stock(closing: list[float]) -> pd.DataFrame:
    n = len(closing)
    return pd.DataFrame(
        {
            "guid": [f"g{i}" for i in range(n)],
            "snapshot_at": [dt.datetime(2025, 6, 1, tzinfo=dt.UTC)] * n,
            "name": [f"item {i}" for i in range(n)],
            "closing_qty": closing,
            "gst_rate": [18.0] * n,
        }
    )


def test_negative_stock_is_a_warning_not_a_block() -> None:
    """Tally allows negative closing stock: only the non-blocking suite looks at it."""
    assert TALLY_STOCK_ITEMS.blocking and not TALLY_NEGATIVE_STOCK.blocking
    assert _run(TALLY_STOCK_ITEMS, _stock([10.0, -5.0]))
    assert _run(TALLY_NEGATIVE_STOCK, _stock([10.0, 0.0, 250.5]))
    assert not _run(TALLY_NEGATIVE_STOCK, _stock([10.0, -5.0]))


def _vouchers(days: list[dt.date]) -> pd.DataFrame:
    n = len(days)
    return pd.DataFrame(
        {"guid": [f"v{i}" for i in range(n)], "voucher_type": ["Sales"] * n, "voucher_date": days}
    )


def test_a_ratio_rule_tolerates_one_exception_in_a_small_window() -> None:
    """At most 10% post-dated, but one post-dated voucher among three is no broken feed."""
    past, soon = dt.date(2025, 6, 1), dt.date.today() + dt.timedelta(days=10)
    assert _run(TALLY_VOUCHERS, _vouchers([past, past, soon]))
    assert not _run(TALLY_VOUCHERS, _vouchers([past, soon, soon]))
    assert _run(TALLY_VOUCHERS, _vouchers([past] * 18 + [soon] * 2))  # 10%: the ratio holds
    # beyond a year ahead is a wrong date, not a post-dated voucher: no tolerance
    assert not _run(TALLY_VOUCHERS, _vouchers([past] * 30 + [dt.date(2099, 1, 1)]))


def test_stock_snapshots_are_unique_per_item_and_time() -> None:
    frame = _stock([1.0, 2.0])
    frame["guid"] = ["same", "same"]
    assert not _run(TALLY_STOCK_ITEMS, frame)


def _ledgers(gstins: list[str | None]) -> pd.DataFrame:
    n = len(gstins)
    return pd.DataFrame(
        {
            "guid": [f"l{i}" for i in range(n)],
            "name": [f"party {i}" for i in range(n)],
            "gstin": gstins,
            "pan": ["AAPFU0939F"] * n,
        }
    )


def test_gstin_validity_ratio() -> None:
    # parties without a GSTIN (unregistered) do not count against the ratio
    assert _run(TALLY_LEDGERS, _ledgers([GOOD_GSTIN] * 20 + [None] * 5))
    assert _run(TALLY_LEDGERS, _ledgers([GOOD_GSTIN] * 39 + [BAD_GSTIN]))
    assert not _run(TALLY_LEDGERS, _ledgers([GOOD_GSTIN] * 8 + [BAD_GSTIN] * 2))


def test_qc_dates_in_range_and_results_known() -> None:
    frame = pd.DataFrame(
        {
            "doc_no": ["QC/1", "QC/2"],
            "doc_date": [dt.date(2025, 6, 1), dt.date(2025, 7, 1)],
            "result": ["pass", "fail"],
            "batch_no": ["B1", "B2"],
        }
    )
    assert _run(FOCUS_QC, frame.copy())
    future = frame.copy()
    future.loc[1, "doc_date"] = dt.date.today() + dt.timedelta(days=30)
    assert not _run(FOCUS_QC, future)
    odd = frame.copy()
    odd.loc[0, "result"] = "maybe"
    assert not _run(FOCUS_QC, odd)


def test_a_failure_in_any_chunk_fails_the_window() -> None:
    past = dt.date(2025, 6, 1)
    good, bad = _vouchers([past] * 3), _vouchers([past, dt.date(2099, 1, 1)])
    derive = TALLY_VOUCHERS.derive
    passed, metadata = validate_chunks([derive(good), derive(bad)], TALLY_VOUCHERS)
    assert not passed
    assert metadata["rows"] == 5 and metadata["chunks"] == 2
    # the bad row is named by its key (its index within its own chunk)
    assert metadata["voucher_date from 2000 to a year ahead"] == "FAILED (1 unexpected of 5: v1)"


def test_every_suite_reads_its_table(warehouse: psycopg.Connection) -> None:
    """Every raw landing table has a suite (bookkeeping tables aside), and each suite's
    window query (its columns, its landing marker, its parent's join) runs on the tables
    the migrations create."""
    from orchestration.definitions import defs

    raw = {
        tuple(spec.key.path) for spec in defs.resolve_all_asset_specs() if spec.key.path[0] == "raw"
    }
    # the seeded routes table and the shared bookkeeping tables (rejects, cursors) aside
    bookkeeping = {("raw", "mailbox_routes"), ("raw", "rejects"), ("raw", "ingest_cursors")}
    assert {suite.asset for suite in SUITES} == raw - bookkeeping
    everything = Window(dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime.now(dt.UTC))
    for suite in SUITES:
        with warehouse.transaction():
            assert window_end(warehouse, suite) is None
            assert list(read_window(warehouse, suite, everything)) == []
        frame = pd.DataFrame({c: pd.Series(dtype="object") for c in suite.columns})
        frame = suite.derive(frame) if suite.derive else frame
        assert validate(frame, suite)[0], suite.check_name  # an empty window is not a failure


def test_a_window_is_read_in_chunks_and_only_its_rows(warehouse: psycopg.Connection) -> None:
    """Rows outside (since, until] are never read; lines are chosen by their voucher."""
    stock_groups = next(s for s in SUITES if s.asset == ("raw", "tally_stock_groups"))
    lines = next(s for s in SUITES if s.asset == ("raw", "tally_voucher_lines"))
    at = [dt.datetime(2026, 1, 1, hour, tzinfo=dt.UTC) for hour in range(6)]
    for hour, when in enumerate(at):
        warehouse.execute(
            "INSERT INTO raw.tally_stock_groups (guid, name, row_hash, loaded_at)"
            " VALUES (%s, %s, 'h', %s)",
            (f"g{hour}", f"group {hour}", when),
        )
        warehouse.execute(
            "INSERT INTO raw.tally_vouchers (guid, row_hash, loaded_at) VALUES (%s, 'h', %s)",
            (f"v{hour}", when),
        )
        warehouse.execute(
            "INSERT INTO raw.tally_voucher_lines (voucher_guid, line_no) VALUES (%s, 1), (%s, 2)",
            (f"v{hour}", f"v{hour}"),
        )
    window = Window(at[1], at[4])
    with warehouse.transaction():
        assert window_end(warehouse, stock_groups) == at[5]
        chunks = list(read_window(warehouse, stock_groups, window, chunk_rows=2))
        assert [len(c) for c in chunks] == [2, 1]
        assert sorted(g for c in chunks for g in c["guid"]) == ["g2", "g3", "g4"]
        (frame,) = read_window(warehouse, lines, window)
        assert sorted(frame["voucher_guid"]) == ["v2", "v2", "v3", "v3", "v4", "v4"]
        (frame,) = read_window(warehouse, lines, Window(None, at[0]))
        assert list(frame["voucher_guid"]) == ["v0", "v0"]


def test_email_keys_must_be_sha256_hex() -> None:
    frame = pd.DataFrame(
        {
            "email_key": ["a" * 64, "b" * 63],
            "source_kind": ["eml", "eml"],
            "size_bytes": [10, 20],
            "sent_at": [dt.datetime(2025, 6, 1, tzinfo=dt.UTC)] * 2,
            "from_addr": ["a@b.in", "c@d.in"],
        }
    )
    assert not _run(EMAILS, frame)
    frame.loc[1, "email_key"] = "b" * 64
    assert _run(EMAILS, frame)


def test_invalid_prelead_rows_must_say_why() -> None:
    frame = pd.DataFrame(
        {
            "batch": ["b", "b", "b"],
            "row_no": [2, 3, 4],
            "is_valid": [True, False, False],
            "reason_codes": [[], ["gstin_check"], ["email_syntax", "phone"]],
            "gstin": [GOOD_GSTIN, BAD_GSTIN, None],
            "phone_e164": ["+919820011223", None, None],
        }
    )
    assert _run(PRELEAD_ROWS, frame.copy())
    frame.loc[2, "reason_codes"] = []
    assert not _run(PRELEAD_ROWS, frame)
