"""The event write path (pebble/events.py, migration 0005) against a real PostgreSQL: bad
events are refused with a clear reason, a stale or lost-race version is a VersionConflict,
a retry is stored once, the table is append-only, the views show the new state at once,
and the app's own role can append and read but not change events or touch raw.*."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg import errors

from ml.corrections import read_corrections
from pebble import events

CARD = "thread-0001"


def _move(to: str, actor: str = "priya", card: str = CARD, **kwargs) -> events.Event:
    return events.new_event("CardMoved", card, actor=actor, payload={"to": to}, **kwargs)


def _count(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) FROM ops.events").fetchone()[0]


def _card_state(conn: psycopg.Connection, card: str = CARD) -> dict | None:
    cursor = conn.execute("SELECT * FROM ops.card_state WHERE card_id = %s", (card,))
    row = cursor.fetchone()
    return (
        None if row is None else dict(zip([c.name for c in cursor.description], row, strict=True))
    )


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "entity_id", "payload", "message"),
    [
        ("CardDeleted", CARD, {}, "unknown event type 'CardDeleted'; expected one of CardMoved"),
        ("CardMoved", CARD, {"to": "doing"}, "to: Input should be 'new', 'in_progress'"),
        ("CardMoved", CARD, {"to": "done", "colour": "red"}, "colour: Extra inputs are not"),
        ("CardMoved", CARD, {}, "CardMoved payload is not valid: to: Field required"),
        ("CardMoved", CARD, ["done"], "the payload must be an object, not list"),
        ("CardMoved", "", {"to": "done"}, "CardMoved: entity id is required"),
        ("CardMoved", "x" * 513, {"to": "done"}, "entity id is longer than 512 characters"),
        (
            "CardReclassified",
            CARD,
            {"stream": "crm", "intent": "purchase_order"},
            "intent 'purchase_order' belongs to stream 'erp', not 'crm'",
        ),
        (
            "CardReclassified",
            CARD,
            {"stream": "crm", "intent": "gossip"},
            "unknown intent 'gossip'",
        ),
        (
            "CardReclassified",
            CARD,
            {"stream": "sales", "intent": "price_enquiry"},
            "unknown stream",
        ),
        ("RouteChanged", "sales", {"stream": "sales"}, "unknown stream 'sales'; expected one of"),
        ("PreleadRejected", None, {"batch": "b1", "row_no": 3}, "reason: Field required"),
        ("PreleadApproved", None, {"batch": "b1", "row_no": 0}, "row_no: Input should be greater"),
        ("PreleadApproved", "b1/4", {"batch": "b1", "row_no": 3}, "does not match the payload's"),
        ("CompanyMerged", "co-1", {"into_company_key": "co-1"}, "cannot be merged into itself"),
        ("CompanySplit", "co-1", {"sources": [{"system": "sap", "source_id": "1"}]}, "system"),
        ("ReplyDrafted", CARD, {"email_key": "k", "draft_id": "d", "body": ""}, "body: String"),
    ],
)
def test_a_bad_event_is_refused_with_what_is_wrong(
    event_type: str, entity_id: str | None, payload: object, message: str
) -> None:
    with pytest.raises(events.EventError) as refused:
        events.new_event(event_type, entity_id, actor="priya", payload=payload)  # type: ignore[arg-type]
    assert message in str(refused.value)


def test_actor_time_zone_event_id_and_expected_version_are_checked(
    warehouse: psycopg.Connection,
) -> None:
    with pytest.raises(events.EventError, match="actor is required"):
        events.new_event("CardMoved", CARD, actor=" ", payload={"to": "done"})
    with pytest.raises(events.EventError, match="occurred_at must be a datetime with a time zone"):
        _move("done", occurred_at=datetime(2026, 1, 1, 9, 0))
    with pytest.raises(events.EventError, match="event_id 'abc' is not a UUID"):
        _move("done", event_id="abc")
    with pytest.raises(events.EventError, match="expected_version must be 0 or more, not -1"):
        events.append(warehouse, _move("done"), expected_version=-1)
    assert _count(warehouse) == 0


def test_the_table_itself_refuses_unknown_types_and_version_gaps(
    warehouse: psycopg.Connection,
) -> None:
    """Writers that bypass the API (a psql session, a future screen) meet the same rules."""
    insert = (
        "INSERT INTO ops.events (event_id, event_type, entity_type, entity_id, entity_version,"
        " actor, payload, occurred_at) VALUES (gen_random_uuid(), %s, %s, %s, %s, 'psql',"
        " '{}', now())"
    )
    with pytest.raises(errors.CheckViolation, match="events_known_type"):
        warehouse.execute(insert, ("CardDeleted", "card", CARD, 1))
    with pytest.raises(errors.CheckViolation, match="events_known_type"):
        warehouse.execute(insert, ("CardMoved", "prelead", CARD, 1))  # wrong entity type
    with pytest.raises(errors.CheckViolation, match="has no version 2, so version 3 would leave"):
        warehouse.execute(insert, ("CardMoved", "card", CARD, 3))
    assert _count(warehouse) == 0


# --- versions -------------------------------------------------------------------------------


def test_a_stale_version_is_a_conflict_that_names_the_last_change(
    warehouse: psycopg.Connection,
) -> None:
    at = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)
    first = events.append(warehouse, _move("in_progress", occurred_at=at), expected_version=0)
    assert (first.entity_version, first.duplicate, first.entity_type) == (1, False, "card")
    assert events.current_version(warehouse, "card", CARD) == 1

    with pytest.raises(events.VersionConflict) as stale:
        events.append(warehouse, _move("done", actor="ravi"), expected_version=0)
    conflict = stale.value
    assert (conflict.expected, conflict.current) == (0, 1)
    assert (conflict.last_actor, conflict.last_event_type) == ("priya", "CardMoved")
    assert conflict.last_occurred_at == at
    assert "card 'thread-0001' is at version 1 (last change: CardMoved by priya" in str(conflict)
    assert "not at version 0 as expected: reload it and try again" in str(conflict)

    with pytest.raises(events.VersionConflict) as ahead:  # a version nobody wrote yet
        events.append(warehouse, _move("done", actor="ravi"), expected_version=5)
    assert ahead.value.current == 1
    assert _count(warehouse) == 1
    assert _card_state(warehouse)["status"] == "in_progress"  # nothing overwritten


def test_of_two_writers_racing_for_one_version_exactly_one_wins(
    warehouse: psycopg.Connection, pebble_env: str
) -> None:
    """Both read version 1. Writer A appends version 2 in a transaction it keeps open;
    writer B, on its own connection, appends version 2 too and waits on A's row. When A
    commits, B gets a VersionConflict (the unique key decided, not B's earlier check)."""
    events.append(warehouse, _move("in_progress"), expected_version=0)
    outcome: dict[str, object] = {}

    def writer_b() -> None:
        with psycopg.connect(pebble_env, autocommit=True) as conn:
            try:
                outcome["b"] = events.append(conn, _move("done", actor="ravi"), 1)
            except events.VersionConflict as exc:
                outcome["b"] = exc

    with psycopg.connect(pebble_env) as conn_a:
        with conn_a.transaction():
            won = events.append(conn_a, _move("quoted", actor="amit"), expected_version=1)
            thread = threading.Thread(target=writer_b)
            thread.start()
            _wait_until_blocked(warehouse)
        thread.join(timeout=60)
    assert not thread.is_alive()
    lost = outcome["b"]
    assert isinstance(lost, events.VersionConflict), lost
    assert (lost.expected, lost.current, lost.last_actor) == (1, 2, "amit")
    assert won.entity_version == 2
    assert [(r.entity_version, r.actor) for r in events.history(warehouse, "card", CARD)] == [
        (1, "priya"),
        (2, "amit"),
    ]


def _wait_until_blocked(conn: psycopg.Connection) -> None:
    """Until another session of this database waits for a lock (writer B on A's row)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        waiting = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'"
        ).fetchone()[0]
        if waiting:
            return
        time.sleep(0.02)
    raise AssertionError("writer B never waited for writer A's row")


def test_free_running_writers_never_share_a_version(
    warehouse: psycopg.Connection, pebble_env: str
) -> None:
    """Two threads move one card 40 times each from the version they read: every append
    either wins or is a conflict, and the stored versions are 1..n without a duplicate."""
    barrier = threading.Barrier(2)
    counts = {"won": 0, "conflicts": 0}
    lock = threading.Lock()

    def writer(actor: str) -> None:
        with psycopg.connect(pebble_env, autocommit=True) as conn:
            barrier.wait()
            for _ in range(40):
                version = events.current_version(conn, "card", CARD)
                try:
                    events.append(conn, _move("done", actor=actor), version)
                    key = "won"
                except events.VersionConflict:
                    key = "conflicts"
                with lock:
                    counts[key] += 1

    threads = [threading.Thread(target=writer, args=(who,)) for who in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert counts["won"] + counts["conflicts"] == 80
    versions = [r[0] for r in warehouse.execute("SELECT entity_version FROM ops.events")]
    assert sorted(versions) == list(range(1, counts["won"] + 1))


# --- idempotency ----------------------------------------------------------------------------


def test_the_same_event_sent_twice_is_stored_once(warehouse: psycopg.Connection) -> None:
    event = _move("quoted")
    first = events.append(warehouse, event, expected_version=0)
    # the retry carries the version it was sent with, stale by now: still the first record
    again = events.append(warehouse, event, expected_version=0)
    assert again.duplicate and not first.duplicate
    assert (again.event_seq, again.entity_version, again.recorded_at) == (
        first.event_seq,
        first.entity_version,
        first.recorded_at,
    )
    assert _count(warehouse) == 1

    other = events.new_event(
        "CardMoved", CARD, actor="priya", payload={"to": "done"}, event_id=event.event_id
    )
    with pytest.raises(events.EventIdReused, match="already stored for another event"):
        events.append(warehouse, other, expected_version=1)
    assert _count(warehouse) == 1


# --- append-only, transactions --------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "operation"),
    [
        ("UPDATE ops.events SET actor = 'mallory'", "UPDATE"),
        ("DELETE FROM ops.events", "DELETE"),
        ("TRUNCATE ops.events", "TRUNCATE"),
    ],
)
def test_events_cannot_be_changed_even_by_the_owner(
    warehouse: psycopg.Connection, statement: str, operation: str
) -> None:
    events.append(warehouse, _move("done"), expected_version=0)
    with pytest.raises(errors.RestrictViolation, match=f"append-only: {operation} refused"):
        warehouse.execute(statement)
    assert [r.actor for r in events.history(warehouse, "card", CARD)] == ["priya"]


def test_a_rolled_back_transaction_leaves_nothing(
    warehouse: psycopg.Connection, pebble_env: str
) -> None:
    with psycopg.connect(pebble_env) as conn:
        with pytest.raises(RuntimeError), conn.transaction():
            events.append(conn, _move("in_progress"), expected_version=0)
            events.append(conn, _move("done"), expected_version=1)
            raise RuntimeError("the screen failed before it finished")
    assert _count(warehouse) == 0
    assert _card_state(warehouse) is None


def test_a_conflict_inside_a_transaction_leaves_it_usable(
    warehouse: psycopg.Connection, pebble_env: str
) -> None:
    """append() works in a savepoint: the caller decides what the conflict means."""
    with psycopg.connect(pebble_env) as conn:
        with conn.transaction():
            events.append(conn, _move("in_progress"), expected_version=0)
            with pytest.raises(events.VersionConflict):
                events.append(conn, _move("done"), expected_version=0)
            events.append(conn, _move("quoted"), expected_version=1)
    assert [r.payload["to"] for r in events.history(warehouse, "card", CARD)] == [
        "in_progress",
        "quoted",
    ]


# --- the views ------------------------------------------------------------------------------


def test_the_views_show_the_latest_state_at_once(warehouse: psycopg.Connection) -> None:
    t0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    steps = [
        ("CardMoved", {"to": "in_progress"}, "priya"),
        ("CardAssigned", {"assignee": "ravi"}, "priya"),
        ("CardReclassified", {"stream": "erp", "intent": "purchase_order"}, "ravi"),
        ("ReplyDrafted", {"email_key": "e1", "draft_id": "d1", "body": "Dear Sir"}, "ravi"),
        ("ReplySent", {"email_key": "e1", "draft_id": "d1"}, "ravi"),
        ("CardMoved", {"to": "waiting_on_customer"}, "ravi"),
    ]
    for version, (event_type, payload, actor) in enumerate(steps):
        event = events.new_event(
            event_type,
            CARD,
            actor=actor,
            payload=payload,
            occurred_at=t0 + timedelta(minutes=version),
        )
        events.append(warehouse, event, expected_version=version)
    state = _card_state(warehouse)
    assert state == {
        "card_id": CARD,
        "status": "waiting_on_customer",
        "assignee": "ravi",
        "stream": "erp",
        "intent": "purchase_order",
        "last_drafted_at": t0 + timedelta(minutes=3),
        "last_reply_sent_at": t0 + timedelta(minutes=4),
        "version": 6,
        "updated_at": t0 + timedelta(minutes=5),
        "updated_by": "ravi",
    }
    # taking the card back: the assignee is empty again, the status stays
    events.append(
        warehouse,
        events.new_event("CardAssigned", CARD, actor="amit", payload={"assignee": None}),
        6,
    )
    state = _card_state(warehouse)
    assert (state["assignee"], state["status"], state["version"]) == (
        None,
        "waiting_on_customer",
        7,
    )
    assert state["updated_by"] == "amit"


def test_prelead_company_and_route_views(warehouse: psycopg.Connection) -> None:
    row = {"batch": "expo-2026.xlsx", "row_no": 12}
    approved = events.new_event("PreleadApproved", actor="priya", payload=row)
    assert approved.entity_id == events.prelead_id("expo-2026.xlsx", 12) == "expo-2026.xlsx/12"
    events.append(warehouse, approved, 0)
    events.append(
        warehouse,
        events.new_event(
            "PreleadMerged",
            actor="ravi",
            payload={**row, "into_company_key": "co-apex"},
            company_key="co-apex",
        ),
        1,
    )
    decision = warehouse.execute(
        "SELECT batch, row_no, decision, merged_into, company_key, version, decided_by"
        " FROM ops.prelead_decisions"
    ).fetchall()
    assert decision == [("expo-2026.xlsx", 12, "merged", "co-apex", "co-apex", 2, "ravi")]

    def company(event_type: str, entity: str, payload: dict, version: int) -> None:
        events.append(
            warehouse, events.new_event(event_type, entity, actor="priya", payload=payload), version
        )

    company("CompanyMerged", "co-lotus-2", {"into_company_key": "co-lotus"}, 0)
    company("CompanyMerged", "co-sunrise-2", {"into_company_key": "co-sunrise"}, 0)
    split = {"sources": [{"system": "tally", "source_id": "Lotus Rubber Pvt Ltd"}]}
    company("CompanySplit", "co-lotus-2", split, 1)
    merges = warehouse.execute(
        "SELECT company_key, merged_into, split_sources, version FROM ops.company_merges"
        " ORDER BY company_key"
    ).fetchall()
    assert merges == [
        ("co-lotus-2", None, split["sources"], 2),
        ("co-sunrise-2", "co-sunrise", [], 1),
    ]

    company("RouteChanged", "exports", {"stream": "erp"}, 0)
    company("RouteChanged", "exports", {"stream": "crm"}, 1)
    assert warehouse.execute(
        "SELECT mailbox, default_stream, version FROM ops.mailbox_routes"
    ).fetchall() == [("exports", "crm", 2)]


def test_route_rules_fold_to_the_rules_in_force(warehouse: psycopg.Connection) -> None:
    def rule(kind: str, pattern: str, stream: str | None, version: int, actor: str = "asha"):
        payload = {"kind": kind, "pattern": pattern, "stream": stream, "reason": "tried it"}
        event = events.new_event("RouteRuleChanged", actor=actor, payload=payload)
        return events.append(warehouse, event, version)

    assert rule("domain", "GeM.gov.in", "tender", 0).entity_id == "domain:gem.gov.in"
    rule("subject", r"(?i)\bNIT\b", "tender", 0)
    rule("address", "ap@acme.in", "erp", 0)
    rule("address", "AP@acme.in", None, 1, actor="ravi")  # removed, same rule (case-blind)
    assert warehouse.execute(
        "SELECT kind, pattern, stream, version, updated_by FROM ops.route_rules ORDER BY 1, 2"
    ).fetchall() == [
        ("domain", "GeM.gov.in", "tender", 1, "asha"),
        ("subject", r"(?i)\bNIT\b", "tender", 1, "asha"),
    ]
    with pytest.raises(events.EventError, match="not a regular expression"):
        events.new_event(
            "RouteRuleChanged",
            actor="asha",
            payload={"kind": "subject", "pattern": "([", "stream": "crm"},
        )
    with pytest.raises(events.EventError, match="unknown stream 'sales'"):
        events.new_event(
            "RouteRuleChanged",
            actor="asha",
            payload={"kind": "domain", "pattern": "a.in", "stream": "sales"},
        )


def test_user_events_carry_roles_never_secrets(warehouse: psycopg.Connection) -> None:
    added = events.new_event("UserAdded", "priya", actor="admin", payload={"role": "sales"})
    events.append(warehouse, added, 0)
    events.append(
        warehouse,
        events.new_event(
            "SignedIn", "priya", actor="priya", payload={"method": "password", "role": "sales"}
        ),
        1,
    )
    with pytest.raises(events.EventError, match="role: Input should be 'marketing'"):
        events.new_event("UserAdded", "x", actor="admin", payload={"role": "root"})
    with pytest.raises(events.EventError, match="password: Extra inputs are not permitted"):
        events.new_event(
            "UserPasswordReset", "priya", actor="admin", payload={"password": "s3cret"}
        )
    assert [r.event_type for r in events.history(warehouse, "user", "priya")] == [
        "UserAdded",
        "SignedIn",
    ]


def test_a_bulk_append_is_all_or_nothing_and_safe_to_retry(
    warehouse: psycopg.Connection,
) -> None:
    def approve(row_no: int) -> events.Event:
        return events.new_event(
            "PreleadApproved", actor="meera", payload={"batch": "b.csv", "row_no": row_no}
        )

    batch = [(approve(n), 0) for n in range(1, 2001)]
    recorded = events.append_many(warehouse, batch)
    assert [r.entity_version for r in recorded] == [1] * 2000
    assert [r.entity_id for r in recorded] == [f"b.csv/{n}" for n in range(1, 2001)]
    assert warehouse.execute("SELECT count(*) FROM ops.prelead_decisions").fetchone()[0] == 2000

    # the same batch again (a retry after a timeout): nothing new, the first records back
    again = events.append_many(warehouse, batch)
    assert all(r.duplicate for r in again) and _count(warehouse) == 2000

    # one stale row in a new batch: nothing of the batch is written
    reject = [
        (
            events.new_event(
                "PreleadRejected",
                actor="meera",
                payload={"batch": "b.csv", "row_no": n, "reason": "dup"},
            ),
            1,
        )
        for n in range(1, 11)
    ]
    reject[5] = (reject[5][0], 0)
    with pytest.raises(events.VersionConflict, match="b.csv/6"):
        events.append_many(warehouse, reject)
    assert _count(warehouse) == 2000

    with pytest.raises(events.EventError, match="appears twice in one batch"):
        events.append_many(warehouse, [(approve(3000), 0), (approve(3000), 0)])
    assert events.append_many(warehouse, []) == []


def test_history_and_corrections_for_ml(warehouse: psycopg.Connection) -> None:
    def reclassify(card: str, stream: str, intent: str, version: int, email: str | None) -> None:
        payload = {"stream": stream, "intent": intent}
        if email:
            payload["email_key"] = email
        events.append(
            warehouse,
            events.new_event("CardReclassified", card, actor="priya", payload=payload),
            version,
        )

    reclassify("t1", "crm", "price_enquiry", 0, None)
    reclassify("t1", "erp", "purchase_order", 1, None)  # replaces the first for t1
    reclassify("t2", "erp", "coa_request", 0, "e7")
    events.append(warehouse, _move("done", card="t2"), 1)  # not a correction

    found = read_corrections(warehouse)  # every correction, in the order recorded
    rows = [(c.thread_key, c.email_key, c.stream, c.intent, c.actor) for c in found]
    assert rows == [
        ("t1", None, "crm", "price_enquiry", "priya"),
        ("t1", None, "erp", "purchase_order", "priya"),
        ("t2", "e7", "erp", "coa_request", "priya"),
    ]
    later = read_corrections(warehouse, since_seq=found[1].event_seq)
    assert [c.thread_key for c in later] == ["t2"]

    history = events.history(warehouse, "card", "t1")
    assert [(h.entity_version, h.payload["intent"]) for h in history] == [
        (1, "price_enquiry"),
        (2, "purchase_order"),
    ]
    assert events.current_version(warehouse, "card", "nobody") == 0
    with pytest.raises(events.EventError, match="unknown entity type 'thread'"):
        events.history(warehouse, "thread", "t1")


# --- the app's role -------------------------------------------------------------------------


def test_the_app_role_appends_and_reads_but_changes_nothing(
    warehouse: psycopg.Connection, app_url: str
) -> None:
    with psycopg.connect(app_url, autocommit=True) as app:
        recorded = events.append(app, _move("quoted"), expected_version=0)
        assert recorded.entity_version == 1
        with pytest.raises(events.VersionConflict):
            events.append(app, _move("done"), expected_version=0)
        assert _card_state(app)["status"] == "quoted"
        assert events.history(app, "card", CARD)[0].event_id == recorded.event_id
        for statement in (
            "UPDATE ops.events SET actor = 'mallory'",
            "DELETE FROM ops.events",
            "TRUNCATE ops.events",
            "SELECT count(*) FROM raw.emails",
            "INSERT INTO raw.mailbox_routes (mailbox, default_stream) VALUES ('x', 'crm')",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                app.execute(statement)
    assert _count(warehouse) == 1
