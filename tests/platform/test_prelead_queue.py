"""The prelead screening queue over real landed data: duplicate candidates, score, decisions.

Data lands the way production lands it: a hand-written Tally ledger export (the customers the
CRM master knows) goes through the Tally parser and landing, two hand-written lead lists
through the prelead loader, and people's decisions through the event write path. dbt then
builds ``marts.prelead_queue`` and what it reads (``--select +prelead_queue``) through the
project's own dbt resource, with the prelead models' data and unit tests.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import psycopg
import pytest
from psycopg.rows import dict_row

from pebble import db


def gstin(state: str, pan: str) -> str:
    """A GSTIN with a right check character (the loader refuses any other)."""
    from ingest.prelead.rules import gstin_check_character

    first14 = f"{state}{pan}1Z"
    return first14 + gstin_check_character(first14)


ANAND = "AANCA1001A"  # Anand Dyes & Chemicals, a Tally customer
KAVERI = "AAKCK2002B"  # Kaveri Paints, a Tally customer in Maharashtra
LOTUS = "AALCL3003C"  # Lotus Rubber Private Limited, a Tally customer
LOTUS_PRODUCTS = "AALCL4004D"  # Lotus Rubber Products Private Limited: another firm
ZENITH = "AAZCZ5005E"  # a new lead nobody knows
DECCAN_CIN = "U24100MH2010PTC123456"

#: (name, GSTIN, email) of the Tally party ledgers (Sundry Debtors: customers).
LEDGERS = (
    ("Anand Dyes & Chemicals Private Limited", gstin("27", ANAND), "accounts@ananddyes.com"),
    ("Kaveri Paints Pvt Ltd", gstin("27", KAVERI), "purchase@kaveripaints.in"),
    ("Lotus Rubber Private Limited", gstin("27", LOTUS), "stores@lotusrubber.co.in"),
    (
        "Lotus Rubber Products Private Limited",
        gstin("27", LOTUS_PRODUCTS),
        "info@lotusproducts.in",
    ),
)

HEADER = (
    "Company Name", "GSTIN", "PAN", "CIN", "Contact Person", "Email", "Mobile", "State",
    "Industry", "Turnover", "Employees", "Remarks",
)  # fmt: skip

#: batch leads_a, spreadsheet rows 2.. (the header is row 1)
LEADS_A = (
    # 2: exact GSTIN of a customer, spelled differently
    ("Anand Dyes and Chemicals", gstin("27", ANAND), "", "", "R. Shah", "rshah@ananddyes.com",
     "98200 12345", "Maharashtra", "Textile processing", "50 Cr", "120",
     "Monthly requirement 5 MT"),
    # 3: Kaveri's Gujarat registration: another GSTIN, the same PAN inside it
    ("KPL Gujarat Unit", gstin("24", KAVERI), "", "", "", "kpl.gujarat@gmail.com",
     "9820012346", "Gujarat", "", "", "", ""),
    # 4: no identifier, a free-mail address: only the name can find Lotus Rubber
    ("Lotus Rubber Pvt. Ltd.", "", "", "", "Mehul", "lotusrubber.purchase@gmail.com",
     "9820012347", "Maharashtra", "", "", "", ""),
    # 5: nobody we know
    ("Zenith Glass Works", gstin("29", ZENITH), "", "", "Anil", "anil@zenithglass.in",
     "9820012348", "Karnataka", "", "", "", ""),
    # 6: approved before the build: becomes a CRM company of its own
    ("Deccan Specialities Pvt Ltd", "", "", DECCAN_CIN, "", "info@deccanspl.in",
     "9820012349", "Maharashtra", "", "", "", ""),
    # 7: the same CIN as row 6
    ("Deccan Speciality Chemicals", "", "", DECCAN_CIN, "", "", "9820012350",
     "Maharashtra", "", "", "", ""),
    # 8: rejected
    ("Omkar Travels", "", "", "", "", "omkar@omkartravels.com", "9820012351", "Goa",
     "Travel agency", "", "", ""),
    # 9: merged into Lotus Rubber
    ("Lotus Rubber (Nashik)", "", "", "", "", "", "9820012352", "Maharashtra", "", "", "",
     ""),
)  # fmt: skip

#: batch leads_b: Zenith again, from another list (the queue screens it twice)
LEADS_B = (
    ("ZENITH GLASS WORKS", gstin("29", ZENITH), "", "", "", "", "9820012353", "Karnataka",
     "", "", "", ""),
)  # fmt: skip


def _ledger_export() -> bytes:
    """A Tally ledger collection export holding LEDGERS, as Tally sends it."""
    objects = []
    for n, (name, number, email) in enumerate(LEDGERS, start=1):
        objects.append(
            f"""<TALLYMESSAGE><LEDGER NAME="{escape(name)}" RESERVEDNAME="">
 <GUID>ledger-{n}</GUID><MASTERID>{n}</MASTERID><ALTERID>{n}</ALTERID>
 <PARENT>Sundry Debtors</PARENT><LEDSTATENAME>Maharashtra</LEDSTATENAME>
 <INCOMETAXNUMBER>{number[2:12]}</INCOMETAXNUMBER><EMAIL>{email}</EMAIL>
 <PARTYGSTIN>{number}</PARTYGSTIN>
 <LEDGSTREGDETAILS.LIST><GSTIN>{number}</GSTIN><STATE>Maharashtra</STATE></LEDGSTREGDETAILS.LIST>
