"""The quality-control page (app/pages/qc.py) and its logic (app.qc) over QC marts built
from their own dbt SQL (tests.app.qc_marts).

QC and managers open it and see the lab's data; everyone else is refused. QC acknowledges
an alert with a note (an event; the alert then shows acknowledged); a manager cannot, also
when the command is called directly. A batch's COA is a PDF that says what the marts say.
The control limits and the out-of-spec marks are checked against an independent Python
computation, and the weekly throughput against the raw inspections.
"""

from __future__ import annotations

import io
import json
import statistics
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from app.qc import coa, queries
from app.qc.alerts import AlertError, acknowledge
from pebble.auth import NotAllowed, User
from tests.app import qc_marts
from tests.app.qc_marts import ASSAY, COMPANY_KEY, OUT_OF_CONTROL_INDEX, OUT_OF_SPEC_INDEX

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "app" / "pages" / "qc.py")
OUT_OF_SPEC_ALERT = f"out_of_spec:{qc_marts.doc(OUT_OF_SPEC_INDEX)}:1"
COA_ALERT = f"coa_pending:{qc_marts.batch(20)}"


@pytest.fixture
def lab(warehouse: psycopg.Connection) -> psycopg.Connection:
    qc_marts.build_qc_marts(warehouse)
    return warehouse


