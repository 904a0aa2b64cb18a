"""The card page (app/pages/card.py) and its commands (app/card.py): the thread as plain
text, attachments from the content store, entities with validity and links, and the
actions as events with the version the page showed.

Mail goes in through the real loader (ingest.mail.land), the staging views are the dbt
models' own SQL, and the marts are created from their yml contracts (no dbt here)."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from app import card as cards
from ingest.mail.land import land_bytes
from pebble import events
from pebble.auth import NotAllowed, User
from tests.app.conftest import mart, staging_views

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "app" / "pages" / "card.py")
MODELS = ROOT / "dbt" / "models"
GOOD_GSTIN = "27AAPFU0939F1ZV"
BAD_GSTIN = "27AAPFU0939F1ZX"
EVIL = '<script>alert("x")</script> **bold** [click](http://evil.example)'
PDF = b"%PDF-1.4 the rate card\n" + bytes(range(256))

SALES = User("priya", "sales")
OPS = User("ravi", "ops")
MANAGER = User("meena", "manager")


def _mail(sender: str, to: str, subject: str, body: str, date: str, **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Date"] = sender, to, subject, date
    for key, value in headers.items():
        msg[key.replace("_", "-")] = value
    msg.set_content(body)
    return msg


@pytest.fixture
def thread(warehouse: psycopg.Connection, add_card) -> dict[str, Any]:
    """A crm card: a customer's enquiry (with a PDF, a GSTIN and a script tag in the body)
    and our reply, landed by the loader; entities as the scorer writes them."""
    first = _mail(
        "Bala Traders <bala@acme.in>",
        "sales@pebbledemo.in",
        "Rate enquiry - Zinc Oxide",
        f"Please quote 5 MT Zinc Oxide. Our GSTIN {GOOD_GSTIN}.\n{EVIL}\n",
        "Mon, 02 Nov 2026 09:00:00 +0530",
        Message_ID="<enq-1@acme.in>",
    )
    first.add_attachment(PDF, maintype="application", subtype="pdf", filename="rate card.pdf")
    reply = _mail(
        "Priya <priya@pebbledemo.in>",
        "bala@acme.in",
        "Re: Rate enquiry - Zinc Oxide",
        "Dear Bala, we will revert with the rate shortly.",
        "Mon, 02 Nov 2026 11:00:00 +0530",
        Message_ID="<reply-1@pebbledemo.in>",
        In_Reply_To="<enq-1@acme.in>",
        References="<enq-1@acme.in>",
    )
    report = land_bytes(
        warehouse, [("a.eml", first.as_bytes()), ("b.eml", reply.as_bytes())], mailbox="sales"
    )
    assert report.landed == 2
    staging_views(
        warehouse, "stg_mail__emails", "stg_mail__email_attachments", "stg_ml__email_entities"
    )
    enquiry_key, card_id = warehouse.execute(
        "SELECT email_key, thread_key FROM raw.emails WHERE message_id = 'enq-1@acme.in'"
    ).fetchone()
    for position, (label, text, linked) in enumerate(
        [
            ("GSTIN", GOOD_GSTIN, "pan:AAPFU0939F"),
            ("GSTIN", BAD_GSTIN, None),
            ("ORDER_NO", "SO/25-26/0042", "SO/25-26/0042"),
        ]  # fmt: skip
    ):
        warehouse.execute(
            "INSERT INTO ml.email_entities (email_key, position, label, text, value, valid,"
            " linked_to) VALUES (%s, %s, %s, %s, to_jsonb(%s::text), %s, %s)",
            (enquiry_key, position, label, text, text, None, linked),
        )
    mart(
        warehouse,
        "crm_companies",
        [{"company_key": "pan:AAPFU0939F", "name": "Acme Chem", "pan": "AAPFU0939F",
          "gstins": [GOOD_GSTIN]}],
    )  # fmt: skip
    mart(
        warehouse,
        "sales_orders",
        [
            {"sales_order_no": "SO/25-26/0042", "company_name": "Acme Chem", "status": "open",
             "gstin": GOOD_GSTIN, "order_date": "2026-10-30", "amount_inr": 118000},
            {"sales_order_no": "SO/25-26/0007", "company_name": "Acme Chem", "status": "invoiced",
             "gstin": GOOD_GSTIN, "order_date": "2026-09-01", "amount_inr": 5000},
            {"sales_order_no": "SO/25-26/0099", "company_name": "Other Ltd", "status": "open",
             "gstin": "29AAACO1234A1Z5", "order_date": "2026-10-01", "amount_inr": 1},
        ],
    )  # fmt: skip
    mart(
        warehouse,
        "receivables",
        [{"invoice_no": "INV/25-26/0412", "company_name": "Acme Chem", "gstin": GOOD_GSTIN,
          "invoice_date": "2026-09-05", "due_date": "2026-10-05", "outstanding_inr": 5900,
          "days_overdue": 29}],
    )  # fmt: skip
    mart(
        warehouse,
        "customer_last_price",
        [{"customer_product_key": "k1", "company_name": "Acme Chem", "gstin": GOOD_GSTIN,
          "product_name": "Zinc Oxide", "last_rate_inr": 248, "rate_unit": "kg",
          "last_priced_on": "2026-09-05", "price_source": "focus_invoice"}],
    )  # fmt: skip
    add_card(card_id, "Rate enquiry - Zinc Oxide", "new", "sales", thread_key=card_id,
             latest_email_key=enquiry_key, message_count=2, attachment_count=1,
             company_key="pan:AAPFU0939F", company_name="Acme Chem")  # fmt: skip
    add_card("erp-card", "PO 4500012345", "new", "accounts", stream="erp",
             intent="purchase_order")  # fmt: skip
    return {"card_id": card_id, "enquiry": enquiry_key}


def _page(user: User, card_id: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["pebble_user"] = user
    at.query_params["card"] = card_id
    return at.run()


def _texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def _history(conn: psycopg.Connection, card_id: str) -> list[tuple[str, int, dict, str]]:
    return [
        (r.event_type, r.entity_version, r.payload, r.actor)
        for r in events.history(conn, "card", card_id)
    ]


def test_sales_sees_the_whole_thread_as_plain_text_oldest_first(thread) -> None:
    at = _page(SALES, thread["card_id"])
    assert not at.exception
    texts = _texts(at)
    assert "Rate enquiry - Zinc Oxide" in texts
    assert "Classification: crm · price enquiry · 93%" in texts
    headers = [t for t in texts if t.startswith("From: ")]
    assert len(headers) == 2
    assert headers[0].startswith("From: Bala Traders <bala@acme.in>\nTo: sales@pebbledemo.in")
    assert "(inbound)" in headers[0] and "(outbound)" in headers[1]
    assert "02 Nov 2026 09:00 IST" in headers[0]
    body = next(t for t in texts if "Please quote" in t)
    assert EVIL in body  # literally, not rendered
    assert texts.index(body) < texts.index("Dear Bala, we will revert with the rate shortly.")
    assert all("<script>" not in m.value for m in at.markdown)
    assert "Attachment: rate card.pdf · application/pdf · 279 bytes" in texts


def test_the_attachment_downloads_the_stored_bytes(thread, warehouse, monkeypatch) -> None:
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    served: dict[str, bytes] = {}
    load = MemoryMediaFileStorage.load_and_get_id

    def recording(self, path_or_data, mimetype, kind, filename=None):  # noqa: ANN001
        file_id = load(self, path_or_data, mimetype, kind, filename)
        served[self.get_url(file_id)] = bytes(path_or_data)
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", recording)
    at = _page(SALES, thread["card_id"])
    [button] = at.get("download_button")
    assert button.proto.label == "Download"
    assert served[button.proto.url] == PDF  # the bytes the button serves
    [attachment] = cards.fetch_attachments(warehouse, [thread["enquiry"]])
    assert (attachment.filename, attachment.sha256) == (
        "rate card.pdf",
        hashlib.sha256(PDF).hexdigest(),
    )
    # bytes that are not the recorded ones are never served
    attachment.path().write_bytes(b"tampered")
    assert attachment.read() is None


def test_entities_show_their_validity_and_links(thread) -> None:
    at = _page(SALES, thread["card_id"])
    texts = _texts(at)
    assert f"GSTIN: {GOOD_GSTIN} · valid → company pan:AAPFU0939F" in texts
    assert f"GSTIN: {BAD_GSTIN} · INVALID" in texts
    assert "ORDER_NO: SO/25-26/0042 → order SO/25-26/0042" in texts
    frame = at.dataframe[0]
    assert "Acme Chem · open · Rs 118,000.00" in frame.value["link_detail"].tolist()


def test_the_linked_company_s_open_orders_receivables_and_last_prices(thread) -> None:
    at = _page(SALES, thread["card_id"])
    texts = _texts(at)
    assert "Acme Chem (pan:AAPFU0939F)" in texts
    assert ["Open orders: 1", "Receivables outstanding: 1", "Last prices: 1"] == [
        t for t in texts if t.startswith(("Open orders", "Receivables", "Last prices"))
    ]
    entities, orders, receivables, prices = at.dataframe
    assert orders.value["order"].tolist() == ["SO/25-26/0042"]  # open, and Acme's only
    assert receivables.value["invoice"].tolist() == ["INV/25-26/0412"]
    assert prices.value[["product", "last_rate_inr"]].values.tolist() == [
        ["Zinc Oxide", "248.0000"]
    ]


def test_ops_is_refused_a_crm_card_like_a_missing_one(thread) -> None:
    at = _page(OPS, thread["card_id"])
    assert not at.exception
    assert [e.value for e in at.error] == ["No such card (or not one of your streams)."]
    assert "Rate enquiry - Zinc Oxide" not in _texts(at)
    missing = _page(OPS, "no-such-card")
    assert [e.value for e in missing.error] == [e.value for e in at.error]


def test_roles_without_the_page_see_none_of_it(thread) -> None:
    for role in ("marketing", "qc", "admin"):
        at = _page(User("x", role), thread["card_id"])
        assert at.error and "may not open this page" in at.error[0].value
        assert not at.text


def test_the_manager_reads_the_card_without_actions(thread) -> None:
    at = _page(MANAGER, thread["card_id"])
    assert not at.exception
    assert "Rate enquiry - Zinc Oxide" in _texts(at)
    assert [b.key for b in at.button] == []
    assert "Read only: your role sees cards but does not change them." in [
        c.value for c in at.caption
    ]
    with pytest.raises(NotAllowed), cards.connect() as conn:
        cards.move(conn, MANAGER, thread["card_id"], "done", 0)


def test_actions_append_events_with_the_version_shown(thread, warehouse) -> None:
    card_id = thread["card_id"]
    at = _page(SALES, card_id)
    at.text_input(key="card_assignee").input("priya")
    at.button(key="card_assign").click().run()
    assert [s.value for s in at.success] == ["Saved."]
    assert "Assigned to priya." in _texts(at)
    at.selectbox(key="card_stream").select("crm").run()
    at.selectbox(key="card_intent").select("sample_request")
    at.button(key="card_reclassify").click().run()
    at.selectbox(key="card_status").select("in_progress")
    at.button(key="card_move").click().run()
    assert not at.exception
    assert "sales · in progress · assigned to priya" in _texts(at)
    assert _history(warehouse, card_id) == [
        ("CardAssigned", 1, {"assignee": "priya"}, "priya"),
        # the message whose labels the card showed: what the model trains on next
        ("CardReclassified", 2, {"stream": "crm", "intent": "sample_request",
                                 "email_key": thread["enquiry"],
                                 "previous_stream": "crm", "previous_intent": "price_enquiry"},
         "priya"),
        ("CardMoved", 3, {"to": "in_progress", "from_status": "new"}, "priya"),
    ]  # fmt: skip


def test_draft_reply_save_and_mark_sent(thread, warehouse) -> None:
    card_id = thread["card_id"]
    at = _page(SALES, card_id)
    at.button(key="card_draft").click().run()
    assert not at.exception
    draft = at.text_area(key="card_draft_body").value
    assert draft.startswith("Dear Bala Traders,")
    assert any("Requires review" in w.value for w in at.warning)
    at.text_area(key="card_draft_body").input(draft + "\nRegards, Priya")
    at.button(key="card_save_draft").click().run()
    assert "Draft saved." in _texts(at)
    at.button(key="card_mark_sent").click().run()
    assert "Marked as sent." in _texts(at)
    (drafted, d_version, d_payload, _), (sent, s_version, s_payload, _) = _history(
        warehouse, card_id
    )
    assert (drafted, d_version, sent, s_version) == ("ReplyDrafted", 1, "ReplySent", 2)
    assert d_payload["email_key"] == thread["enquiry"] == s_payload["email_key"]
    assert d_payload["body"].endswith("Regards, Priya") and d_payload["requires_review"]
    assert s_payload["draft_id"] == d_payload["draft_id"]
    later = _page(SALES, card_id)  # another session carries on from the saved draft
    assert later.text_area(key="card_draft_body").value.endswith("Regards, Priya")
    assert any(t.startswith("A reply was marked sent at ") for t in _texts(later))


def test_no_grounded_draft_for_other_intents(thread, warehouse) -> None:
    card = cards.fetch_card(warehouse, SALES, thread["card_id"])
    [message] = [
        m for m in cards.fetch_thread(warehouse, card["thread_key"]) if not m["is_outbound"]
    ]
    proposal = cards.propose_draft(warehouse, {**card, "intent": "sample_request"}, message)
    assert (proposal.supported, proposal.text) == (False, "")
    assert proposal.notes == ("no grounded draft for the intent sample_request: write the reply",)


def test_a_card_before_the_staging_views_exist(warehouse, add_card) -> None:
    add_card("c1", "Rate enquiry", "new", "sales")
    at = _page(SALES, "c1")
    assert not at.exception
    assert "Thread (0 messages)" in [h.value for h in at.subheader]
    assert any("not readable yet" in i.value for i in at.info)


def test_a_change_by_someone_else_is_a_conflict_naming_them(thread, warehouse) -> None:
    card_id = thread["card_id"]
    at = _page(SALES, card_id)  # shows version 0
    events.append(
        warehouse,
        events.new_event("CardMoved", card_id, actor="anita", payload={"to": "quoted"}),
        0,
    )
    at.selectbox(key="card_status").select("done")
    at.button(key="card_move").click().run()
    assert [e.value for e in at.error] == ["Someone else changed this card: nothing was saved."]
    [detail] = [t for t in _texts(at) if t.startswith("anita changed this card (Moved) at ")]
    assert "version 0 → 1" in detail
    assert [r[:2] for r in _history(warehouse, card_id)] == [("CardMoved", 1)]
    assert "sales · quoted · unassigned" in _texts(at)  # the page now shows their change


def test_assignees_come_from_the_accounts_when_there_are_some(thread, warehouse) -> None:
    for name, role in (("priya", "sales"), ("ravi", "ops"), ("meena", "manager")):
        warehouse.execute(
            "INSERT INTO auth.users (username, role, password_hash) VALUES (%s, %s, '$argon2x')",
            (name, role),
        )
    at = _page(SALES, thread["card_id"])
    assert at.selectbox(key="card_assignee").options == ["(unassigned)", "priya", "ravi"]
    at.selectbox(key="card_assignee").select("ravi")
    at.button(key="card_assign").click().run()
    assert _history(warehouse, thread["card_id"])[0][2] == {"assignee": "ravi"}


def test_commands_check_the_role_and_the_stream(thread, warehouse) -> None:
    with pytest.raises(cards.CardNotFound):
        cards.assign(warehouse, OPS, thread["card_id"], "ravi", 0)
    cards.assign(warehouse, OPS, "erp-card", "ravi", 0)
    with pytest.raises(cards.CardNotFound):
        cards.assign(warehouse, SALES, "erp-card", "priya", 1)
    with pytest.raises(events.EventError):
        cards.reclassify(warehouse, SALES, thread["card_id"], "crm", "purchase_order", 0)
    assert cards.intent_choices("tender") == ["tender_notice"]
    assert cards.gstin_valid(GOOD_GSTIN) and not cards.gstin_valid(BAD_GSTIN)
    assert _history(warehouse, thread["card_id"]) == []