</LEDGER></TALLYMESSAGE>"""
        )
    body = "\n".join(objects)
    return f"<ENVELOPE><BODY><IMPORTDATA><REQUESTDATA>{body}</REQUESTDATA></IMPORTDATA></BODY></ENVELOPE>".encode()


def _write_csv(path: Path, rows: tuple[tuple[str, ...], ...]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _decide(conn: psycopg.Connection, event_type: str, row_no: int, **extra: Any) -> None:
    from pebble import events

    payload = {"batch": "leads_a", "row_no": row_no, **extra}
    event = events.new_event(event_type, actor="user:meera", payload=payload)
    events.append(conn, event, expected_version=0)


def _dbt_build() -> Any:
    """`dbt build` of prelead_queue and every model it reads, through the dbt resource the
    definitions use; the data and unit tests run are the prelead models' own (the
    upstream models' tests belong to their own suites and would only slow this one)."""
    from orchestration.definitions import defs

    select = "+prelead_queue path:models/intermediate/prelead path:models/marts/prelead"
    args = ["build", "--select", select, "--indirect-selection", "empty"]
    return defs.resources["dbt"].cli(args, raise_on_error=False).wait()


def _failures(invocation: Any) -> list[tuple[str, str, str]]:
    results = invocation.get_artifact("run_results.json")["results"]
    return [
        (r["unique_id"], r["status"], r["message"])
        for r in results
        if r["status"] not in ("success", "pass")
    ]


