"""marts.tenders built by dbt over tender notices landed and read the way production does
(mail loader -> raw/tender_documents asset -> ``dbt build --select +tenders`` through the
project's dbt resource, with the tender models' data and unit tests), then the Tenders page
over it (Streamlit AppTest) and the Kanban page's due-date reminders.

The world, built once for the module: a NIT and its corrigendum (a scan, the number and the
organisation written differently, the bid end moved) in two mails; a notice due in 20 days;
one closed three days ago; one due in 2 days; one due in 10; a corrupt PDF; and a CRM
mail's PDF, which is no notice.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
import pytest
from psycopg import conninfo, sql
from psycopg.rows import dict_row
from streamlit.testing.v1 import AppTest

from app import tenders
from pebble import db, events
from pebble.auth import NotAllowed, User
from tests.tender_pipeline import notices as N

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "app" / "pages" / "tenders.py")
KANBAN = str(ROOT / "app" / "pages" / "kanban.py")
SALES, OTHER_SALES, MANAGER = (
    User("priya", "sales"),
    User("rahul", "sales"),
    User("meera", "manager"),
)

NIT = N.notice("BPCL/MR/TN/2026/0417", 5,
               items=(("Caustic Soda Flakes", 20, "MT"), ("Soda Ash Light (dense)", 500, "KG")))  # fmt: skip
# the corrigendum: a scan, the number and the organisation written otherwise, bid end +1 day
CORRIGENDUM = N.notice("BPCL-MR-TN-2026-0417", 6,
                       items=(("Caustic Soda Flakes", 20, "MT"), ("Soda Ash Light (dense)", 500, "KG")),
                       organisation="BHARAT PETROLEUM CORPORATION LTD")  # fmt: skip
LATER = N.notice("GEM/2026/B/5512345", 20, items=(("Hydrogen Peroxide 50% w/w", 10, "MT"),),
                 organisation="Hindustan Zinc Limited")  # fmt: skip
CLOSED = N.notice("IOCL/PR/2026/0031", -3, organisation="Indian Oil Corporation Limited")
SOON = N.notice("NTPC/2026/0099", 2, organisation="NTPC Limited")
TEN_DAYS = N.notice("GAIL/2026/0777", 10, organisation="GAIL India Limited")
CRM = N.notice("ZZZ/2026/0001", 4, organisation="Not A Tender Limited")


def _dbt_build() -> Any:
    from orchestration.definitions import defs

    select = "+tenders path:models/staging/tender path:models/marts/tender"
    args = ["build", "--select", select, "--indirect-selection", "empty"]
    return defs.resources["dbt"].cli(args, raise_on_error=False).wait()


def _failures(invocation: Any) -> list[tuple[str, str, str]]:
    results = invocation.get_artifact("run_results.json")["results"]
    return [(r["unique_id"], r["status"], r["message"]) for r in results
            if r["status"] not in ("success", "pass")]  # fmt: skip


@pytest.fixture(scope="module")
def world(pg_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The built mart, by tender_no (and the dbt run's results), the env pointing at it."""
    from orchestration.defs.tender.assets import tender_documents
    from orchestration.resources import WarehouseResource
    from pebble.settings import get_settings

    name = f"pebble_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = conninfo.make_conninfo(pg_server_url, dbname=name)
    drop = tmp_path_factory.mktemp("drop")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DATABASE_URL", url)
        env.setenv("PEBBLE_HOME", str(tmp_path_factory.mktemp("pebble_home")))
        env.delenv(db.RESOLVED_URL_ENV, raising=False)
        env.delenv("PEBBLE_DAGSTER_DATABASE_URL", raising=False)
        for variable, value in db.dbt_env(url).items():
            env.setenv(variable, value)
        get_settings.cache_clear()
        try:
            db.upgrade(url)
            with psycopg.connect(url, autocommit=True) as conn:
                N.land(conn, [
                    N.eml(drop, "nit", "NIT caustic soda", {"NIT-0417.pdf": N.text_pdf(NIT)}),
                    N.eml(drop, "corr", "Corrigendum NIT caustic soda",
                          {"corrigendum.pdf": N.scanned_pdf(CORRIGENDUM)}, day=1),
                    N.eml(drop, "later", "Tender hydrogen peroxide", {"gem.pdf": N.text_pdf(LATER)}),
                    N.eml(drop, "closed", "Tender IOCL", {"iocl.pdf": N.text_pdf(CLOSED)}),
                    N.eml(drop, "soon", "Tender NTPC", {"ntpc.pdf": N.text_pdf(SOON)}),
                    N.eml(drop, "ten", "Tender GAIL", {"gail.pdf": N.text_pdf(TEN_DAYS)}),
                    N.eml(drop, "bad", "Tender notice damaged", {"damaged.pdf": N.CORRUPT_PDF}),
                    N.eml(drop, "crm", "Rate enquiry", {"enquiry.pdf": N.text_pdf(CRM)},
                          mailbox="sales@pebbledemo.in"),
                ])  # fmt: skip
                for subject in ("NIT caustic soda", "Corrigendum NIT caustic soda",
                                "Tender hydrogen peroxide", "Tender IOCL", "Tender NTPC",
                                "Tender GAIL", "Tender notice damaged"):  # fmt: skip
                    N.predict(conn, subject, "tender")
                N.predict(conn, "Rate enquiry", "crm")
                N.stock_master(conn)
            result = dg.materialize(
                [tender_documents], resources={"warehouse": WarehouseResource(database_url=url)}
            )
            assert result.success
            invocation = _dbt_build()
            failed = _failures(invocation)
            assert invocation.is_successful() and not failed, failed
            ran = {r["unique_id"] for r in invocation.get_artifact("run_results.json")["results"]}
            with psycopg.connect(url) as conn, conn.cursor(row_factory=dict_row) as cur:
                rows = cur.execute("SELECT * FROM marts.tenders").fetchall()
            yield {"url": url, "ran": ran, "rows": {r["tender_no"]: r for r in rows}}
        finally:
            get_settings.cache_clear()
            with psycopg.connect(pg_server_url, autocommit=True) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


