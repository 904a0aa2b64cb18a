"""The expectation suites pass clean landings and fail the faults they exist to catch."""

import datetime as dt

import pandas as pd
import psycopg

from orchestration.checks import read_table, validate
from orchestration.defs.focus.checks import FOCUS_QC
from orchestration.defs.focus.checks import SUITES as FOCUS_SUITES
from orchestration.defs.mail.checks import EMAILS
from orchestration.defs.mail.checks import SUITES as MAIL_SUITES
from orchestration.defs.prelead.checks import PRELEAD_ROWS
from orchestration.defs.prelead.checks import SUITES as PRELEAD_SUITES
from orchestration.defs.tally.checks import SUITES as TALLY_SUITES
from orchestration.defs.tally.checks import TALLY_LEDGERS, TALLY_STOCK_ITEMS

#: every source's suites (each source keeps its own beside its landing)
SUITES = (*MAIL_SUITES, *TALLY_SUITES, *FOCUS_SUITES, *PRELEAD_SUITES)

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


def test_stock_must_not_be_negative() -> None:
    assert _run(TALLY_STOCK_ITEMS, _stock([10.0, 0.0, 250.5]))
    assert not _run(TALLY_STOCK_ITEMS, _stock([10.0, -5.0]))


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


def test_every_suite_reads_its_table(warehouse: psycopg.Connection) -> None:
    """Every raw landing table has a suite (the seeded routes table aside), and each suite's
    columns exist in the table the migrations create."""
    from orchestration.definitions import defs

    raw = {
        tuple(spec.key.path) for spec in defs.resolve_all_asset_specs() if spec.key.path[0] == "raw"
    }
    assert {suite.asset for suite in SUITES} == raw - {("raw", "mailbox_routes")}
    for suite in SUITES:
        frame = read_table(warehouse, suite)
        assert len(frame) == 0
        assert set(suite.columns) <= set(frame.columns)
        assert validate(frame, suite)[0], suite.check_name  # an empty table is not a failure


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