@pytest.fixture(scope="module")
def queue(
    pg_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, dict[str, Any]]]:
    """The built queue, by prelead_key (landing and the build are shared by the tests)."""
    import uuid

    from psycopg import conninfo, sql

    from ingest.prelead.sync import sync as prelead_sync
    from ingest.tally import land
    from ingest.tally.parse import iter_records
    from pebble.settings import get_settings

    name = f"pebble_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = conninfo.make_conninfo(pg_server_url, dbname=name)
    folder = tmp_path_factory.mktemp("leads")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DATABASE_URL", url)
        env.setenv("PEBBLE_HOME", str(tmp_path_factory.mktemp("pebble_home")))
        env.delenv(db.RESOLVED_URL_ENV, raising=False)
        env.delenv("PEBBLE_DAGSTER_DATABASE_URL", raising=False)
        for variable, value in db.dbt_env(url).items():  # the profile Pebble derives
            env.setenv(variable, value)
        get_settings.cache_clear()
        try:
            db.upgrade(url)
            with psycopg.connect(url, autocommit=True) as conn:
                assert land.land_ledgers(conn, iter_records(_ledger_export(), "ledgers")) == 4
                prelead_sync(
                    conn,
                    [
                        _write_csv(folder / "leads_a.csv", LEADS_A),
                        _write_csv(folder / "leads_b.csv", LEADS_B),
                    ],
                )
                invalid = conn.execute(
                    "SELECT batch, row_no, reason_codes FROM raw.prelead_rows WHERE NOT is_valid"
                ).fetchall()
                assert invalid == []  # every hand-written row is a valid lead
                _decide(conn, "PreleadApproved", 6)
                _decide(conn, "PreleadRejected", 8, reason="travel agency, not a buyer")
                _decide(conn, "PreleadMerged", 9, into_company_key=f"pan:{LOTUS}")
            invocation = _dbt_build()
            failed = _failures(invocation)
            assert invocation.is_successful() and not failed, failed
            with psycopg.connect(url) as conn, conn.cursor(row_factory=dict_row) as cur:
                rows = cur.execute("SELECT * FROM marts.prelead_queue").fetchall()
            yield {row["prelead_key"]: row for row in rows}
        finally:
            get_settings.cache_clear()
            with psycopg.connect(pg_server_url, autocommit=True) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


def _candidates(row: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["company_key"]: c for c in row["duplicate_candidates"]}


def test_one_row_per_valid_lead_with_stable_keys(queue: dict[str, dict[str, Any]]) -> None:
    expected = {f"leads_a:{n}" for n in range(2, 10)} | {"leads_b:2"}
    assert set(queue) == expected
    row = queue["leads_a:2"]
    assert row["prelead_id"] == "leads_a/2"
    assert row["batch"] == "leads_a" and row["row_no"] == 2 and row["loaded_at"] is not None
    assert row["phone"] == "+919820012345"  # E.164 from the loader
    assert row["email_domain"] == "ananddyes.com" and not row["is_free_mail"]
    assert queue["leads_a:3"]["is_free_mail"] and queue["leads_a:3"]["email_domain"] is None
    assert row["pan"] == ANAND  # the PAN inside the GSTIN
    assert row["industry"] == "textiles" and row["industry_source"] == "stated"
    assert row["turnover_inr_crore"] == 50 and row["employees"] == 120
    assert row["requirement_mt_month"] == 5


def test_exact_gstin_match_finds_the_customer(queue: dict[str, dict[str, Any]]) -> None:
    row = queue["leads_a:2"]
    assert row["best_candidate_key"] == f"pan:{ANAND}"
    assert row["best_candidate_match"] == "gstin" and row["best_candidate_score"] == 1
    best = row["duplicate_candidates"][0]
    assert best["company_key"] == f"pan:{ANAND}" and best["match"] == "gstin"
    assert best["name"] == "Anand Dyes & Chemicals Private Limited"
    assert {"gstin", "pan", "domain", "name"} <= set(best["matches"])
    assert best["source_systems"] == ["tally"]


def test_pan_inside_another_states_gstin_matches(queue: dict[str, dict[str, Any]]) -> None:
    row = queue["leads_a:3"]
    assert row["candidate_count"] == 1
    (candidate,) = row["duplicate_candidates"]
    assert candidate["company_key"] == f"pan:{KAVERI}"
    assert candidate["match"] == "pan" and candidate["matches"] == ["pan"]
    assert float(candidate["score"]) == 0.95


def test_fuzzy_name_finds_the_firm_and_not_its_namesake(
    queue: dict[str, dict[str, Any]],
) -> None:
    row = queue["leads_a:4"]  # "Lotus Rubber Pvt. Ltd.", on gmail.com, no identifier
    candidates = _candidates(row)
    assert set(candidates) == {f"pan:{LOTUS}"}  # not Lotus Rubber Products
    assert candidates[f"pan:{LOTUS}"]["match"] == "name"
    assert float(candidates[f"pan:{LOTUS}"]["score"]) >= 0.9
    assert row["best_candidate_key"] == f"pan:{LOTUS}"


