"""Prelead screening queries and commands (app/prelead.py), against a real warehouse.

The raw rows are landed by the real loader from a CSV; the staging views are the dbt
models' own SQL (rendered with their macros); marts.prelead_queue and marts.crm_companies
are created from their yml contracts and filled from the landed rows (dbt never runs here).
The helpers at the top are shared with test_prelead_page.py."""

from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path
from typing import Any

import polars as pl
import psycopg
import pytest
import yaml
from psycopg import sql

from app import prelead
from ingest.prelead.land import load_file
from pebble import events
from pebble.auth import NotAllowed, User
from tests.app.conftest import contract_ddl, staging_views

ROOT = Path(__file__).resolve().parents[2]
DBT = ROOT / "dbt"
MARKETING = User("meera", "marketing")
MANAGER = User("vikram", "manager")
SALES = User("priya", "sales")
XSS = "<img src=x onerror=alert(1)>"

# valid GSTINs (right check character) and a mistyped one
GSTIN_A = "27AACCL1234F1ZX"
HEADER = ["Company Name", "GSTIN", "PAN", "Email", "Phone", "State", "Contact Person"]


def build_staging(conn: psycopg.Connection) -> None:
    staging_views(conn, "stg_prelead__batches", "stg_prelead__rows", "stg_ingest__rejects")


def build_marts(conn: psycopg.Connection) -> None:
    conn.execute("CREATE SCHEMA IF NOT EXISTS marts")
    conn.execute(contract_ddl("prelead_queue"))
    conn.execute(contract_ddl("crm_companies"))


def write_list(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def land(conn: psycopg.Connection, path: Path, batch: str) -> None:
    with psycopg.connect(conn.info.dsn, autocommit=True) as own:
        load_file(path, batch, own, workers=1)


def fill_queue(
    conn: psycopg.Connection, batch: str, per_row: dict[int, dict[str, Any]] | None = None
) -> None:
    """marts.prelead_queue rows for the batch's valid rows; ``per_row`` sets columns of a
    row (score, duplicate_candidates...)."""
    per_row = per_row or {}
    rows = conn.execute(
        "SELECT r.batch, r.row_no, r.company, r.gstin, coalesce(r.gstin_pan, r.pan), r.email,"
        " r.phone, r.state, r.state_code, r.contact_person, b.file_name, b.loaded_at"
        " FROM staging.stg_prelead__rows AS r JOIN staging.stg_prelead__batches AS b USING (batch)"
        " WHERE r.batch = %s AND r.is_valid ORDER BY r.row_no",
        (batch,),
    ).fetchall()
    for b, row_no, company, gstin, pan, email, phone, state, code, contact, file_name, at in rows:
        values: dict[str, Any] = {
            "prelead_key": f"{b}:{row_no}",
            "prelead_id": f"{b}/{row_no}",
            "batch": b,
            "row_no": row_no,
            "file_name": file_name,
            "loaded_at": at,
            "company_name": company,
            "contact_person": contact,
            "gstin": gstin,
            "pan": pan,
            "email": email,
            "email_domain": email.split("@", 1)[1] if email else None,
            "is_free_mail": False,
            "phone": phone,
            "state": state,
            "state_code": code,
            "decision": "pending",
            "decision_version": 0,
            "pending_same_gstin_keys": [],
            "is_queue_duplicate": False,
            "duplicate_candidates": [],
            "candidate_count": 0,
            "score": 50,
            "score_reasons": [
                {"factor": "industry", "points": 25, "reason": "industry rubber"},
                {"factor": "state", "points": 25, "reason": "12 ERP companies in Maharashtra"},
            ],
            "industry_points": 25,
            "state_points": 15,
            "size_points": 0,
            "relationship_points": 0,
            "data_quality_points": 10,
        } | per_row.get(row_no, {})
        if values["duplicate_candidates"]:
            values["candidate_count"] = len(values["duplicate_candidates"])
        for key in ("duplicate_candidates", "score_reasons"):
            values[key] = json.dumps(values[key])
        conn.execute(
            sql.SQL("INSERT INTO marts.prelead_queue ({}) VALUES ({})").format(
                sql.SQL(", ").join(map(sql.Identifier, values)),
                sql.SQL(", ").join(sql.Placeholder() * len(values)),
            ),
            list(values.values()),
        )


def add_company(conn: psycopg.Connection, key: str, name: str, **extra: Any) -> None:
    row = {"company_key": key, "name": name, "source_systems": ["tally"], "source_count": 1}
    row |= extra
    cols = [c["name"] for c in yaml.safe_load(
        (DBT / "models/marts/crm/crm_companies.yml").read_text())["models"][0]["columns"]]  # fmt: skip
    nullable = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'marts' "
        "AND table_name = 'crm_companies' AND is_nullable = 'NO'"
    ).fetchall()
    for (col,) in nullable:  # fill NOT NULL columns the test does not care about
        if col not in row:
            kind = conn.execute(
                "SELECT data_type FROM information_schema.columns WHERE table_schema = 'marts' "
                "AND table_name = 'crm_companies' AND column_name = %s",
                (col,),
            ).fetchone()[0]
            row[col] = {"ARRAY": [], "jsonb": "{}", "boolean": False, "text": ""}.get(kind, 0)
    assert set(row) <= set(cols)
    conn.execute(
        sql.SQL("INSERT INTO marts.crm_companies ({}) VALUES ({})").format(
            sql.SQL(", ").join(map(sql.Identifier, row)),
            sql.SQL(", ").join(sql.Placeholder() * len(row)),
        ),
        list(row.values()),
    )