def _page(role: str, name: str = "qasim", **params: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["pebble_user"] = User(name, role)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


#: A column only each table of the page has (AppTest gives dataframes no keys).
TABLES = {"control": "control_low", "alerts": "alert_id", "coa": "coa_overdue",
          "results": "result_text"}  # fmt: skip


def _table(at: AppTest, name: str):
    for frame in at.dataframe:
        if TABLES[name] in frame.value.columns:
            return frame.value
    raise AssertionError(f"no {name} table on the page")


def _ack_events(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "SELECT entity_id, actor, payload ->> 'note', payload ->> 'alert_type', company_key,"
        " entity_version FROM ops.events WHERE event_type = 'QCAlertAcknowledged'"
        " ORDER BY event_seq"
    ).fetchall()


@pytest.mark.parametrize("role", ["qc", "manager"])
def test_qc_and_managers_see_the_lab(lab, role: str) -> None:
    at = _page(role, product=qc_marts.PRODUCT, param="Assay")
    assert not at.exception
    assert not at.error
    chart = _table(at, "control")
    assert list(chart["result_value"]) == ASSAY
    assert [m.value for m in at.metric][:1] == ["2"]  # two open alerts
    alerts = _table(at, "alerts")
    assert set(alerts["alert_id"]) == {OUT_OF_SPEC_ALERT, COA_ALERT}
    assert set(alerts["status"]) == {"open"}
    # the COA pending 30 days after dispatch, linked to its order and the company page
    status = _table(at, "coa")
    pending = status[status["batch_key"] == qc_marts.batch(20)].iloc[0]
    assert (pending["coa_status"], pending["coa_pending_days"], pending["coa_overdue"]) == (
        "pending", 30, True,
    )  # fmt: skip
    assert pending["sales_order_no"] == qc_marts.ORDER
    assert pending["company_page"] == f"company?key={COMPANY_KEY.replace(':', '%3A')}"
    charts = at.get("plotly_chart")  # control chart, throughput, order-to-result, pass rate
    assert len(charts) == 4
    for chart in charts:  # every chart downloads as a PNG from its toolbar
        config = json.loads(chart.proto.config)
        assert config["toImageButtonOptions"]["format"] == "png", config
        assert config["displayModeBar"] is True
    control = json.loads(charts[0].proto.spec)
    marks = {trace["name"]: trace for trace in control["data"]}
    assert {"spec min", "spec max", "LCL (mean - 3σ)", "UCL (mean + 3σ)"} <= set(marks)
    assert marks["out of spec"]["y"] == [ASSAY[OUT_OF_SPEC_INDEX]]
    assert marks["out of control (in spec)"]["y"] == [ASSAY[OUT_OF_CONTROL_INDEX]]
    assert ("Acknowledge" in [b.label for b in at.button]) is (role == "qc")
    assert at.query_params["product"] == qc_marts.PRODUCT  # a shareable view
    assert at.query_params["from"] == "2025-08-28" and at.query_params["to"] == "2025-11-25"


@pytest.mark.parametrize("role", ["sales", "ops", "marketing", "admin"])
def test_other_roles_are_refused_and_see_no_data(lab, role: str) -> None:
    at = _page(role, "someone")
    assert [e.value for e in at.error] == [f"Your role ({role}) may not open this page."]
    assert len(at.dataframe) == 0 and len(at.get("plotly_chart")) == 0 and len(at.metric) == 0


def test_qc_acknowledges_an_alert_with_a_note(lab) -> None:
    at = _page("qc")
    at.selectbox(key="qc_ack_alert").select(OUT_OF_SPEC_ALERT)
    at.button[[b.label for b in at.button].index("Acknowledge")].click().run()
    assert [e.value for e in at.error] == ["Not saved."]  # no note
    assert _ack_events(lab) == []

    at.text_input(key="qc_ack_note").input("Re-test ordered; batch on hold")
    at.button[[b.label for b in at.button].index("Acknowledge")].click().run()
    assert not at.exception
    assert _ack_events(lab) == [
        (OUT_OF_SPEC_ALERT, "qasim", "Re-test ordered; batch on hold", "out_of_spec",
         COMPANY_KEY, 1),
    ]  # fmt: skip
    assert [s.value for s in at.success] == [f"Alert {OUT_OF_SPEC_ALERT} acknowledged."]
    assert set(_table(at, "alerts")["alert_id"]) == {COA_ALERT}  # open ones only
    at.checkbox(key="qc_alert_acked").check().run()
    shown = _table(at, "alerts").set_index("alert_id")
    assert shown.loc[OUT_OF_SPEC_ALERT, "status"] == "acknowledged"
    assert shown.loc[OUT_OF_SPEC_ALERT, "acknowledged_by"] == "qasim"
    assert shown.loc[OUT_OF_SPEC_ALERT, "note"] == "Re-test ordered; batch on hold"
    assert shown.loc[COA_ALERT, "status"] == "open"
    assert [m.value for m in at.metric][:1] == ["1"]


def test_a_second_acknowledgement_on_a_stale_screen_is_a_conflict(lab) -> None:
    at = _page("qc")  # shows the alert open (version 0)
    acknowledge(lab, User("qamar", "qc"), COA_ALERT, "COA mailed today", 0)
    at.selectbox(key="qc_ack_alert").select(COA_ALERT)
    at.text_input(key="qc_ack_note").input("chasing the lab")
    at.button[[b.label for b in at.button].index("Acknowledge")].click().run()
    assert [e.value for e in at.error] == ["Not saved: someone acknowledged this alert first."]
    assert [e[1] for e in _ack_events(lab)] == ["qamar"]


def test_a_manager_cannot_acknowledge_even_by_calling_the_command(lab) -> None:
    at = _page("manager", "manisha")
    assert "Acknowledge" not in [b.label for b in at.button]
    with pytest.raises(NotAllowed):
        acknowledge(lab, User("manisha", "manager"), OUT_OF_SPEC_ALERT, "seen", 0)
    with pytest.raises(NotAllowed):
        acknowledge(lab, None, OUT_OF_SPEC_ALERT, "seen", 0)
    with pytest.raises(AlertError):
        acknowledge(lab, User("qasim", "qc"), "out_of_spec:nope:1", "seen", 0)
    assert _ack_events(lab) == []


def test_the_coa_pdf_states_the_batch_its_spec_results_and_verdict(lab) -> None:
    at = _page("qc", product=qc_marts.PRODUCT, batch=qc_marts.batch(OUT_OF_SPEC_INDEX))
    assert not at.exception
    results = _table(at, "results")
    assert list(results["param_name"]) == ["Assay", "Lead (Pb)"]
    assert "Download COA (PDF)" in str(at.get("download_button"))

    certificate = queries.certificate(lab, qc_marts.batch(OUT_OF_SPEC_INDEX))
    pdf = coa.certificate_pdf(certificate, issued_on=date(2025, 12, 31))
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    for expected in ("Certificate of Analysis", qc_marts.PRODUCT_NAME,
                     qc_marts.batch(OUT_OF_SPEC_INDEX), qc_marts.doc(OUT_OF_SPEC_INDEX),
                     qc_marts.ORDER, qc_marts.COMPANY_NAME, "Assay", "99 - 100", "98.8",
                     "Lead (Pb)", "max 0.005", "Fail", "DOES NOT CONFORM",
                     "2025-11-24", "2025-12-31"):  # fmt: skip
        assert expected in text, (expected, text)

    good = queries.certificate(lab, qc_marts.batch(0))
    assert good.conforms
    text = PdfReader(io.BytesIO(coa.certificate_pdf(good))).pages[0].extract_text()
    assert "CONFORMS to specification" in text and "DOES NOT" not in text
    assert "Fail" not in text


def test_control_limits_and_out_of_spec_marks_agree_with_an_independent_computation(
    lab,
) -> None:
    """mean +/- 3 sample sigma of the previous 20 results, from 5 on (Python statistics)."""
    period = queries.Period(date(2025, 1, 1), date(2025, 12, 31))
    chart = queries.control_chart(lab, qc_marts.PRODUCT, "Assay", period)
    assert chart.height == len(ASSAY)
    for i, row in enumerate(chart.iter_rows(named=True)):
        previous = ASSAY[max(0, i - 20) : i]
        assert row["control_n"] == len(previous)
        if len(previous) < 5:
            assert row["control_low"] is None and row["out_of_control"] is None
            continue
        mean, sigma = statistics.mean(previous), statistics.stdev(previous)
        assert row["control_low"] == pytest.approx(mean - 3 * sigma, abs=1e-6)
        assert row["control_high"] == pytest.approx(mean + 3 * sigma, abs=1e-6)
        outside = not (mean - 3 * sigma <= ASSAY[i] <= mean + 3 * sigma)
        assert row["out_of_control"] is outside, i
        assert row["in_spec"] is (99.0 <= ASSAY[i] <= 100.0), i
    flagged = [i for i, r in enumerate(chart.iter_rows(named=True)) if r["out_of_control"]]
    assert OUT_OF_CONTROL_INDEX in flagged and OUT_OF_SPEC_INDEX in flagged
    assert chart["in_spec"].to_list().count(False) == 1
    assert chart.row(OUT_OF_SPEC_INDEX, named=True)["out_of_spec_side"] == "below_min"


def test_weekly_throughput_and_pass_rate_agree_with_the_raw_inspections(lab) -> None:
    period = queries.Period(qc_marts.FIRST_DAY, qc_marts.FIRST_DAY + timedelta(days=40))
    weekly = queries.throughput(lab, period, "week")
    raw = dict(
        lab.execute(
            "SELECT date_trunc('week', doc_date)::date, count(*) FROM raw.focus_qc_inspections"
            " GROUP BY 1"
        ).fetchall()
    )
    assert dict(zip(weekly["week"], weekly["inspections"], strict=True)) == raw
    assert sum(weekly["failed"]) == 1
    rates = queries.pass_rate_by_product(lab, period)
    assert rates.row(0, named=True)["pass_rate"] == pytest.approx(24 / 25)
    # order to result: batch 21 inspected 2025-11-21, batch 24 on 2025-11-24, ordered 11-18
    days = lab.execute(
        "SELECT sum(order_to_result_days), sum(order_to_result_count)"
        " FROM marts.qc_throughput_daily"
    ).fetchone()
    assert days == (3 + 6, 2)


def test_before_the_marts_are_built_the_page_says_so(warehouse: psycopg.Connection) -> None:
    at = _page("qc")
    assert not at.exception
    assert at.info and "not built yet" in at.info[0].value
