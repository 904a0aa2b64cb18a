"""The stream router page (app/pages/router.py) and its commands (app.router).

Admins route mailboxes and senders, with a reason, as events (a preview first says which
recent cards a rule would have matched); managers read; every other role is refused.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from app import router
from pebble.auth import NotAllowed, User

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "app" / "pages" / "router.py")
ADMIN = User("asha", "admin")
NOW = datetime.now(UTC)


@pytest.fixture
def cards(warehouse: psycopg.Connection, add_card) -> psycopg.Connection:
    """Cards from three senders (one of them 40 days old), and the seeded mailbox routes as
    the staging view dbt builds over raw.mailbox_routes."""
    warehouse.execute(
        "CREATE VIEW staging.stg_mail__mailbox_routes AS "
        "SELECT mailbox, default_stream, updated_at FROM raw.mailbox_routes"
    )
    for card_id, sender, subject, days, stream in (
        ("t1", "buyer@acme.in", "Rate for caustic soda", 1, "crm"),
        ("t2", "stores@plant.acme.in", "PO 4500012345", 3, "erp"),
        ("t3", "buyer@acme.in", "Old enquiry", 40, "crm"),
        ("t4", "x@notacme.in", "Invoice 77 overdue", 2, "erp"),
    ):
        add_card(card_id, subject, "new", "sales", from_address=sender,
                 from_domain=sender.split("@")[1], stream=stream,
                 last_message_at=NOW - timedelta(days=days))  # fmt: skip
    return warehouse


def _page(role: str, name: str = "asha") -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["pebble_user"] = User(name, role)
    return at.run()


def _route_events(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "SELECT event_type, entity_id, actor, payload ->> 'stream', payload ->> 'reason'"
        " FROM ops.events WHERE entity_type IN ('mailbox', 'route') ORDER BY event_seq"
    ).fetchall()


def _table(at: AppTest, column: str):
    """The first dataframe on the page with ``column`` (the tables have no keys in AppTest)."""
    for frame in at.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with a {column!r} column")


def _button(at: AppTest, label: str):
    (button,) = [b for b in at.button if b.label == label]
    return button


def test_admin_previews_a_domain_rule_then_saves_it_with_a_reason(cards) -> None:
    at = _page("admin")
    assert not at.exception
    mailboxes = _table(at, "set_by")
    assert dict(zip(mailboxes["mailbox"], mailboxes["default_stream"], strict=True)) == {
        "accounts": "erp", "qc": "erp", "sales": "crm", "tenders": "tender",
    }  # fmt: skip
    assert set(mailboxes["set_by"]) == {"seed"}

    at.selectbox(key="router_rule_kind").select("domain")
    at.text_input(key="router_rule_pattern").input("ACME.in")
    at.selectbox(key="router_rule_stream").select("erp").run()
    assert not at.exception
    # t1 and t2 (a sub-domain) in the last 30 days; not t3 (40 days), not notacme.in
    assert [i.value for i in at.info] == [
        "This rule would have matched 2 cards in the last 30 days (1 of them are in another "
        "stream now)."
    ]
    shown = _table(at, "current_stream")
    assert list(shown["subject"]) == ["Rate for caustic soda", "PO 4500012345"]
    assert list(shown["current_stream"]) == ["crm", "erp"]

    _button(at, "Save rule").click().run()  # no reason yet
    assert [e.value for e in at.error] == ["Not saved."]
    assert _route_events(cards) == []

    at.text_input(key="router_rule_reason").input("Acme's plant orders go to ops")
    _button(at, "Save rule").click().run()
    assert not at.exception
    assert _route_events(cards) == [
        ("RouteRuleChanged", "domain:acme.in", "asha", "erp", "Acme's plant orders go to ops")
    ]
    assert [s.value for s in at.success] == ["Rule saved: domain rule to erp."]
    rules = _table(at, "rule_id")
    assert list(rules["rule_id"]) == ["domain:acme.in"]
    assert list(_table(at, "event_type")["actor"]) == ["asha"]


def test_admin_removes_a_rule_with_a_reason(cards) -> None:
    router.set_rule(cards, ADMIN, "subject", r"invoice\s+\d+", "erp", "accounts", 0)
    at = _page("admin")
    assert list(_table(at, "rule_id")["rule_id"]) == [r"subject:invoice\s+\d+"]
    at.text_input(key="router_remove_reason").input("accounts read their own inbox now")
    _button(at, "Remove rule").click().run()
    assert not at.exception
    assert _route_events(cards)[-1] == (
        "RouteRuleChanged", r"subject:invoice\s+\d+", "asha", None,
        "accounts read their own inbox now",
    )  # fmt: skip
    assert cards.execute("SELECT count(*) FROM ops.route_rules").fetchone()[0] == 0
    assert "No sender rules: the model decides (or the mailbox's stream)." in [
        t.value for t in at.text
    ]
    history = _table(at, "event_type")
    assert list(history["stream"]) == ["(removed)", "erp"]


def test_admin_changes_a_mailbox_s_stream_and_a_conflict_saves_nothing(cards) -> None:
    at = _page("admin")
    at.selectbox(key="router_mailbox").select("tenders")
    at.selectbox(key="router_mailbox_stream").select("other")
    at.text_input(key="router_mailbox_reason").input("tenders@ gets only newsletters")
    _button(at, "Change the mailbox's stream").click().run()
    assert not at.exception
    assert _route_events(cards) == [
        ("RouteChanged", "tenders", "asha", "other", "tenders@ gets only newsletters")
    ]
    mailboxes = _table(at, "set_by").set_index("mailbox")
    assert mailboxes.loc["tenders", "default_stream"] == "other"
    assert mailboxes.loc["tenders", "set_by"] == "admin"
    assert mailboxes.loc["tenders", "updated_by"] == "asha"

    # someone else routes qc while the page shows version 0
    router.set_mailbox_route(cards, User("ravi", "admin"), "qc", "crm", "samples", 0)
    at.selectbox(key="router_mailbox").select("qc")
    at.selectbox(key="router_mailbox_stream").select("erp")
    at.text_input(key="router_mailbox_reason").input("qc is erp")
    _button(at, "Change the mailbox's stream").click().run()
    assert [e.value for e in at.error] == ["Not saved: someone else changed this route first."]
    assert any("by ravi" in t.value for t in at.text)
    assert [e[2] for e in _route_events(cards)] == ["asha", "ravi"]


def test_a_manager_reads_the_routes_and_cannot_change_them(cards) -> None:
    router.set_rule(cards, ADMIN, "address", "Buyer@Acme.in", "crm", "key account", 0)
    at = _page("manager", "meera")
    assert not at.exception
    assert list(_table(at, "rule_id")["rule_id"]) == ["address:buyer@acme.in"]
    assert _table(at, "set_by").shape[0] == 4
    assert len(at.text_input) == 0 and len(at.button) == 0
    with pytest.raises(NotAllowed):
        router.remove_rule(cards, User("meera", "manager"), "address:buyer@acme.in", "no", 1)


def test_sales_is_refused_and_sees_no_routes(cards) -> None:
    router.set_rule(cards, ADMIN, "domain", "acme.in", "crm", "key account", 0)
    at = _page("sales", "priya")
    assert [e.value for e in at.error] == ["Your role (sales) may not open this page."]
    assert len(at.dataframe) == 0 and len(at.text_input) == 0
    assert not any("acme" in str(t.value) for t in at.text)


def test_subject_previews_use_postgresql_regex_and_refuse_what_reads_differently(cards) -> None:
    shown = router.preview(cards, "subject", r"invoice\s+\d+", "erp")
    assert (shown.count, shown.changes) == (1, 0)
    assert list(shown.cards["subject"]) == ["Invoice 77 overdue"]
    assert router.preview(cards, "subject", "RATE|po ", "crm").count == 2
    assert router.preview(cards, "address", "BUYER@acme.in").count == 1  # t3 is too old
    assert router.preview(cards, "mailbox", "sales").count == 3
    for bad in (r"\binvoice\b", "a{,3}", "(?<n>x)"):
        with pytest.raises(router.RouteError):
            router.preview(cards, "subject", bad)
    with pytest.raises(router.RouteError):
        router.set_rule(cards, ADMIN, "domain", "not a domain", "crm", "why", 0)
    with pytest.raises(router.RouteError):
        router.set_mailbox_route(cards, ADMIN, "sales", "crm", "  ", 0)
    assert _route_events(cards) == []


def test_before_the_first_build_the_page_still_routes(warehouse: psycopg.Connection) -> None:
    """No cards and no staging views yet: nothing to preview, and a mailbox routed by an
    admin is listed from its events alone."""
    router.set_mailbox_route(warehouse, ADMIN, "purchase", "erp", "new inbox", 0)
    at = _page("admin")
    assert not at.exception
    assert list(_table(at, "set_by")["mailbox"]) == ["purchase"]
    at.text_input(key="router_rule_pattern").input("acme.in").run()
    assert [e.value for e in at.error] == ["This pattern cannot be a rule."]  # not an address
    at.selectbox(key="router_rule_kind").select("domain").run()
    assert [i.value for i in at.info] == ["No cards built yet: nothing to preview."]