def demo_batch(conn: psycopg.Connection, tmp_path: Path, batch: str = "expo_2026") -> None:
    """A lead list of 6 rows: 4 valid (one an XSS name), 2 invalid (a mistyped GSTIN, a
    PAN that disagrees with the GSTIN and a malformed email); scores 90, 85, 60, 82; row 3
    has a duplicate candidate, Lotus Rubber (pan:AACCL1234F)."""
    build_staging(conn)
    build_marts(conn)
    path = write_list(
        tmp_path / f"{batch}.csv",
        [
            ["Lotus Rubber Pvt Ltd", GSTIN_A, "", "asha@lotusrubber.in", "9820012345",
             "Maharashtra", "Asha"],
            ["Zenith Paints", "", "", "buy@zenithpaints.in", "9820099999", "Gujarat", ""],
            ["Lotus Rubber Products", "", "AACCL1234F", "info@lotus.in", "9820011111",
             "Maharashtra", ""],
            ["Typo Chemicals", "27AACCL1234F1Z6", "", "a@typo.in", "9820000001", "", ""],
            ["Mismatch Ltd", GSTIN_A, "AABCS1234K", "not-an-email", "9820000002", "", ""],
            [XSS, "", "", "x@evil.in", "9820000003", "", ""],
        ],
    )  # fmt: skip
    land(conn, path, batch)
    add_company(conn, "pan:AACCL1234F", "Lotus Rubber Products Private Limited",
                pan="AACCL1234F", gstins=[GSTIN_A], gstin_states=["27"])  # fmt: skip
    candidate = {
        "company_key": "pan:AACCL1234F",
        "name": "Lotus Rubber Products Private Limited",
        "match": "pan",
        "score": 0.95,
        "matches": ["pan"],
        "matched_value": "AACCL1234F",
        "source_systems": ["tally"],
    }
    fill_queue(
        conn,
        batch,
        {
            2: {"score": 90},
            3: {"score": 85},
            4: {"score": 60, "duplicate_candidates": [candidate],
                "best_candidate_name": candidate["name"], "best_candidate_match": "pan"},
            7: {"score": 82},
        },
    )  # fmt: skip


@pytest.fixture
def screening(warehouse: psycopg.Connection, tmp_path: Path) -> psycopg.Connection:
    demo_batch(warehouse, tmp_path)
    return warehouse


# --- tests ----------------------------------------------------------------------------------


def test_batches_list_counts_rows_and_live_decisions(screening: psycopg.Connection) -> None:
    batches = prelead.list_batches(screening)
    assert batches.height == 1
    b = batches.row(0, named=True)
    assert (b["batch"], b["rows"], b["valid"], b["invalid"]) == ("expo_2026", 6, 4, 2)
    assert (b["in_queue"], b["crm_candidates"], b["decided"], b["pending"]) == (4, 1, 0, 4)

    prelead.approve(screening, MARKETING, "expo_2026/2", 0)
    b = prelead.list_batches(screening).row(0, named=True)
    assert (b["decided"], b["pending"]) == (1, 3)