@pytest.fixture
def conn(world: dict) -> Iterator[psycopg.Connection]:
    with psycopg.connect(world["url"], autocommit=True) as c:
        yield c


def _key(number: str, organisation: str) -> str:
    """The mart's identity, computed here independently of its SQL."""
    import re

    no = re.sub(r"[^a-z0-9]+", "", number.lower())
    org = re.sub(r"\b(the|ltd|limited|pvt|private)\b", "", organisation.lower())
    org = re.sub(r"[^a-z0-9]+", "", org)
    return "tender:" + hashlib.md5(f"{no}|{org}".encode()).hexdigest()


def _ist(at: datetime) -> datetime:
    return at.astimezone(N.IST)


# --- the mart -------------------------------------------------------------------------------


def test_the_tender_models_data_and_unit_tests_ran(world: dict) -> None:
    ran = world["ran"]
    assert {"model.pebble.stg_tender__documents", "model.pebble.tenders"} <= ran
    unit = {u for u in ran if u.startswith("unit_test.pebble.")}
    assert {
        "unit_test.pebble.stg_tender__documents.tender_fields_are_typed_and_odd_values_are_null",
        "unit_test.pebble.tenders.tenders_are_deduplicated_by_number_and_organisation_latest_kept",
    } <= unit
    assert any(u.startswith("test.pebble.unique_tenders_tender_id") for u in ran)


