"""The Kanban page: the user's cards (one per thread) in Inbox / In progress / Waiting on
customer / Done, with people's latest events applied, filters in the URL, and moves made
from each card's menu (the drag-and-drop component is driven in tests/app/test_board_browser.py)."""

from pathlib import Path

import psycopg
from streamlit.testing.v1 import AppTest

from pebble import events
from pebble.auth import User

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "app" / "pages" / "kanban.py")
PRIYA = User("priya", "sales")


def _page(user: User | None = PRIYA, **params: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    if user is not None:
        at.session_state["pebble_user"] = user
    at.query_params["view"] = "list"
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def _subheaders(at: AppTest) -> list[str]:
    return [h.value for h in at.subheader]


def _texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def _card_events(conn: psycopg.Connection, card_id: str) -> list[tuple]:
    return conn.execute(
        "SELECT entity_version, actor, payload ->> 'to' FROM ops.events "
        "WHERE entity_type = 'card' AND entity_id = %s ORDER BY entity_version",
        (card_id,),
    ).fetchall()


def test_columns_and_counts_of_the_user_s_streams(add_card) -> None:
    add_card("c1", "Rate enquiry - Zinc Oxide", "new", "sales")
    add_card("c2", "Tender notice 42", "new", "tenders", stream="tender", intent="tender_notice")
    add_card("c3", "Payment advice", "done", "accounts", stream="erp", intent="invoice_payment")
    add_card("c4", "Quote for caustic soda", "quoted", "sales")
    add_card("c5", "Samples sent?", "waiting_on_customer", "sales")
    add_card("c6", "Cheap watches", "spam", "sales")

    at = _page()
    assert not at.exception
    assert _subheaders(at) == [
        "Inbox (2)",
        "In progress (0)",
        "Waiting on customer (2)",
        "Done (0)",
    ]
    assert "4 cards · 1 marked spam, not shown" in [c.value for c in at.caption]
    texts = _texts(at)
    assert "Rate enquiry - Zinc Oxide" in texts
    assert "crm · price enquiry · 93%" in texts
    assert "Quote for caustic soda" in texts
    assert "quoted" in [c.value for c in at.caption]
    # the erp card is not sales' work: not shown and not counted
    assert "Payment advice" not in texts
    assert "Cheap watches" not in texts

    manager = _page(User("meera", "manager"))
    assert not manager.exception
    assert _subheaders(manager)[3] == "Done (1)"
    assert "5 cards · 1 marked spam, not shown" in [c.value for c in manager.caption]
    assert "Payment advice" in _texts(manager)


def test_ops_sees_only_erp_and_other_roles_are_refused(add_card) -> None:
    add_card("c1", "Rate enquiry - Zinc Oxide", "new", "sales")
    add_card("c3", "Payment advice", "in_progress", "accounts", stream="erp")

    ops = _page(User("ravi", "ops"))
    assert not ops.exception
    assert _subheaders(ops) == [
        "Inbox (0)",
        "In progress (1)",
        "Waiting on customer (0)",
        "Done (0)",
    ]
    assert "Payment advice" in _texts(ops)
    assert "Rate enquiry - Zinc Oxide" not in _texts(ops)

    for user in (User("mona", "marketing"), User("quinn", "qc"), User("ada", "admin"), None):
        at = _page(user)
        assert not at.exception
        assert [e.value for e in at.error] + [w.value for w in at.warning], user
        assert not at.subheader and not at.text, user
        assert "Rate enquiry - Zinc Oxide" not in str(at.main), user


def test_filters_are_read_from_and_written_to_the_url(add_card) -> None:
    add_card("c1", "Rate enquiry - Zinc Oxide", "new", "sales", requires_review=True)
    add_card("c2", "Sample request", "new", "sales", intent="sample_request")
    add_card("c3", "Old enquiry", "new", "sales", requires_review=True,
             last_message_at="2026-01-01 10:00+00")  # fmt: skip
    add_card("c4", "Tender portal", "new", "tenders", stream="tender", intent="tender_notice",
             company_name="Gujarat Alkalies", assignee="priya")  # fmt: skip

    at = _page(stream="crm", review="1")
    assert not at.exception
    assert at.selectbox(key="board_stream").value == "crm"
    assert at.checkbox(key="board_review").value is True
    texts = _texts(at)
    assert "Rate enquiry - Zinc Oxide" in texts and "Old enquiry" in texts
    assert "Sample request" not in texts and "Tender portal" not in texts

    at.number_input(key="board_older").set_value(30).run()
    assert at.query_params["older"] == "30"
    assert [t for t in _texts(at) if t in ("Rate enquiry - Zinc Oxide", "Old enquiry")] == [
        "Old enquiry"
    ]

    at = _page(company="alkalies")
    assert at.text_input(key="board_company").value == "alkalies"
    assert "Tender portal" in _texts(at) and "Rate enquiry - Zinc Oxide" not in _texts(at)
    at.text_input(key="board_company").input("").run()
    at.selectbox(key="board_assignee").select("priya").run()
    at.selectbox(key="board_intent").select("tender_notice").run()
    assert at.query_params["assignee"] == "priya"
    assert at.query_params["intent"] == "tender_notice"
    assert "company" not in at.query_params
    assert _subheaders(at)[0] == "Inbox (1)"
    assert "Tender portal" in _texts(at)
    at.selectbox(key="board_mailbox").select("sales").run()
    assert at.query_params["mailbox"] == "sales"
    assert _subheaders(at)[0] == "Inbox (0)"


def test_a_menu_move_appends_card_moved_and_the_card_moves(
    add_card, warehouse: psycopg.Connection
) -> None:
    add_card("c1", "Rate enquiry - Zinc Oxide", "new", "sales")
    at = _page()
    assert _subheaders(at)[:2] == ["Inbox (1)", "In progress (0)"]

    at.selectbox(key="move_c1").select("in_progress").run()
    assert not at.exception
    assert _subheaders(at)[:2] == ["Inbox (0)", "In progress (1)"]
    assert [s.value for s in at.success] == ["Card moved to In progress."]
    assert _card_events(warehouse, "c1") == [(1, "priya", "in_progress")]

    at.selectbox(key="move_c1").select("quoted").run()
    assert _subheaders(at)[2] == "Waiting on customer (1)"
    assert _card_events(warehouse, "c1")[-1] == (2, "priya", "quoted")


def test_two_people_moving_one_card_get_a_clear_conflict(
    add_card, warehouse: psycopg.Connection
) -> None:
    add_card("c1", "Rate enquiry - Zinc Oxide", "new", "sales")
    at = _page()
    # ravi moves it meanwhile, from another session
    events.append(
        warehouse,
        events.new_event("CardMoved", "c1", actor="ravi", payload={"to": "done"}),
        0,
    )
    at.selectbox(key="move_c1").select("in_progress").run()
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert error.startswith("Not moved: this card was moved by ravi at ")
    assert error.endswith("— reload and try again.")
    assert _card_events(warehouse, "c1") == [(1, "ravi", "done")]
    assert _subheaders(at)[3] == "Done (1)"  # the page shows the card where ravi put it


def test_a_manager_reads_and_cannot_move(add_card) -> None:
    add_card("c1", "Rate enquiry - Zinc Oxide", "new", "sales")
    at = _page(User("meera", "manager"))
    assert not at.exception
    assert "Rate enquiry - Zinc Oxide" in _texts(at)
    assert not [s for s in at.selectbox if s.key and s.key.startswith("move_")]
    assert not [r for r in at.radio if r.key == "board_view"]


def test_a_long_column_is_paged_newest_first(add_card) -> None:
    for n in range(30):
        add_card(f"c{n:02d}", f"enquiry {n:02d}", "new", "sales",
                 last_message_at=f"2026-11-01 10:{n:02d}+00")  # fmt: skip
    at = _page()
    assert not at.exception
    assert _subheaders(at)[0] == "Inbox (30)"
    shown = [t for t in _texts(at) if t.startswith("enquiry ")]
    assert shown == [f"enquiry {n:02d}" for n in range(29, 17, -1)]
    assert "page 1 of 3 · newest first" in [c.value for c in at.caption]
    assert sum(1 for s in at.selectbox if s.key and s.key.startswith("move_")) == 12

    at.button(key="older_inbox").click().run()
    at.button(key="older_inbox").click().run()
    assert [t for t in _texts(at) if t.startswith("enquiry ")] == [
        f"enquiry {n:02d}" for n in range(5, -1, -1)
    ]
    assert at.button(key="older_inbox").disabled
    at.button(key="newer_inbox").click().run()
    assert [t for t in _texts(at) if t.startswith("enquiry ")][0] == "enquiry 17"


def test_html_in_a_subject_is_shown_as_text(add_card) -> None:
    evil = "<b>x</b><script>alert(1)</script> [click](http://evil.example) **bold**"
    add_card("c1", evil, "new", "sales", from_display="<img src=x onerror=alert(1)>")
    at = _page()
    assert not at.exception
    assert evil in _texts(at)
    assert all("script" not in m.value and "onerror" not in m.value for m in at.markdown)
    assert all("script" not in c.value for c in at.caption)


def test_people_s_events_show_before_the_mart_is_rebuilt(
    add_card, warehouse: psycopg.Connection
) -> None:
    add_card("thread-1", "Rate enquiry - Zinc Oxide", "new", "sales")
    add_card("thread-2", "Payment advice", "done", "sales", assignee="ravi", card_version=2)
    for event_type, card, payload, version in (
        ("CardMoved", "thread-1", {"to": "waiting_on_customer"}, 0),
        ("CardAssigned", "thread-1", {"assignee": "priya"}, 1),
        ("CardReclassified", "thread-1", {"stream": "crm", "intent": "sample_request"}, 2),
        ("CardMoved", "thread-2", {"to": "done"}, 0),
        ("CardAssigned", "thread-2", {"assignee": "ravi"}, 1),
        ("CardAssigned", "thread-2", {"assignee": None}, 2),
    ):
        events.append(
            warehouse, events.new_event(event_type, card, actor="test", payload=payload), version
        )
    at = _page()
    assert not at.exception
    assert _subheaders(at) == [
        "Inbox (0)",
        "In progress (0)",
        "Waiting on customer (1)",
        "Done (1)",
    ]
    texts = _texts(at)
    assert "assigned to priya" in texts
    assert "crm · sample request · set by a person" in texts
    assert "assigned to ravi" not in texts


def test_each_card_links_to_its_page(add_card) -> None:
    """Run inside the app (the entry registers the card page): a link per card to
    ``card?card=<card_id>``, in the same session."""
    add_card("c1", "Rate enquiry - Zinc Oxide", "new", "sales")
    add_card("c/2 x", "Quote for caustic soda", "new", "sales")
    at = AppTest.from_file(str(ROOT / "app" / "streamlit_app.py"), default_timeout=30)
    at.session_state["pebble_user"] = PRIYA
    at.query_params["view"] = "list"
    at.run()
    assert not at.exception
    links = {(link.proto.page, link.proto.query_string) for link in at.get("page_link")}
    assert ("card", "card=c1") in links
    assert ("card", "card=c%2F2+x") in links
    # the page run on its own has no card page to link to: a plain link instead
    alone = _page()
    assert "Open card" in [b.proto.label for b in alone.get("link_button")]


def test_the_drag_view_draws_the_component(add_card) -> None:
    add_card("c1", "Rate enquiry - Zinc Oxide", "new", "sales")
    at = _page(view="drag")
    assert not at.exception
    assert at.radio(key="board_view").value == "drag"
    assert at.query_params["view"] == "drag"
    # the component carries the cards (the browser test drags them); no list widgets
    assert not [s for s in at.selectbox if s.key and s.key.startswith("move_")]
    assert "Rate enquiry - Zinc Oxide" not in _texts(at)


def test_page_explains_when_the_mart_is_missing(warehouse: psycopg.Connection) -> None:
    at = _page()
    assert not at.exception
    assert any("No cards yet" in i.value for i in at.info)


def test_classification_and_thread_lines() -> None:
    from app.data import classification_line, thread_line

    assert classification_line("erp", "order_status", 0.412, True) == (
        "erp · order status · 41% · needs review"
    )
    assert classification_line("tender", None, None, True) == "tender · not classified yet"
    assert classification_line("crm", "sample_request", 0.412, False, reclassified=True) == (
        "crm · sample request · set by a person"
    )
    assert thread_line(1, None) is None
    assert thread_line(1, "priya") == "assigned to priya"
    assert thread_line(4, None) == "4 messages"