def test_page_is_sorted_by_score_with_reasons_and_filters(screening: psycopg.Connection) -> None:
    page = prelead.queue_page(screening, prelead.Filters("expo_2026", decision="all"))
    assert page["row_no"].to_list() == [2, 3, 7, 4]
    assert page["score"].to_list() == [90, 85, 82, 60]
    assert page["reasons"][0] == "industry rubber 25; 12 ERP companies in Maharashtra 25"
    assert page.filter(pl.col("row_no") == 7)["company_name"].item() == XSS

    top = prelead.Filters("expo_2026", min_score=80, no_candidates=True)
    assert prelead.queue_count(screening, top) == 3
    second = prelead.queue_page(screening, top, page=1, page_size=2)
    assert second["row_no"].to_list() == [7]
    searched = prelead.Filters("expo_2026", decision="all", search="lotus")
    assert sorted(prelead.queue_page(screening, searched)["row_no"].to_list()) == [2, 4]


def test_invalid_rows_show_their_problems(screening: psycopg.Connection) -> None:
    frame, total = prelead.invalid_rows(screening, "expo_2026")
    assert total == 2
    problems = dict(zip(frame["row_no"].to_list(), frame["problems"].to_list(), strict=True))
    assert problems[5].startswith("bad GSTIN checksum: GSTIN check character is 6")
    assert "PAN and GSTIN disagree" in problems[6]
    assert "malformed email" in problems[6]


def test_row_detail_shows_candidates_beside_the_lead(screening: psycopg.Connection) -> None:
    detail = prelead.row_detail(screening, "expo_2026/4")
    assert detail is not None and detail.problems == "" and detail.version == 0
    comparison = {r["field"]: r for r in detail.comparison.iter_rows(named=True)}
    column = "candidate 1: pan:AACCL1234F"
    assert comparison["pan"]["lead"] == "AACCL1234F"
    assert comparison["pan"][column] == "AACCL1234F"
    assert comparison["pan"]["match 1"] == "same"
    assert comparison["name"]["match 1"] == ""
    assert comparison["gstin"][column] == GSTIN_A
    assert prelead.candidate_frame(detail.candidates)["match"].to_list() == ["pan"]
    assert prelead.row_detail(screening, "expo_2026/99") is None


def test_decisions_redecide_and_conflict(screening: psycopg.Connection) -> None:
    prelead.approve(screening, MARKETING, "expo_2026/2", 0)
    with pytest.raises(ValueError, match="needs a reason"):
        prelead.reject(screening, MARKETING, "expo_2026/3", 0, reason="  ")
    prelead.reject(screening, MARKETING, "expo_2026/3", 0, reason="a trader, not a user")
    with pytest.raises(ValueError, match="no CRM company"):
        prelead.merge(screening, MARKETING, "expo_2026/4", 0, into_company_key="pan:NOPE")
    prelead.merge(screening, MARKETING, "expo_2026/4", 0, into_company_key="pan:AACCL1234F")

    # re-decided at the version the view gives; a stale version is a clear conflict
    detail = prelead.row_detail(screening, "expo_2026/3")
    assert (detail.decision, detail.version, detail.decided_by) == ("rejected", 1, "meera")
    prelead.approve(screening, User("anita", "marketing"), "expo_2026/3", detail.version)
    with pytest.raises(events.VersionConflict) as caught:
        prelead.reject(screening, MARKETING, "expo_2026/3", 1, reason="late")
    message = prelead.conflict_message(caught.value)
    assert "approved by anita" in message and "version 2, you saw 1" in message

    state = dict(
        screening.execute(
            "SELECT prelead_id, decision FROM ops.prelead_decisions WHERE batch = 'expo_2026'"
        ).fetchall()
    )
    assert state == {"expo_2026/2": "approved", "expo_2026/3": "approved", "expo_2026/4": "merged"}
    merged = screening.execute(
        "SELECT merged_into, company_key FROM ops.prelead_decisions WHERE prelead_id = %s",
        ("expo_2026/4",),
    ).fetchone()
    assert merged == ("pan:AACCL1234F", "pan:AACCL1234F")

    history = prelead.row_history(screening, "expo_2026/3")
    assert history["event"].to_list() == ["PreleadRejected", "PreleadApproved"]
    assert history["by"].to_list() == ["meera", "anita"]
    assert history["reason"].to_list() == ["a trader, not a user", None]