def test_one_row_per_tender_the_corrigendum_kept(world: dict) -> None:
    rows = world["rows"]
    # seven notices read (the CRM mail's PDF is none), the NIT and its corrigendum one tender
    assert set(rows) == {"BPCL-MR-TN-2026-0417", LATER.tender_no, CLOSED.tender_no,
                         SOON.tender_no, TEN_DAYS.tender_no, None}  # fmt: skip
    bpcl = rows["BPCL-MR-TN-2026-0417"]
    assert bpcl["tender_id"] == _key(NIT.tender_no, NIT.organisation)
    assert bpcl["tender_id"] == _key(CORRIGENDUM.tender_no, CORRIGENDUM.organisation)
    assert bpcl["document_count"] == 2
    assert bpcl["filename"] == "corrigendum.pdf" and bpcl["text_method"] == "ocr"
    assert bpcl["organisation"] == "BHARAT PETROLEUM CORPORATION LTD"
    assert _ist(bpcl["bid_end_at"]) == CORRIGENDUM.bid_end
    assert bpcl["days_to_bid_end"] == 6
    assert bpcl["matched_products"] == ["Caustic Soda Flakes", "Soda Ash Light"]
    assert [i["quantity"] for i in bpcl["items"]] == [20, 500]
    assert bpcl["emd_amount_inr"] == 37000 and bpcl["estimated_value_inr"] == 1850000
    assert bpcl["received_at"] == datetime(2026, 11, 3, 10, 0, tzinfo=N.IST)
    assert bpcl["thread_key"] and bpcl["email_key"]
    # every field keeps its evidence and confidence; the least confidence is OCR's
    tender_no = bpcl["fields"]["tender_no"]
    assert "BPCL-MR-TN-2026-0417" in tender_no["evidence"] and 0 < tender_no["confidence"] <= 1
    assert float(bpcl["min_confidence"]) == min(
        f["confidence"] for f in bpcl["fields"].values() if f["value"] not in (None, "", [])
    )

    assert rows[CLOSED.tender_no]["days_to_bid_end"] == -3
    assert rows[LATER.tender_no]["matched_products"] == ["Hydrogen Peroxide 50%"]
    assert rows[LATER.tender_no]["text_method"] == "text_layer"


def test_an_unreadable_notice_is_a_tender_of_its_own_with_its_error(
    world: dict, conn: psycopg.Connection
) -> None:
    damaged = world["rows"][None]
    (sha,) = conn.execute(
        "SELECT sha256 FROM raw.email_attachments WHERE filename = 'damaged.pdf'"
    ).fetchone()
    assert damaged["tender_id"] == f"tender:{sha}" and damaged["content_sha256"] == sha
    assert damaged["text_method"] == "none" and "PDF" in damaged["error"]
    assert damaged["items"] == [] and damaged["matched_products"] == []
    assert damaged["bid_end_at"] is None and damaged["min_confidence"] is None


# --- the Tenders page -----------------------------------------------------------------------


