"""Deals, pipelines and tasks (``pebble.deals``) over the views of migration 0009.

People's events fold at once: a deal made by hand, moved and closed; an inferred deal
(``marts.deal_pipeline``) moved by hand shows the person's stage, until an order the
warehouse sees later; tasks created, reassigned and completed, overdue first. Every command
checks the role on the server, a stale version is a conflict, a stage the pipeline does not
have is a clear error, and an admin's pipeline replaces the default one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from pebble import auth, deals, events
from pebble.auth import NotAllowed, User
from tests.app.conftest import mart

PRIYA = User("priya", "sales")
RAVI = User("ravi", "sales")
OMAR = User("omar", "ops")
MANISHA = User("manisha", "manager")
ADMIN = User("root", "admin")
QASIM = User("qasim", "qc")
TODAY = date(2026, 12, 4)

INFERRED = "deal:" + "a" * 32
ORDERED_LATER = "deal:" + "b" * 32


def _inferred(conn: psycopg.Connection) -> None:
    """Two deals the warehouse inferred: a sample request, and one it saw ordered."""
    mart(
        conn,
        "deal_pipeline",
        [
            {"deal_key": INFERRED, "thread_key": "T1", "company_key": "pan:AACCA1234F",
             "company_name": "Acme Rubber", "product": "Zinc Oxide", "qty_kg": 2000,
             "value_inr": 386400, "stage": "sample", "is_open": True, "owner": "ravi",
             "enquiry_at": "2026-11-20 10:00+05:30", "sample_at": "2026-11-25 10:00+05:30",
             "days_in_stage": 9},
            {"deal_key": ORDERED_LATER, "thread_key": "T2", "company_key": "pan:AAFCB5678K",
             "company_name": "Bharat Paints", "product": "Titanium Dioxide", "qty_kg": 500,
             "value_inr": 120000, "stage": "ordered", "is_open": True, "owner": "priya",
             "enquiry_at": "2026-11-01 10:00+05:30",
             "ordered_at": "2026-12-01 10:00+05:30", "days_in_stage": 3},
        ],
    )  # fmt: skip


def _board(conn: psycopg.Connection, **kw) -> dict[str, dict]:
    board = deals.fetch_board(conn, today=TODAY, **kw)
    return {row["deal_id"]: row for row in board.deals.iter_rows(named=True)}


def test_a_hand_made_deal_is_created_moved_and_closed(warehouse: psycopg.Connection) -> None:
    recorded = deals.create_deal(
        warehouse, PRIYA, title="Annual HCl contract", stage="enquiry",
        company_key="pan:AACCA1234F", value_inr=250000, product="Hydrochloric acid",
    )  # fmt: skip
    deal_id = recorded.entity_id
    assert deal_id.startswith("deal:hand:") and recorded.entity_version == 1
    row = warehouse.execute(
        "SELECT title, stage, owner, company_key, value_inr, is_closed, created_by_hand,"
        " pipeline_id, version FROM ops.deal_state WHERE deal_id = %s",
        (deal_id,),
    ).fetchone()
    assert row == ("Annual HCl contract", "enquiry", "priya", "pan:AACCA1234F", 250000, False,
                   True, "sales", 1)  # fmt: skip

    deals.move_deal(warehouse, RAVI, deal_id, "negotiation", 1, value_inr=240000)
    board = deals.fetch_board(warehouse, today=TODAY)
    assert board.deals["deal_id"].to_list() == [deal_id]
    assert board.totals["negotiation"] == deals.StageTotal("negotiation", 1, 240000.0)
    assert board.totals["enquiry"].count == 0
    shown = board.deals.row(0, named=True)
    assert (shown["stage"], shown["stage_source"], shown["version"]) == ("negotiation", "person", 2)

    with pytest.raises(deals.DealError, match="needs a reason"):
        deals.close_deal(warehouse, PRIYA, deal_id, "lost", 2)
    deals.close_deal(warehouse, PRIYA, deal_id, "lost", 2, reason="price too high")
    state = warehouse.execute(
        "SELECT stage, is_closed, close_reason, value_inr, version, updated_by"
        " FROM ops.deal_state WHERE deal_id = %s",
        (deal_id,),
    ).fetchone()
    assert state == ("lost", True, "price too high", 240000, 3, "priya")
    shown = _board(warehouse)[deal_id]
    assert (shown["stage"], shown["close_reason"]) == ("lost", "price too high")
    # re-opened by a move: open again, its reason gone
    deals.move_deal(warehouse, PRIYA, deal_id, "quoted", 3)
    assert warehouse.execute(
        "SELECT stage, is_closed, close_reason FROM ops.deal_state WHERE deal_id = %s", (deal_id,)
    ).fetchone() == ("quoted", False, None)
    assert [e.event_type for e in events.history(warehouse, "deal", deal_id)] == [
        "DealCreated", "DealMoved", "DealClosed", "DealMoved",
    ]  # fmt: skip
    assert {e.company_key for e in events.history(warehouse, "deal", deal_id)} == {"pan:AACCA1234F"}


def test_a_stale_version_is_a_conflict_that_names_who(warehouse: psycopg.Connection) -> None:
    deal_id = deals.create_deal(warehouse, PRIYA, title="Soda ash", stage="quoted").entity_id
    deals.move_deal(warehouse, RAVI, deal_id, "negotiation", 1)
    with pytest.raises(events.VersionConflict) as conflict:
        deals.move_deal(warehouse, PRIYA, deal_id, "ordered", 1)
    assert (conflict.value.current, conflict.value.last_actor) == (2, "ravi")
    message = deals.conflict_message(conflict.value)
    assert message.startswith("Not saved: ravi moved this deal at ")
    with pytest.raises(events.VersionConflict):
        deals.close_deal(warehouse, PRIYA, deal_id, "won", 1)
    assert _board(warehouse)[deal_id]["stage"] == "negotiation"
    # creating the same deal id twice is a conflict, not a second deal
    with pytest.raises(events.VersionConflict):
        deals.create_deal(warehouse, RAVI, title="again", stage="enquiry", deal_id=deal_id)


def test_a_stage_not_in_the_pipeline_is_a_clear_error(warehouse: psycopg.Connection) -> None:
    deal_id = deals.create_deal(warehouse, PRIYA, title="Caustic", stage="enquiry").entity_id
    with pytest.raises(deals.DealError, match="'shipped' is not a stage of the Sales pipeline"):
        deals.move_deal(warehouse, PRIYA, deal_id, "shipped", 1)
    with pytest.raises(deals.DealError, match="won closes a deal"):
        deals.move_deal(warehouse, PRIYA, deal_id, "won", 1)
    with pytest.raises(deals.DealError, match="not a stage"):
        deals.create_deal(warehouse, PRIYA, title="x", stage="sample")
    with pytest.raises(deals.DealError, match="no deal"):
        deals.move_deal(warehouse, PRIYA, "deal:nope", "quoted", 0)
    assert events.current_version(warehouse, "deal", deal_id) == 1


@pytest.mark.parametrize("user", [MANISHA, QASIM, ADMIN, None])
def test_only_sales_and_ops_change_deals(warehouse: psycopg.Connection, user) -> None:
    deal_id = deals.create_deal(warehouse, OMAR, title="Ops deal", stage="enquiry").entity_id
    with pytest.raises(NotAllowed):
        deals.create_deal(warehouse, user, title="x", stage="enquiry")
    with pytest.raises(NotAllowed):
        deals.move_deal(warehouse, user, deal_id, "quoted", 1)
    with pytest.raises(NotAllowed):
        deals.close_deal(warehouse, user, deal_id, "won", 1)
    assert events.current_version(warehouse, "deal", deal_id) == 1
    if user is QASIM:  # QC works tasks (a COA to send), not deals
        deals.create_task(warehouse, user, title="Send COA", due_on=TODAY)
    else:
        with pytest.raises(NotAllowed):
            deals.create_task(warehouse, user, title="x", due_on=TODAY)
    assert warehouse.execute("SELECT count(*) FROM ops.tasks").fetchone()[0] == (user is QASIM)


def test_an_inferred_deal_moved_by_hand_overrides_the_inference(
    warehouse: psycopg.Connection,
) -> None:
    _inferred(warehouse)
    board = _board(warehouse)
    assert board[INFERRED]["stage"] == "sample_sent"  # the warehouse's "sample"
    assert board[INFERRED]["stage_source"] == "inferred"
    assert (board[INFERRED]["days_in_stage"], board[INFERRED]["version"]) == (9, 0)
    assert board[INFERRED]["company_name"] == "Acme Rubber"
    assert deals.fetch_board(warehouse, today=TODAY).totals["sample_sent"] == deals.StageTotal(
        "sample_sent", 1, 386400.0
    )

    deals.move_deal(warehouse, PRIYA, INFERRED, "negotiation", 0)
    moved = _board(warehouse)[INFERRED]
    assert (moved["stage"], moved["stage_source"], moved["version"]) == ("negotiation", "person", 1)
    assert moved["value_inr"] == 386400 and moved["company_name"] == "Acme Rubber"
    history = events.history(warehouse, "deal", INFERRED)
    assert [(e.payload, e.company_key) for e in history] == [
        ({"to": "negotiation", "from_stage": "sample_sent"}, "pan:AACCA1234F")
    ]
    # an order the warehouse saw after the person's move is the newer fact
    moved_before_the_order = events.new_event(
        "DealMoved", ORDERED_LATER, actor="priya",
        payload={"to": "negotiation", "value_inr": 100000},
        occurred_at=datetime(2026, 11, 28, 10, tzinfo=UTC),
    )  # fmt: skip
    events.append(warehouse, moved_before_the_order, 0)
    assert _board(warehouse)[ORDERED_LATER]["stage"] == "ordered"
    assert _board(warehouse)[ORDERED_LATER]["stage_source"] == "inferred"
    assert _board(warehouse)[ORDERED_LATER]["value_inr"] == 120000  # the order's, not the guess
    # closing it by hand after the order wins again
    deals.close_deal(warehouse, RAVI, ORDERED_LATER, "won", 1, value_inr=118000)
    closed = _board(warehouse)[ORDERED_LATER]
    assert (closed["stage"], closed["value_inr"]) == ("won", 118000)
    # filters: owner, company by name or key
    assert set(_board(warehouse, owner="ravi")) == {INFERRED}
    assert set(_board(warehouse, company="bharat")) == {ORDERED_LATER}
    assert set(_board(warehouse, company="AACCA")) == {INFERRED}


def test_an_admin_reconfigures_the_pipeline(warehouse: psycopg.Connection) -> None:
    _inferred(warehouse)
    assert deals.get_pipeline(warehouse).stages == deals.DEFAULT_PIPELINE.stages
    with pytest.raises(NotAllowed):
        deals.configure_pipeline(warehouse, PRIYA, "sales", "Sales", ["enquiry"], 0)
    with pytest.raises(NotAllowed):
        deals.configure_pipeline(warehouse, MANISHA, "sales", "Sales", ["enquiry"], 0)
    with pytest.raises(deals.DealError, match="won and lost close a deal"):
        deals.configure_pipeline(warehouse, ADMIN, "sales", "Sales", ["enquiry", "won"], 0)
    with pytest.raises(deals.DealError, match="distinct"):
        deals.configure_pipeline(warehouse, ADMIN, "sales", "Sales", ["quoted", "quoted"], 0)
    deals.configure_pipeline(
        warehouse, ADMIN, "sales", "Sales", ["enquiry", "quoted", "Site visit", "ordered"], 0
    )
    pipeline = deals.get_pipeline(warehouse)
    assert pipeline.stages == ("enquiry", "quoted", "site_visit", "ordered")
    assert pipeline.all_stages[-2:] == ("won", "lost") and pipeline.version == 1
    # the inferred sample deal has no sample stage now: it shows in the one before
    board = deals.fetch_board(warehouse, today=TODAY)
    assert _board(warehouse)[INFERRED]["stage"] == "quoted"
    assert set(board.totals) == {"enquiry", "quoted", "site_visit", "ordered", "won", "lost"}
    deals.move_deal(warehouse, PRIYA, INFERRED, "site_visit", 0)
    with pytest.raises(deals.DealError, match="not a stage"):
        deals.move_deal(warehouse, PRIYA, INFERRED, "negotiation", 1)
    # a stale editor is a conflict; another pipeline is added beside the default
    with pytest.raises(events.VersionConflict):
        deals.configure_pipeline(warehouse, ADMIN, "sales", "Sales", ["enquiry"], 0)
    deals.configure_pipeline(warehouse, ADMIN, "tenders", "Tenders", ["bid", "submitted"], 0)
    assert set(deals.pipelines(warehouse)) == {"sales", "tenders"}
    tender = deals.create_deal(
        warehouse, OMAR, title="Municipal PAC", stage="bid", pipeline_id="tenders"
    ).entity_id
    assert set(_board(warehouse)) == {INFERRED, ORDERED_LATER}
    assert list(deals.fetch_board(warehouse, "tenders").deals["deal_id"]) == [tender]


def test_tasks_are_created_reassigned_completed_overdue_first(
    warehouse: psycopg.Connection,
) -> None:
    def task(title: str, due: date, owner: str = "priya", **kw) -> str:
        return deals.create_task(
            warehouse, PRIYA, title=title, due_on=due, owner=owner, **kw
        ).entity_id

    later = task("Follow up quote", TODAY + timedelta(days=3), linked_type="card", linked_id="T1")
    today = task("Send COA", TODAY, linked_type="deal", linked_id=INFERRED,
                 company_key="pan:AACCA1234F")  # fmt: skip
    late = task("Call purchase", TODAY - timedelta(days=2))
    older = task("Chase payment", TODAY - timedelta(days=5))
    ravis = task("Book sample courier", TODAY, owner="ravi")

    mine = deals.list_tasks(warehouse, PRIYA, today=TODAY)
    assert mine["task_id"].to_list() == [older, late, today, later]
    assert mine["bucket"].to_list() == ["overdue", "overdue", "today", "upcoming"]
    first = mine.row(2, named=True)
    assert (first["linked_type"], first["linked_id"], first["company_key"]) == (
        "deal", INFERRED, "pan:AACCA1234F",
    )  # fmt: skip
    assert deals.list_tasks(warehouse, RAVI, today=TODAY)["task_id"].to_list() == [ravis]
    assert deals.list_tasks(warehouse, PRIYA, linked=("card", "T1"), today=TODAY)[
        "task_id"
    ].to_list() == [later]

    # priya gives one to ravi; a stale screen conflicts; ravi completes it
    deals.assign_task(warehouse, PRIYA, late, "ravi", 1)
    with pytest.raises(events.VersionConflict):
        deals.assign_task(warehouse, PRIYA, late, "omar", 1)
    with pytest.raises(NotAllowed):  # omar neither owns nor created it
        deals.complete_task(warehouse, OMAR, late, 2)
    deals.complete_task(warehouse, RAVI, late, 2, note="spoke to Mr Shah")
    row = warehouse.execute(
        "SELECT owner, is_done, done_by, note, version FROM ops.tasks WHERE task_id = %s", (late,)
    ).fetchone()
    assert row == ("ravi", True, "ravi", None, 3)
    with pytest.raises(deals.DealError, match="done already"):
        deals.complete_task(warehouse, RAVI, late, 3)
    ravi = deals.list_tasks(warehouse, RAVI, today=TODAY)
    assert list(zip(ravi["task_id"], ravi["bucket"], strict=True)) == [
        (ravis, "today"), (late, "done"),
    ]  # fmt: skip

    # a manager reads everyone's, or one person's; nobody else reads another's
    everyone = deals.list_tasks(warehouse, MANISHA, everyone=True, today=TODAY)
    assert set(everyone["task_id"]) == {later, today, late, older, ravis}
    assert everyone["bucket"].to_list()[-1] == "done"
    assert deals.list_tasks(warehouse, MANISHA, owner="ravi", today=TODAY).height == 2
    with pytest.raises(NotAllowed):
        deals.list_tasks(warehouse, PRIYA, owner="ravi")
    with pytest.raises(NotAllowed):
        deals.list_tasks(warehouse, ADMIN)
    with pytest.raises(NotAllowed):
        deals.complete_task(warehouse, MANISHA, ravis, 1)


def test_bad_tasks_are_refused_and_owners_must_be_accounts(
    warehouse: psycopg.Connection,
) -> None:
    with pytest.raises(deals.DealError, match="title"):
        deals.create_task(warehouse, PRIYA, title="  ", due_on=TODAY)
    with pytest.raises(deals.DealError, match="linked_type and linked_id go together"):
        deals.create_task(warehouse, PRIYA, title="x", due_on=TODAY, linked_type="card")
    with pytest.raises(deals.DealError, match="linked to one of"):
        deals.create_task(warehouse, PRIYA, title="x", due_on=TODAY, linked_type="email",
                          linked_id="e1")  # fmt: skip
    auth.add_user(warehouse, "priya", "sales", "correct horse battery", actor="test")
    auth.add_user(warehouse, "qasim", "qc", "correct horse battery", actor="test")
    with pytest.raises(deals.DealError, match="'ghost' is not an active account"):
        deals.create_task(warehouse, PRIYA, title="x", due_on=TODAY, owner="ghost")
    task = deals.create_task(warehouse, PRIYA, title="Send COA", due_on=TODAY).entity_id
    with pytest.raises(deals.DealError, match="not an active account"):
        deals.assign_task(warehouse, PRIYA, task, "ghost", 1)
    deals.assign_task(warehouse, PRIYA, task, "qasim", 1)
    assert deals.task_owners(warehouse) == ["priya", "qasim"]
    assert warehouse.execute("SELECT count(*) FROM ops.tasks").fetchone()[0] == 1


def test_the_app_role_reads_the_views_and_appends(
    warehouse: psycopg.Connection, app_url: str
) -> None:
    with psycopg.connect(app_url, autocommit=True) as app:
        deal_id = deals.create_deal(app, PRIYA, title="Via app role", stage="quoted").entity_id
        deals.create_task(app, PRIYA, title="Follow up quote", due_on=TODAY,
                          linked_type="deal", linked_id=deal_id)  # fmt: skip
        assert deals.fetch_board(app).deals["deal_id"].to_list() == [deal_id]
        assert deals.list_tasks(app, PRIYA, today=TODAY)["title"].to_list() == ["Follow up quote"]
        assert deals.get_pipeline(app) == deals.DEFAULT_PIPELINE


def test_the_activity_stream_takes_deal_and_task_events(warehouse: psycopg.Connection) -> None:
    """int_activity__ops (the activity stream's people's events) passes them through with
    their company, and activity_stream's accepted values list every one of them."""
    import yaml

    from tests.app.conftest import MODELS, staging_views

    staging_views(warehouse, "stg_ops__events")
    ops = (MODELS / "intermediate" / "activity" / "int_activity__ops.sql").read_text()
    body = ops.replace("{{ ref('stg_ops__events') }}", "staging.stg_ops__events")
    assert "{{" not in body
    deal_id = deals.create_deal(warehouse, PRIYA, title="Soda ash", stage="quoted",
                                company_key="pan:AACCA1234F").entity_id  # fmt: skip
    deals.close_deal(warehouse, PRIYA, deal_id, "won", 1)
    task = deals.create_task(warehouse, PRIYA, title="Send COA", due_on=TODAY,
                             company_key="pan:AACCA1234F").entity_id  # fmt: skip
    deals.complete_task(warehouse, PRIYA, task, 1)
    deals.configure_pipeline(warehouse, ADMIN, "sales", "Sales", ["enquiry", "quoted"], 0)
    rows = warehouse.execute(
        f"SELECT event_type, entity_type, company_key, actor FROM ({body}) AS a"  # our own file
        " ORDER BY occurred_at"
    ).fetchall()
    assert rows == [
        ("DealCreated", "deal", "pan:AACCA1234F", "priya"),
        ("DealClosed", "deal", "pan:AACCA1234F", "priya"),
        ("TaskCreated", "task", "pan:AACCA1234F", "priya"),
        ("TaskCompleted", "task", "pan:AACCA1234F", "priya"),
        ("PipelineConfigured", "pipeline", None, "root"),
    ]
    spec = yaml.safe_load((MODELS / "marts" / "activity" / "activity_stream.yml").read_text())
    (model,) = [m for m in spec["models"] if m["name"] == "activity_stream"]
    accepted = {
        column["name"]: test["accepted_values"]["arguments"]["values"]
        for column in model["columns"]
        for test in column.get("data_tests", [])
        if isinstance(test, dict) and "accepted_values" in test
    }
    for event_type in ("PipelineConfigured", "DealCreated", "DealMoved", "DealClosed",
                       "TaskCreated", "TaskAssigned", "TaskCompleted"):  # fmt: skip
        assert event_type in accepted["event_type"]
    assert {"pipeline", "deal", "task"} <= set(accepted["entity_type"])