def test_only_marketing_decides(screening: psycopg.Connection) -> None:
    for user in (MANAGER, SALES, None):
        with pytest.raises(NotAllowed):
            prelead.approve(screening, user, "expo_2026/2", 0)
        with pytest.raises(NotAllowed):
            prelead.bulk_decide(screening, user, prelead.Filters("expo_2026"), "approved")
        with pytest.raises(NotAllowed):
            prelead.store_upload(b"Company\nA\n", "a.csv", user, folder=Path("/nonexistent"))
    assert screening.execute("SELECT count(*) FROM ops.events").fetchone()[0] == 0


def test_bulk_approve_writes_exactly_the_selected_rows(screening: psycopg.Connection) -> None:
    prelead.reject(screening, MARKETING, "expo_2026/7", 0, reason="no fit")
    top = prelead.Filters("expo_2026", decision="all", min_score=80, no_candidates=True)
    with pytest.raises(prelead.SelectionChanged):
        prelead.bulk_decide(screening, MARKETING, top, "approved", expected_rows=2)
    result = prelead.bulk_decide(
        screening, MARKETING, top, "approved", reason="score >= 80", expected_rows=3
    )
    assert result.rows == 3
    rows = screening.execute(
        "SELECT entity_id, event_type, entity_version, actor, payload ->> 'reason' "
        "FROM ops.events ORDER BY event_seq"
    ).fetchall()
    assert rows == [
        ("expo_2026/7", "PreleadRejected", 1, "meera", "no fit"),
        ("expo_2026/2", "PreleadApproved", 1, "meera", "score >= 80"),
        ("expo_2026/3", "PreleadApproved", 1, "meera", "score >= 80"),
        ("expo_2026/7", "PreleadApproved", 2, "meera", "score >= 80"),
    ]
    # nothing pending is left in that selection; row 4 (a candidate) was not touched
    pending = prelead.Filters("expo_2026", min_score=80, no_candidates=True)
    assert prelead.queue_count(screening, pending) == 0
    assert prelead.queue_count(screening, prelead.Filters("expo_2026")) == 1
    assert prelead.bulk_decide(screening, MARKETING, pending, "approved").rows == 0


def test_bulk_over_stale_versions_writes_nothing(screening: psycopg.Connection) -> None:
    items = [("expo_2026/2", 0), ("expo_2026/3", 0)]
    prelead.approve(screening, User("anita", "marketing"), "expo_2026/3", 0)
    with pytest.raises(events.VersionConflict):
        prelead.bulk_decide_rows(screening, MARKETING, items, "rejected", reason="dup")
    assert screening.execute("SELECT count(*) FROM ops.events").fetchone()[0] == 1


def test_export_lists_who_what_when_and_why(screening: psycopg.Connection) -> None:
    prelead.reject(screening, MARKETING, "expo_2026/7", 0, reason='=HYPERLINK("x")')
    prelead.approve(screening, User("anita", "marketing"), "expo_2026/7", 1)
    data = prelead.decisions_csv(screening, "expo_2026")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [(r["decision"], r["decided_by"], r["is_current"]) for r in rows] == [
        ("rejected", "meera", "False"),
        ("approved", "anita", "True"),
    ]
    assert rows[0]["reason"] == '\'=HYPERLINK("x")'  # neutralised for spreadsheets
    assert rows[0]["company_name"] == XSS and rows[0]["decided_at"].startswith("20")
    newest = prelead.decision_history(screening, "expo_2026", newest=1)
    assert newest.select("decided_by", "is_current").rows() == [("anita", True)]
    assert prelead.decision_count(screening, "expo_2026") == 2