def test_unrelated_lead_has_no_candidate(queue: dict[str, dict[str, Any]]) -> None:
    row = queue["leads_a:5"]
    assert row["duplicate_candidates"] == [] and row["candidate_count"] == 0
    assert row["best_candidate_key"] is None and row["best_candidate_score"] is None
    reasons = {r["factor"]: r for r in row["score_reasons"] if r["factor"] == "relationship"}
    assert reasons["relationship"] == {
        "factor": "relationship",
        "points": 0,
        "reason": "no existing relationship",
    }


def test_an_approved_lead_is_a_candidate_of_others_not_of_itself(
    queue: dict[str, dict[str, Any]],
) -> None:
    approved = queue["leads_a:6"]
    assert approved["candidate_count"] == 0  # its CRM company is made of itself alone
    (candidate,) = queue["leads_a:7"]["duplicate_candidates"]
    assert candidate["match"] == "cin" and candidate["source_systems"] == ["prelead"]
    assert candidate["matched_value"] == DECCAN_CIN


def test_pending_rows_with_one_gstin_are_flagged(queue: dict[str, dict[str, Any]]) -> None:
    first, second = queue["leads_a:5"], queue["leads_b:2"]
    assert first["pending_same_gstin_keys"] == ["leads_b:2"]
    assert second["pending_same_gstin_keys"] == ["leads_a:5"]
    assert not first["is_queue_duplicate"] and second["is_queue_duplicate"]
    assert not any(r["is_queue_duplicate"] for k, r in queue.items() if k != "leads_b:2")


def test_scores_are_bounded_and_explained(queue: dict[str, dict[str, Any]]) -> None:
    factors = ("industry", "state", "size", "relationship", "data_quality")
    for key, row in queue.items():
        assert 0 <= row["score"] <= 100, key
        points = {f: 0 for f in factors}
        for reason in row["score_reasons"]:
            assert reason["factor"] in factors and reason["reason"], (key, reason)
            points[reason["factor"]] += reason["points"]
        assert sum(points.values()) == row["score"], key
        assert [row[f"{f}_points"] for f in factors] == [points[f] for f in factors], key

    known = queue["leads_a:2"]  # textiles, Maharashtra, sizes, a customer, complete
    reasons = {r["reason"]: r["points"] for r in known["score_reasons"]}
    assert reasons["industry textiles"] == 25
    assert reasons["4 ERP companies in Maharashtra"] == 15
    assert known["size_points"] == 6 + 3 + 6  # 50 crore, 120 employees, 5 MT a month
    assert known["relationship_points"] == 20
    assert any(r.startswith("already a customer: Anand Dyes") for r in reasons)
    assert known["data_quality_points"] == 20
    assert known["score"] == 25 + 15 + 15 + 20 + 20

    bare = queue["leads_a:3"]  # free mail, unknown industry, a state without customers
    bare_reasons = {r["reason"]: r["points"] for r in bare["score_reasons"]}
    assert bare_reasons["industry unknown"] == 0
    assert bare_reasons["Gujarat: no ERP customers yet"] == 5
    assert bare_reasons["free-mail address"] == 1
    assert bare["score"] < known["score"]

    travel = queue["leads_a:8"]
    assert travel["industry"] == "services" and travel["industry_points"] == 0


def test_decisions_come_from_the_events(queue: dict[str, dict[str, Any]]) -> None:
    approved, rejected, merged = queue["leads_a:6"], queue["leads_a:8"], queue["leads_a:9"]
    assert (approved["decision"], approved["decided_by"]) == ("approved", "user:meera")
    assert approved["decided_at"] is not None and approved["decision_version"] == 1
    assert rejected["decision"] == "rejected"
    assert rejected["decision_reason"] == "travel agency, not a buyer"
    assert (merged["decision"], merged["merged_into"]) == ("merged", f"pan:{LOTUS}")
    pending = queue["leads_a:5"]
    assert pending["decision"] == "pending" and pending["decision_version"] == 0
    assert pending["decided_by"] is None and pending["decided_at"] is None
