"""The pipeline board page (app/pages/pipeline.py): stages with their deal counts and values
(₹, Indian grouping), inferred deals with people's events over them, moves and closes from
the page's menu (the drag is driven in tests/app/test_pipeline_browser.py), a new deal, the
conflict message, the filters in the URL, a manager reading only and an admin's stages."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from pebble import deals
from pebble.auth import User
from tests.app.conftest import mart

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "app" / "pages" / "pipeline.py")
PRIYA = User("priya", "sales")
ZINC = "deal:" + "a" * 32
TITANIA = "deal:" + "b" * 32


@pytest.fixture
def pipeline(warehouse: psycopg.Connection) -> psycopg.Connection:
    mart(
        warehouse,
        "deal_pipeline",
        [
            {"deal_key": ZINC, "thread_key": "T1", "company_key": "pan:AACCA1234F",
             "company_name": "Acme Rubber", "product": "Zinc Oxide", "value_inr": 386400,
             "stage": "sample", "is_open": True, "owner": "ravi", "days_in_stage": 9},
            {"deal_key": TITANIA, "thread_key": "T2", "company_key": "pan:AAFCB5678K",
             "company_name": "Bharat Paints", "product": "Titanium Dioxide",
             "value_inr": 1250000, "stage": "quoted", "is_open": True, "owner": "priya",
             "days_in_stage": 2},
        ],
    )  # fmt: skip
    return warehouse


def _page(user: User | None = PRIYA, **params: str) -> AppTest:
    """A new session of the page (the previous session's cached board dropped)."""
    st.cache_data.clear()
    at = AppTest.from_file(PAGE, default_timeout=60)
    if user is not None:
        at.session_state["pebble_user"] = user
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def _summary(at: AppTest) -> dict[str, tuple[int, str]]:
    for frame in at.dataframe:
        if list(frame.value.columns) == ["stage", "deals", "value"]:
            return {r.stage: (r.deals, r.value) for r in frame.value.itertuples()}
    raise AssertionError("no stage summary on the page")


def _board_args(at: AppTest) -> list[dict]:
    """The columns handed to the drag-and-drop component."""
    (component,) = [e for e in at.get("component_instance")]
    return json.loads(component.proto.json_args)["columns"]


def _deal_events(conn: psycopg.Connection, deal_id: str) -> list[tuple]:
    return conn.execute(
        "SELECT entity_version, event_type, actor, payload FROM ops.events"
        " WHERE entity_type = 'deal' AND entity_id = %s ORDER BY entity_version",
        (deal_id,),
    ).fetchall()


def _click(at: AppTest, key: str) -> AppTest:
    return at.button(key=key).click().run()


def test_stages_show_counts_values_and_the_deals(pipeline) -> None:
    at = _page()
    assert not at.exception
    assert _summary(at) == {
        "Enquiry": (0, "₹0"), "Quoted": (1, "₹12,50,000"), "Sample sent": (1, "₹3,86,400"),
        "Negotiation": (0, "₹0"), "Ordered": (0, "₹0"), "Won": (0, "₹0"), "Lost": (0, "₹0"),
    }  # fmt: skip
    assert "2 deals in the Sales pipeline · 2 open, worth ₹16,36,400" in [
        c.value for c in at.caption
    ]
    columns = {c["key"]: c for c in _board_args(at)}
    assert list(columns) == ["enquiry", "quoted", "sample_sent", "negotiation", "ordered",
                             "won", "lost"]  # fmt: skip
    assert columns["sample_sent"]["heading"] == "Sample sent · ₹3,86,400"
    (card,) = columns["sample_sent"]["cards"]
    assert card["subject"] == "Acme Rubber"
    assert card["lines"] == ["Zinc Oxide · ₹3,86,400", "ravi · 9 days in stage"]
    assert (card["card_id"], card["version"], card["status"]) == (ZINC, 0, "sample_sent")
    assert "Create deal" in [b.label for b in at.button]


def test_move_and_close_from_the_menu(pipeline) -> None:
    at = _page()
    at.selectbox(key="pipeline_act_deal").select(ZINC)
    at.selectbox(key="pipeline_act_to").select("negotiation")
    at = _click(at, "pipeline_act_save")
    assert not at.exception
    assert [s.value for s in at.success] == ["Saved."]
    assert _deal_events(pipeline, ZINC) == [
        (1, "DealMoved", "priya", {"to": "negotiation", "from_stage": "sample_sent"})
    ]
    assert _summary(at)["Negotiation"] == (1, "₹3,86,400")
    assert _summary(at)["Sample sent"] == (0, "₹0")

    # lost needs a reason: refused, nothing written, then closed with one
    at.selectbox(key="pipeline_act_deal").select(ZINC)
    at.selectbox(key="pipeline_act_to").select("lost")
    at = _click(at, "pipeline_act_save")
    assert [e.value for e in at.error] == ["Not saved."]
    assert "a lost deal needs a reason" in [t.value for t in at.text][0]
    assert len(_deal_events(pipeline, ZINC)) == 1
    at.text_input(key="pipeline_act_reason").input("Bought from a competitor at ₹236/kg")
    at = _click(at, "pipeline_act_save")
    assert _deal_events(pipeline, ZINC)[-1] == (
        2, "DealClosed", "priya", {"outcome": "lost", "reason": "Bought from a competitor at ₹236/kg"}
    )  # fmt: skip
    assert _summary(at)["Lost"] == (1, "₹3,86,400")


def test_a_drop_on_lost_asks_for_the_reason(pipeline) -> None:
    at = _page()
    at.session_state["pipeline_close"] = (TITANIA, "lost", 0)  # what a drop on Lost leaves
    at = at.run()
    assert "Close the deal with Bharat Paints as lost" in [t.value for t in at.text]
    at.text_input(key="pipeline_close_reason").input("No budget this year")
    at = _click(at, "pipeline_close_confirm")
    assert _deal_events(pipeline, TITANIA) == [
        (1, "DealClosed", "priya", {"outcome": "lost", "reason": "No budget this year"})
    ]
    assert "pipeline_close_confirm" not in [b.key for b in at.button]


def test_someone_else_s_move_is_a_conflict(pipeline) -> None:
    at = _page()  # shows the zinc deal at version 0
    deals.move_deal(pipeline, User("ravi", "sales"), ZINC, "ordered", 0)
    at.selectbox(key="pipeline_act_deal").select(ZINC)
    at.selectbox(key="pipeline_act_to").select("negotiation")
    at = _click(at, "pipeline_act_save")  # on the screen drawn before ravi's move
    assert [e.value for e in at.error] == ["Someone else changed it first: nothing was saved."]
    detail = [t.value for t in at.text][0]
    assert detail.startswith("Not saved: ravi moved this deal at ")
    assert [e[1:3] for e in _deal_events(pipeline, ZINC)] == [("DealMoved", "ravi")]
    assert _summary(at)["Ordered"] == (1, "₹3,86,400")


def test_a_new_deal_and_a_refused_one_that_keeps_its_text(pipeline) -> None:
    at = _page()
    at.text_input(key="deal_new_product").input("Caustic soda lye")
    at = at.button(key="FormSubmitter:deal_new-Create deal").click().run()
    assert [e.value for e in at.error] == ["Not saved."]
    assert at.text_input(key="deal_new_product").value == "Caustic soda lye"  # nothing lost
    at.text_input(key="deal_new_title").input("Annual lye contract")
    at.number_input(key="deal_new_value").set_value(540000.0)
    at.selectbox(key="deal_new_stage").select("negotiation")
    at = at.button(key="FormSubmitter:deal_new-Create deal").click().run()
    assert not at.exception and [s.value for s in at.success] == ["Saved."]
    (deal_id,) = [r[0] for r in pipeline.execute("SELECT deal_id FROM ops.deal_state").fetchall()]
    assert _deal_events(pipeline, deal_id) == [
        (1, "DealCreated", "priya", {"title": "Annual lye contract", "stage": "negotiation",
                                     "pipeline": "sales", "value_inr": 540000.0,
                                     "product": "Caustic soda lye", "owner": "priya"}),
    ]  # fmt: skip
    assert _summary(at)["Negotiation"] == (1, "₹5,40,000")


def test_filters_live_in_the_url(pipeline) -> None:
    at = _page(owner="ravi")
    assert _summary(at)["Quoted"] == (0, "₹0") and _summary(at)["Sample sent"][0] == 1
    at.selectbox(key="pipeline_owner").select("__all__")
    at.text_input(key="pipeline_company").input("bharat")
    at = at.run()
    assert at.query_params["company"] == "bharat"
    assert "owner" not in at.query_params
    assert _summary(at)["Quoted"] == (1, "₹12,50,000") and _summary(at)["Sample sent"][0] == 0


def test_a_manager_reads_only_and_others_are_refused(pipeline) -> None:
    at = _page(User("meera", "manager"))
    assert not at.exception
    assert _summary(at)["Quoted"] == (1, "₹12,50,000")
    labels = [b.label for b in at.button]
    assert "Create deal" not in labels and "Save" not in labels and "Save stages" not in labels
    assert "Read only: your role sees the pipeline but does not change it." in [
        c.value for c in at.caption
    ]
    for role in ("qc", "marketing"):
        refused = _page(User("x", role))
        assert [e.value for e in refused.error] == [f"Your role ({role}) may not open this page."]
        assert not refused.dataframe


def test_an_admin_edits_the_stages(pipeline) -> None:
    at = _page(User("root", "admin"))
    assert "Create deal" not in [b.label for b in at.button]
    at.text_area(key="pipeline_stages_sales").input("enquiry\nquoted\nsite visit\nordered")
    at = at.button(key="FormSubmitter:pipeline_stages_form_sales-Save stages").click().run()
    assert not at.exception and [s.value for s in at.success] == ["Saved."]
    assert deals.get_pipeline(pipeline).stages == ("enquiry", "quoted", "site_visit", "ordered")
    summary = _summary(at)
    assert list(summary) == ["Enquiry", "Quoted", "Site visit", "Ordered", "Won", "Lost"]
    assert summary["Quoted"] == (2, "₹16,36,400")  # the sample deal falls back to quoted
    # a stage list with won in it is refused with the reason, and nothing changes
    at.text_area(key="pipeline_stages_sales").input("enquiry\nwon")
    at = at.button(key="FormSubmitter:pipeline_stages_form_sales-Save stages").click().run()
    assert [e.value for e in at.error] == ["Not saved."]
    assert deals.get_pipeline(pipeline).version == 1


def test_without_the_mart_the_page_says_so(warehouse: psycopg.Connection) -> None:
    at = _page()
    assert not at.exception
    assert any("No inferred deals yet" in i.value for i in at.info)
    assert set(_summary(at).values()) == {(0, "₹0")}


def test_a_follow_up_task_for_a_deal_in_one_click(pipeline) -> None:
    at = _page()
    at.selectbox(key="pipeline_act_deal").select(ZINC)
    at = _click(at, "pipeline_act_task")
    assert not at.exception and [s.value for s in at.success] == ["Saved."]
    (row,) = pipeline.execute(
        "SELECT title, owner, linked_type, linked_id, company_key, created_by FROM ops.tasks"
    ).fetchall()
    assert row == ("Follow up: Acme Rubber", "ravi", "deal", ZINC, "pan:AACCA1234F", "priya")