def test_store_upload_is_atomic_and_follows_the_ledger(
    screening: psycopg.Connection, tmp_path: Path
) -> None:
    drop = tmp_path / "drops"
    data = b"Company Name,Email\nNew Co,a@new.in\n"
    stored = prelead.store_upload(data, "../../etc/New List.csv", MARKETING, conn=screening,
                                  folder=drop)  # fmt: skip
    assert stored.path == drop.resolve() / "New_List.csv" and stored.batch == "New_List"
    assert stored.path.read_bytes() == data
    assert sorted(p.name for p in drop.iterdir()) == [".uploading", "New_List.csv"]
    assert list((drop / ".uploading").iterdir()) == []  # nothing half-written is left
    again = prelead.store_upload(data + b"Other,b@o.in\n", "New List.csv", MARKETING,
                                 conn=screening, folder=drop)  # fmt: skip
    assert again.path.name == "New_List_2.csv"  # never replaces a file
    # a batch name already loaded is not reused; the same bytes as a loaded batch are refused
    assert prelead.store_upload(data + b"X,c@x.in\n", "expo_2026.csv", MARKETING,
                                conn=screening, folder=drop).batch == "expo_2026_2"  # fmt: skip
    loaded = (tmp_path / "expo_2026.csv").read_bytes()
    with pytest.raises(prelead.UploadRefused, match="already loaded as batch expo_2026"):
        prelead.store_upload(loaded, "copy.csv", MARKETING, conn=screening, folder=drop)
    with pytest.raises(prelead.UploadRefused, match="no company column"):
        prelead.store_upload(b"Name,Email\nA,b@c.in\n", "x.csv", MARKETING, folder=drop)
    with pytest.raises(prelead.UploadRefused, match=r"\.csv or \.xlsx"):
        prelead.store_upload(b"MZ", "x.exe", MARKETING, folder=drop)
    assert sorted(p.name for p in drop.glob("*.csv")) == [
        "New_List.csv", "New_List_2.csv", "expo_2026_2.csv"]  # fmt: skip

    status = prelead.upload_status(screening, stored.path, stored.batch)
    assert status.state == "queued"
    screening.execute(
        "INSERT INTO ops.drop_files (source, path, sha256, outcome) VALUES "
        "('prelead', %s, %s, 'running')",
        (str(stored.path), stored.sha256),
    )
    assert prelead.upload_status(screening, stored.path, stored.batch).state == "landing"
    land(screening, stored.path, stored.batch)
    status = prelead.upload_status(screening, stored.path, stored.batch)
    assert status.state == "landed" and status.counts["rows"] == 1 and not status.in_queue
    assert "after the models are rebuilt" in status.message

    screening.execute(
        "INSERT INTO ops.drop_files (source, path, sha256, outcome, reason) VALUES "
        "('prelead', %s, 'x', 'refused', 'symbolic link not followed')",
        (str(again.path),),
    )
    refused = prelead.upload_status(screening, again.path, again.batch)
    assert refused.state == "refused" and "symbolic link" in refused.message


def test_approved_rows_enter_the_crm_source_records() -> None:
    """What 'approve' promises: the CRM's source records (int_crm__erp_records, unioned
    into int_crm__source_records) take every prelead row whose decision in
    ops.prelead_decisions is approved or merged (a merge keeps its company)."""
    model = (DBT / "models/intermediate/crm/int_crm__erp_records.sql").read_text()
    assert "source('ops', 'prelead_decisions')" in model
    assert "d.decision in ('approved', 'merged')" in model
    assert "case when d.decision = 'merged' then d.merged_into end" in model


def test_the_app_role_can_run_every_query_and_command(
    screening: psycopg.Connection, pebble_env: str, tmp_path: Path
) -> None:
    """The app connects as its own role (marts, staging, ops readable; ops.events its only
    insert): every query and command of the page works under it."""
    from pebble import db

    role = f"pebble_app_{uuid.uuid4().hex[:8]}"
    try:
        url = db.ensure_app_role(pebble_env, role=role, password_file=tmp_path / "pw")
        assert url is not None
        with psycopg.connect(url, autocommit=True) as app:
            assert app.execute("SELECT current_user").fetchone()[0] == role
            assert prelead.list_batches(app)["pending"].to_list() == [4]
            filters = prelead.Filters("expo_2026", min_score=80, no_candidates=True)
            assert prelead.queue_page(app, filters).height == 3
            assert prelead.invalid_rows(app, "expo_2026")[1] == 2
            assert prelead.row_detail(app, "expo_2026/4").candidates
            assert prelead.search_companies(app, "lotus").height == 1
            assert prelead.bulk_decide(app, MARKETING, filters, "approved", expected_rows=3).rows
            assert prelead.decisions_csv(app, "expo_2026").count(b"\n") == 4
            assert prelead.upload_status(app, tmp_path / "x.csv", "x").state == "queued"
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute("SELECT count(*) FROM raw.prelead_rows")
    finally:
        exists = screening.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        if exists:
            screening.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            screening.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