def _page(user: User, **params: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["pebble_user"] = user
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def _list(at: AppTest):
    for frame in at.dataframe:
        if "days_left" in frame.value.columns:
            return frame.value
    raise AssertionError("no tender list on the page")


def _table(at: AppTest, column: str):
    for frame in at.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with {column} on the page")


def _decisions(conn: psycopg.Connection, tender_id: str) -> list[tuple]:
    return conn.execute(
        "SELECT entity_version, actor, payload ->> 'decision', payload ->> 'note'"
        " FROM ops.events WHERE event_type = 'TenderDecided' AND entity_id = %s"
        " ORDER BY entity_version",
        (tender_id,),
    ).fetchall()


def _tender_id(world: dict, number: str | None) -> str:
    return world["rows"][number]["tender_id"]


def test_open_tenders_first_by_bid_end_due_soon_highlighted(world: dict) -> None:
    at = _page(SALES)
    assert not at.exception and not at.error
    shown = _list(at)
    assert list(shown["tender_no"].fillna("")) == [SOON.tender_no, "BPCL-MR-TN-2026-0417",
                                                   TEN_DAYS.tender_no, LATER.tender_no, ""]  # fmt: skip
    assert list(shown["due_soon"]) == [True, True, False, False, False]
    assert list(shown["days_left"][:4]) == [2, 6, 10, 20]
    assert shown["estimated_value"][0] == "₹18,50,000"  # Indian digit grouping
    assert at.query_params["status"] == "open"
    at.radio(key="tenders_status").set_value("all").run()
    assert list(_list(at)["tender_no"])[-1] == CLOSED.tender_no  # closed ones last
    assert list(_list(at)["status"])[-1] == "closed"


def test_the_tender_card_shows_every_field_with_evidence_and_how_the_text_came(
    world: dict,
) -> None:
    at = _page(SALES, tender=_tender_id(world, "BPCL-MR-TN-2026-0417"))
    assert not at.exception
    texts = [t.value for t in at.text]
    assert "Tender BPCL-MR-TN-2026-0417" in texts
    assert any(t.startswith("Text: read by OCR") and "2 notice(s)" in t for t in texts)
    fields = _table(at, "evidence").set_index("field")
    assert list(fields.index[:4]) == ["Tender no.", "Organisation", "Items", "Estimated value"]
    assert fields.loc["EMD", "value"] == "₹37,000"
    assert "Earnest Money Deposit" in fields.loc["EMD", "evidence"]
    assert 0 < fields.loc["Bid end", "confidence"] <= 1
    assert fields.loc["Pre-bid meeting", "value"] == "not found"
    items = _table(at, "matched_product")
    assert list(items["matched_product"]) == ["Caustic Soda Flakes", "Soda Ash Light"]
    assert [w.value for w in at.warning] == ["Bid due within 7 days."]
    # the notice's own text is plain text, never Markdown
    assert any("NOTICE INVITING TENDER" in t for t in texts)
    assert not [m for m in at.markdown if "Bharat" in m.value or "BHARAT" in m.value]

    damaged = _page(SALES, tender=_tender_id(world, None))
    assert [e.value for e in damaged.error] == [
        "This notice could not be read; open the mail's attachment."
    ]


def test_sales_record_a_bid_decision_with_a_note(world: dict, conn: psycopg.Connection) -> None:
    tender_id = _tender_id(world, LATER.tender_no)
    at = _page(SALES, tender=tender_id)
    at.radio(key="tender_decision").set_value("bid")
    at.text_area(key="tender_note").input("Hydrogen peroxide in stock; quote 5% under L1")
    at.button[[b.label for b in at.button].index("Record decision")].click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Decision recorded: Bid."]
    assert _decisions(conn, tender_id) == [
        (1, "priya", "bid", "Hydrogen peroxide in stock; quote 5% under L1")
    ]
    assert any(t.startswith("Decision: Bid by priya") for t in (x.value for x in at.text))
    view = conn.execute(
        "SELECT decision, version FROM ops.tender_decisions WHERE tender_id = %s", (tender_id,)
    ).fetchone()
    assert view == ("bid", 1)

    # no bid needs a note: refused without one, nothing written
    at.radio(key="tender_decision").set_value("no_bid")
    at.text_area(key="tender_note").input("")
    at.button[[b.label for b in at.button].index("Record decision")].click().run()
    assert [e.value for e in at.error] == ["Not saved."]
    assert len(_decisions(conn, tender_id)) == 1


def test_a_decision_on_a_stale_card_is_a_conflict(world: dict, conn: psycopg.Connection) -> None:
    tender_id = _tender_id(world, TEN_DAYS.tender_no)
    at = _page(SALES, tender=tender_id)  # shows the tender undecided (version 0)
    tenders.decide(conn, OTHER_SALES, tender_id, "no_bid", "GAIL needs BIS licence we lack", 0)
    at.radio(key="tender_decision").set_value("bid")
    at.text_area(key="tender_note").input("we can supply")
    at.button[[b.label for b in at.button].index("Record decision")].click().run()
    assert [e.value for e in at.error] == ["Not saved: someone decided on this tender first."]
    assert any(t.startswith("rahul recorded a decision first") for t in (x.value for x in at.text))
    assert [d[1:3] for d in _decisions(conn, tender_id)] == [("rahul", "no_bid")]
    with pytest.raises(events.VersionConflict):
        tenders.decide(conn, SALES, tender_id, "bid", "again", 0)


def test_a_manager_reads_and_cannot_decide_even_by_calling_the_command(
    world: dict, conn: psycopg.Connection
) -> None:
    tender_id = _tender_id(world, CLOSED.tender_no)
    at = _page(MANAGER, tender=tender_id, status="all")
    assert not at.exception
    assert "Record decision" not in [b.label for b in at.button]
    assert "Sales record bid / no-bid decisions; managers read them." in [
        c.value for c in at.caption
    ]
    with pytest.raises(NotAllowed):
        tenders.decide(conn, MANAGER, tender_id, "bid", "", 0)
    with pytest.raises(NotAllowed):
        tenders.decide(conn, None, tender_id, "bid", "", 0)
    with pytest.raises(tenders.TenderError):
        tenders.decide(conn, SALES, "tender:nope", "bid", "", 0)
    assert _decisions(conn, tender_id) == []


@pytest.mark.parametrize("role", ["ops", "qc", "marketing"])
def test_other_roles_are_refused(world: dict, role: str) -> None:
    at = _page(User("someone", role))
    assert [e.value for e in at.error] == [f"Your role ({role}) may not open this page."]
    assert len(at.dataframe) == 0


# --- reminders on the Kanban page -----------------------------------------------------------


def test_bids_and_undecided_tenders_due_within_a_week_are_reminded_on_the_kanban(
    world: dict, conn: psycopg.Connection
) -> None:
    soon, bpcl = _tender_id(world, SOON.tender_no), _tender_id(world, "BPCL-MR-TN-2026-0417")
    due = tenders.due_reminders(conn)
    assert list(due["tender_id"]) == [soon, bpcl]  # undecided, soonest first

    tenders.decide(conn, SALES, soon, "no_bid", "NTPC pays in 180 days", 0)
    tenders.decide(conn, SALES, bpcl, "bid", None, 0)
    due = tenders.due_reminders(conn)
    assert list(due["tender_id"]) == [bpcl]  # a no-bid is no reminder; a bid stays

    at = AppTest.from_file(KANBAN, default_timeout=60)
    at.session_state["pebble_user"] = SALES
    at.query_params["view"] = "list"
    at.run()
    assert not at.exception
    assert "Tender bids due within 7 days (1)" in [c.value for c in at.caption]
    (line,) = [t.value for t in at.text if "bid end" in t.value]
    bid_end = CORRIGENDUM.bid_end.strftime("%d %b %Y %H:%M")
    assert line == (f"BPCL-MR-TN-2026-0417 · BHARAT PETROLEUM CORPORATION LTD · bid end {bid_end}"
                    " (due in 6 days) · Bid")  # fmt: skip

    # ops has no tender stream: no reminders on their board
    ops = AppTest.from_file(KANBAN, default_timeout=60)
    ops.session_state["pebble_user"] = User("omkar", "ops")
    ops.query_params["view"] = "list"
    ops.run()
    assert not ops.exception
    assert not [c for c in ops.caption if c.value.startswith("Tender bids due")]


def test_reminder_days_count_in_ist() -> None:
    tz = N.IST
    end = datetime(2026, 12, 10, 0, 30, tzinfo=tz)  # 19:00 UTC the day before
    now = datetime(2026, 12, 9, 20, 0, tzinfo=tz)
    assert tenders.days_left(end, now, tz) == 1
    assert tenders.days_left(end.astimezone(N.ZoneInfo("UTC")), now, tz) == 1
    assert tenders.days_left(end - timedelta(hours=1), now, tz) == 0


def test_the_as_of_day_is_today_when_it_is_set(
    world: dict, conn: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's world ends in the past and PEBBLE_AS_OF_DATE says on which day: the
    tenders open on that day are open, as the rest of the warehouse is aged."""
    tz = N.IST
    real = tenders.tender_list(conn)
    later_end = _ist(world["rows"][LATER.tender_no]["bid_end_at"])
    as_of = (later_end - timedelta(days=40)).date()  # 20 days ago: before every bid end
    from pebble.settings import get_settings

    monkeypatch.setenv("PEBBLE_AS_OF_DATE", as_of.isoformat())
    get_settings.cache_clear()
    try:
        now = tenders.current_time(tz)
        assert now.date() == as_of and now.tzinfo is not None
        pinned = tenders.tender_list(conn)
    finally:
        monkeypatch.delenv("PEBBLE_AS_OF_DATE")
        get_settings.cache_clear()
    left = dict(zip(pinned["tender_no"].fill_null(""), pinned["days_left"], strict=True))
    assert left[LATER.tender_no] == (later_end.date() - as_of).days == 40
    opened = (pinned["status"] == "open").sum()
    # twenty days ago the closed tender was still open
    assert opened == len(pinned) > (real["status"] == "open").sum()


def test_a_field_filled_from_an_earlier_notice_names_it() -> None:
    from app.tenders import field_rows

    rows = field_rows({
        "emd_amount": {"value": 50000, "evidence": "EMD: Rs. 50,000", "confidence": 0.9,
                       "from_notice": "nit.pdf"},
        "tender_fee": {"value": 1180, "evidence": "Tender fee Rs. 1,180", "confidence": 0.8},
    }).to_dicts()  # fmt: skip
    by_evidence = {r["evidence"] for r in rows if r["evidence"]}
    assert by_evidence == {"EMD: Rs. 50,000 (from nit.pdf)", "Tender fee Rs. 1,180"}
