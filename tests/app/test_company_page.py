"""Company 360 (app/pages/company.py, app/company/): every role opens it and sees only what
its role allows, enforced in the query layer; search by name (fuzzy, no pg_trgm), GSTIN,
PAN, CIN and domain; an unknown key says so; untrusted text renders as text; the card page
links to it.

The marts are created from their yml contracts (tests/app/conftest.py ``mart``); no dbt."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from app.company import queries, timeline
from app.company.access import ROLE_SECTIONS, SECTION_TITLES
from app.company.search import search_companies
from pebble.auth import NotAllowed, User
from pebble.roles import ROLES
from tests.app.conftest import mart

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "app" / "pages" / "company.py")
CARD_PAGE = str(ROOT / "app" / "pages" / "card.py")

KEY = "pan:AAPFU0939F"
GSTIN_MH = "27AAPFU0939F1ZV"
GSTIN_KA = "29AAPFU0939F1ZR"
BAD_GSTIN = "27AAPFU0939F1ZX"
CIN = "U24110MH2010PTC123456"
OTHER_GSTIN = "33AAACO5678Q1ZS"
EVIL = '<script>alert("x")</script> **bold** [click](http://evil.example)'
NAME = f"Sri Venkateswara Chemicals Pvt Ltd {EVIL}"

USERS = {role: User(f"user_{role}", role) for role in ROLES}
SALES, OPS, QC, MARKETING, MANAGER, ADMIN = (
    USERS[r] for r in ("sales", "ops", "qc", "marketing", "manager", "admin")
)

CRM_SUBJECT = f"Rate enquiry {EVIL}"
ERP_SUBJECT = "PO 4500012345 for Zinc Oxide"
COMPLAINT_SUBJECT = "Off-colour batch ZO-7"
TENDER_SUBJECT = "Tender notice: caustic soda"


def _event(event_type: str, entity_type: str, entity_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "actor": "system:test",
        "payload": psycopg.types.json.Jsonb(extra.pop("payload", {})),
        "occurred_at": "2026-11-02 10:00+05:30",
        "loaded_at": "2026-11-02 10:00+05:30",
    } | extra


@pytest.fixture
def world(warehouse: psycopg.Connection, add_card) -> psycopg.Connection:
    """Sri Venkateswara (two GSTINs, an invalid one flagged, a group sibling) with cards of
    every stream, an order, an overdue invoice, prices, QC and a timeline; and another
    company whose rows must never show."""
    mart(
        warehouse,
        "crm_companies",
        [
            {"company_key": KEY, "name": NAME, "pan": "AAPFU0939F", "cin": CIN,
             "gstins": [GSTIN_MH, GSTIN_KA], "gstin_states": ["Maharashtra", "Karnataka"],
             "group_key": "group:svchem.in", "source_systems": ["focus", "mail"],
             "source_ids": psycopg.types.json.Jsonb({"focus": ["C001"]}), "source_count": 2,
             "overdue_receivables_inr": 250000, "overdue_invoice_count": 1,
             "max_days_overdue": 45, "payment_days": 75.0, "qc_complaint_email_count": 1,
             "qc_failed_batch_count": 1, "qc_complaint_count": 2, "invalid_gstin_count": 1,
             "mismatched_gstin_count": 0, "gstin_issue_count": 1, "issue_gstins": [BAD_GSTIN],
             "risk_points": psycopg.types.json.Jsonb(
                 {"overdue_amount": 15.0, "overdue_invoices": 2.0, "payment_days": 18.8,
                  "qc_complaints": 13.3, "gstin_issues": 7.5}),
             "risk_score": 57},
            {"company_key": "pan:AABCS1111K", "name": "SV Chem Exports", "pan": "AABCS1111K",
             "gstins": [], "gstin_states": [], "group_key": "group:svchem.in",
             "source_systems": ["mail"], "source_ids": psycopg.types.json.Jsonb({}),
             "source_count": 1, "overdue_receivables_inr": 0, "overdue_invoice_count": 0,
             "max_days_overdue": 0, "qc_complaint_email_count": 0, "qc_failed_batch_count": 0,
             "qc_complaint_count": 0, "invalid_gstin_count": 0, "mismatched_gstin_count": 0,
             "gstin_issue_count": 0, "issue_gstins": [],
             "risk_points": psycopg.types.json.Jsonb({}), "risk_score": 0},
            {"company_key": "pan:AAACO5678Q", "name": "Other Organics Ltd", "pan": "AAACO5678Q",
             "gstins": [OTHER_GSTIN], "gstin_states": ["Tamil Nadu"],
             "source_systems": ["focus"], "source_ids": psycopg.types.json.Jsonb({}),
             "source_count": 1, "overdue_receivables_inr": 0, "overdue_invoice_count": 0,
             "max_days_overdue": 0, "qc_complaint_email_count": 0, "qc_failed_batch_count": 0,
             "qc_complaint_count": 0, "invalid_gstin_count": 0, "mismatched_gstin_count": 0,
             "gstin_issue_count": 0, "issue_gstins": [],
             "risk_points": psycopg.types.json.Jsonb({}), "risk_score": 0},
        ],
    )  # fmt: skip
    mart(
        warehouse,
        "crm_contacts",
        [{"email": "bala@svchem.in", "company_key": KEY, "name": "Bala", "is_primary": True,
          "source_systems": ["mail"], "designation": "Purchase"}],
    )  # fmt: skip
    mart(
        warehouse,
        "crm_company_sources",
        [{"company_key": KEY, "source_system": "focus", "source_id": "C001", "rule": "gstin",
          "score": 1},
         {"company_key": KEY, "source_system": "mail", "source_id": "bala@svchem.in",
          "rule": "domain", "score": 0.8}],
    )  # fmt: skip
    add_card("t-crm", CRM_SUBJECT, "new", "sales", company_key=KEY, latest_email_key="e-crm")
    add_card("t-erp", ERP_SUBJECT, "in_progress", "orders", stream="erp",
             intent="purchase_order", company_key=KEY, latest_email_key="e-erp")  # fmt: skip
    add_card("t-qc", COMPLAINT_SUBJECT, "new", "quality", stream="erp",
             intent="quality_complaint", company_key=KEY, latest_email_key="e-qc")  # fmt: skip
    add_card("t-tender", TENDER_SUBJECT, "new", "tenders", stream="tender",
             intent="tender_notice", company_key=KEY, latest_email_key="e-tender")  # fmt: skip
    add_card("t-other", "Other company's enquiry", "new", "sales",
             company_key="pan:AAACO5678Q", latest_email_key="e-other")  # fmt: skip
    mart(
        warehouse,
        "sales_orders",
        [{"sales_order_no": "SO/0042", "company_name": "SV Chemicals", "customer_code": "C001",
          "gstin": None, "status": "open", "order_date": "2026-10-30", "amount_inr": 118000},
         {"sales_order_no": "SO/0043", "company_name": "Sri Venkateswara", "gstin": GSTIN_KA,
          "status": "invoiced", "order_date": "2026-09-01", "amount_inr": 5000},
         {"sales_order_no": "SO/0099", "company_name": "Other Organics", "customer_code": "C9",
          "gstin": OTHER_GSTIN, "status": "open", "order_date": "2026-10-01",
          "amount_inr": 1}],
    )  # fmt: skip
    mart(
        warehouse,
        "sales_order_lines",
        [{"sales_order_line_key": "SO/0042:1", "sales_order_no": "SO/0042", "line_no": 1,
          "order_date": "2026-10-30", "product_name": "Zinc Oxide", "qty": 500, "unit": "kg",
          "rate_inr": 236, "amount_inr": 118000, "line_status": "open"}],
    )  # fmt: skip
    mart(
        warehouse,
        "receivables",
        [{"invoice_no": "INV/0412", "company_name": "SV Chemicals", "gstin": GSTIN_MH,
          "invoice_date": "2026-09-05", "due_date": "2026-10-05", "amount_inr": 250000,
          "paid_inr": 0, "outstanding_inr": 250000, "days_overdue": 45},
         {"invoice_no": "INV/0999", "company_name": "Other Organics", "gstin": OTHER_GSTIN,
          "invoice_date": "2026-09-05", "due_date": "2026-10-05", "amount_inr": 7,
          "paid_inr": 0, "outstanding_inr": 7, "days_overdue": 45}],
    )  # fmt: skip
    mart(
        warehouse,
        "customer_last_price",
        [{"customer_product_key": "k1", "company_name": "SV Chemicals", "gstin": GSTIN_MH,
          "product_name": "Zinc Oxide", "last_rate_inr": 248, "rate_unit": "kg",
          "last_priced_on": "2026-09-05", "price_source": "focus_invoice"},
         {"customer_product_key": "k9", "company_name": "Other Organics", "gstin": OTHER_GSTIN,
          "product_name": "Caustic Soda", "last_rate_inr": 41, "rate_unit": "kg",
          "last_priced_on": "2026-09-05", "price_source": "focus_invoice"}],
    )  # fmt: skip
    mart(
        warehouse,
        "qc_batches",
        [{"batch_key": "ZO-7", "batch_no": "ZO-7", "sales_order_no": "SO/0042",
          "product_name": "Zinc Oxide", "result": "fail", "passed": False,
          "inspection_date": "2026-10-31", "out_of_spec_count": 1, "coa_status": "pending"},
         {"batch_key": "CS-1", "batch_no": "CS-1", "sales_order_no": "SO/0099",
          "product_name": "Caustic Soda", "result": "pass", "passed": True,
          "inspection_date": "2026-10-31", "out_of_spec_count": 0, "coa_status": "issued"}],
    )  # fmt: skip
    mart(
        warehouse,
        "qc_results",
        [{"qc_result_key": "QC/7:1", "qc_doc_no": "QC/7", "line_no": 1, "batch_no": "ZO-7",
          "sales_order_no": "SO/0042", "product_name": "Zinc Oxide", "param_name": "Purity",
          "result_value": 97.1, "min_value": 99.0, "max_value": 100.0, "in_spec": False,
          "out_of_spec_side": "low", "inspection_date": "2026-10-31"}],
    )  # fmt: skip
    mart(
        warehouse,
        "qc_alerts",
        [{"alert_id": "out_of_spec:QC/7:1", "alert_type": "out_of_spec", "batch_no": "ZO-7",
          "sales_order_no": "SO/0042", "product_name": "Zinc Oxide", "param_name": "Purity",
          "alerted_on": "2026-10-31", "detail": "Purity 97.1 below 99.0"}],
    )  # fmt: skip
    mart(
        warehouse,
        "activity_stream",
        [
            _event("OrderPlaced", "sales_order", "SO/0042",
                   payload={"company_name": "SV Chemicals", "amount_inr": 118000}),
            _event("OrderPlaced", "sales_order", "SO/0099",
                   payload={"company_name": "Other Organics"}),
            _event("InvoiceRaised", "invoice", "INV/0412", payload={"gstin": GSTIN_MH}),
            _event("PaymentReceived", "payment", "RCPT/1",
                   payload={"gstin": GSTIN_KA, "amount": 1000}),
            _event("QCResultRecorded", "qc_inspection", "QC/7", payload={"batch_no": "ZO-7"}),
            _event("EmailReceived", "email", "e-crm", payload={"subject": CRM_SUBJECT}),
            _event("EmailReceived", "email", "e-erp", payload={"subject": ERP_SUBJECT}),
            _event("CardMoved", "card", "t-erp", company_key=KEY,
                   payload={"to": "in_progress"}),
            _event("PreleadLoaded", "prelead", "list-1/4",
                   payload={"company_name": "Sri Venkateswara", "gstin": GSTIN_MH}),
        ],
    )  # fmt: skip
    return warehouse


def _company(conn: psycopg.Connection) -> queries.Company:
    found = queries.fetch_company(conn, KEY)
    assert found is not None
    return found


def _page(user: User, **params: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["pebble_user"] = user
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def _texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def _shown(at: AppTest) -> str:
    """Everything the page put on screen as text: texts, captions, alerts and every cell
    of every table, and the select boxes' option labels."""
    parts = [*_texts(at), *(c.value for c in at.caption)]
    parts += [e.value for kind in (at.error, at.info, at.warning, at.success) for e in kind]
    for frame in at.dataframe:
        parts.append(frame.value.to_csv(index=False))
    for box in at.selectbox:
        parts.extend(str(o) for o in box.options)
    return "\n".join(parts)


def _all_tabs(user: User) -> dict[str, AppTest]:
    """The page once per tab the role has (only the chosen tab's queries run)."""
    return {
        section: _page(user, key=KEY, company_tab=SECTION_TITLES[section])
        for section in ROLE_SECTIONS[user.role]
    }


# --- roles -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_opens_the_company_with_its_own_tabs(world, role) -> None:
    at = _page(USERS[role], key=KEY)
    assert not at.exception
    assert NAME in _texts(at)  # the untrusted name, literally
    assert [t.label for t in at.tabs] == [SECTION_TITLES[s] for s in ROLE_SECTIONS[role]]
    assert "Risk score 57 of 100" in _texts(at)


def test_sales_sees_crm_and_tender_cards_only(world) -> None:
    conn = world
    frame = queries.cards(conn, SALES, _company(conn))
    assert sorted(frame["card_id"].to_list()) == ["t-crm", "t-tender"]
    shown = _shown(_page(SALES, key=KEY, company_tab=SECTION_TITLES["mail"]))
    assert CRM_SUBJECT in shown and TENDER_SUBJECT in shown
    assert ERP_SUBJECT not in shown and COMPLAINT_SUBJECT not in shown
    assert "Other company's enquiry" not in shown


def test_ops_sees_erp_cards_only(world) -> None:
    frame = queries.cards(world, OPS, _company(world))
    assert sorted(frame["card_id"].to_list()) == ["t-erp", "t-qc"]
    shown = _shown(_page(OPS, key=KEY, company_tab=SECTION_TITLES["mail"]))
    assert ERP_SUBJECT in shown and CRM_SUBJECT not in shown


def test_the_manager_and_admin_see_every_card(world) -> None:
    for user in (MANAGER, ADMIN):
        frame = queries.cards(world, user, _company(world))
        assert sorted(frame["card_id"].to_list()) == ["t-crm", "t-erp", "t-qc", "t-tender"]


def test_marketing_and_qc_are_refused_mail_receivables_and_prices_by_the_query_layer(
    world,
) -> None:
    company = _company(world)
    for user in (MARKETING, QC):
        with pytest.raises(NotAllowed):
            queries.cards(world, user, company)
        with pytest.raises(NotAllowed):
            queries.receivables(world, user, company)
        with pytest.raises(NotAllowed):
            queries.last_prices(world, user, company)
        with pytest.raises(NotAllowed):
            queries.quoted_prices(world, user, company)
    with pytest.raises(NotAllowed):
        queries.quality(world, MARKETING, company)
    for user in (SALES, OPS, MANAGER, ADMIN):
        assert queries.receivables(world, user, company).invoices["invoice_no"].to_list() == [
            "INV/0412"
        ]


def test_marketing_sees_no_receivables_anywhere_on_the_page(world) -> None:
    pages = _all_tabs(MARKETING)
    assert set(pages) == {"overview", "contacts", "orders", "activity"}
    for at in pages.values():
        assert not at.exception
        shown = _shown(at)
        assert "INV/0412" not in shown and "250000" not in shown
        assert CRM_SUBJECT not in shown and ERP_SUBJECT not in shown
    # the risk score without its money inputs
    risk = pages["overview"].dataframe[-1].value
    assert risk["input"].tolist() == ["qc_complaints", "gstin_issues"]
    assert any("not shown to your role" in c.value for c in pages["overview"].caption)
    # its orders, without unit rates
    orders_page = pages["orders"]
    assert "SO/0042" in _shown(orders_page) and "SO/0099" not in _shown(orders_page)
    lines = queries.order_lines(world, MARKETING, _company(world))
    assert "rate_inr" not in lines.columns and lines["sales_order_no"].to_list() == ["SO/0042"]


def test_qc_sees_quality_and_complaint_cards_without_their_subject(world) -> None:
    company = _company(world)
    quality = queries.quality(world, QC, company)
    assert quality.batches["batch_key"].to_list() == ["ZO-7"]  # not the other company's
    assert quality.flagged_results["param_name"].to_list() == ["Purity"]
    assert quality.alerts["alert_type"].to_list() == ["out_of_spec"]
    assert quality.complaints.height == 1
    assert "subject" not in quality.complaints.columns
    assert "card_id" not in quality.complaints.columns
    at = _page(QC, key=KEY, company_tab=SECTION_TITLES["qc"])
    assert not at.exception
    shown = _shown(at)
    assert "ZO-7" in shown and COMPLAINT_SUBJECT not in shown
    # ops sees the complaint card with its subject
    ops_quality = queries.quality(world, OPS, company)
    assert ops_quality.complaints["subject"].to_list() == [COMPLAINT_SUBJECT]
    assert ops_quality.complaints["card_page"].to_list() == ["card?card=t-qc"]
    # sales' streams hold no complaint card
    assert queries.quality(world, SALES, company).complaints.height == 0


def test_the_timeline_holds_only_what_the_role_sees(world) -> None:
    company = _company(world)

    def events(user: User) -> set[tuple[str, str]]:
        frame = timeline.activity(world, user, company)
        return set(zip(frame["event_type"], frame["entity_id"], strict=True))

    everything = {
        ("OrderPlaced", "SO/0042"),
        ("InvoiceRaised", "INV/0412"),
        ("PaymentReceived", "RCPT/1"),
        ("QCResultRecorded", "QC/7"),
        ("EmailReceived", "e-crm"),
        ("EmailReceived", "e-erp"),
        ("CardMoved", "t-erp"),
        ("PreleadLoaded", "list-1/4"),
    }
    assert events(MANAGER) == everything == events(ADMIN)
    assert events(SALES) == {
        ("OrderPlaced", "SO/0042"),
        ("InvoiceRaised", "INV/0412"),
        ("PaymentReceived", "RCPT/1"),
        ("QCResultRecorded", "QC/7"),
        ("EmailReceived", "e-crm"),
    }
    assert events(OPS) == everything - {("EmailReceived", "e-crm"), ("PreleadLoaded", "list-1/4")}
    assert events(MARKETING) == {("OrderPlaced", "SO/0042"), ("PreleadLoaded", "list-1/4")}
    assert events(QC) == {("OrderPlaced", "SO/0042"), ("QCResultRecorded", "QC/7")}
    at = _page(SALES, key=KEY, company_tab=SECTION_TITLES["activity"])
    assert not at.exception
    assert "INV/0412" in _shown(at) and ERP_SUBJECT not in _shown(at)


def test_overview_identifiers_with_validity_gstins_by_state_and_group(world) -> None:
    at = _page(MARKETING, key=KEY)
    assert not at.exception
    identifiers = at.dataframe[0].value
    valid = dict(zip(identifiers["value"], identifiers["valid"], strict=True))
    assert valid == {
        "AAPFU0939F": "valid",
        CIN: "valid",
        GSTIN_MH: "valid",
        GSTIN_KA: "valid",
        BAD_GSTIN: "INVALID",
    }
    by_state = at.dataframe[1].value
    assert dict(zip(by_state["state"], by_state["gstins"], strict=True)) == {
        "Karnataka": GSTIN_KA,
        "Maharashtra": GSTIN_MH,
    }
    group = at.dataframe[2].value
    assert group["company_key"].tolist() == ["pan:AABCS1111K"]
    assert "Group group:svchem.in (companies sharing a mail domain)" in _texts(at)


def test_orders_receivables_and_prices_are_the_company_s_own(world) -> None:
    company = _company(world)
    # by the Focus customer code (no GSTIN on the order) and by a GSTIN
    assert queries.orders(world, SALES, company)["sales_order_no"].to_list() == [
        "SO/0042",
        "SO/0043",
    ]
    owed = queries.receivables(world, SALES, company)
    assert (owed.outstanding_inr, owed.overdue_inr, owed.overdue_count) == (250000, 250000, 1)
    assert owed.ageing.rows() == [("31-60", 1, 250000)]
    assert queries.last_prices(world, SALES, company)["product_name"].to_list() == ["Zinc Oxide"]
    at = _page(SALES, key=KEY, company_tab=SECTION_TITLES["receivables"])
    assert "Outstanding ₹2,50,000 · overdue ₹2,50,000 on 1 invoice" in _texts(at)


def test_an_order_opens_its_company(world) -> None:
    at = _page(OPS, order="SO/0042")
    assert not at.exception
    assert at.query_params["key"] == [KEY] or at.query_params["key"] == KEY
    assert NAME in _texts(at)
    missing = _page(OPS, order="SO/NOPE")
    assert [e.value for e in missing.error] == [
        "No CRM company for this order (or the order is not in the warehouse)."
    ]


# --- search ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("Venkateswra Chemicals", "name"),  # a typo
        ("SriVenkateswara", "name"),  # glued words
        (GSTIN_KA.lower(), "gstin"),
        (BAD_GSTIN, "gstin"),  # a flagged (invalid) GSTIN of the company
        ("AAPFU0939F", "pan"),
        (CIN, "cin"),
        ("svchem.in", "domain"),
        ("Bala@SVChem.in", "email"),
        (KEY, "key"),
    ],
)
def test_search_finds_the_company_by_each_identifier(world, text, matched) -> None:
    hits = search_companies(world, text)
    assert hits, text
    assert (hits[0].company_key, hits[0].matched) == (KEY, matched)
    assert all(h.company_key != "pan:AAACO5678Q" for h in hits)


def test_search_on_the_page_then_open(world) -> None:
    at = _page(SALES, q="venkatesvara")
    assert not at.exception
    assert at.dataframe[0].value["company_key"].tolist()[0] == KEY
    at.selectbox(key="company_pick").select(KEY).run()
    at.button(key="company_open").click().run()
    assert not at.exception
    assert NAME in _texts(at)
    nothing = _page(SALES, q="zzzzqqq")
    assert [i.value for i in nothing.info] == ["No company matches the search."]


def test_an_unknown_key_says_so(world) -> None:
    at = _page(SALES, key="pan:NOSUCH0000")
    assert not at.exception
    assert [e.value for e in at.error] == [
        "No such company in the CRM master (or the CRM master is not built yet)."
    ]
    assert "Key: pan:NOSUCH0000" in _texts(at)
    assert not at.tabs


def test_before_the_crm_master_is_built_the_page_says_so(warehouse) -> None:
    at = _page(MANAGER, key=KEY)
    assert not at.exception
    assert at.error and "not built yet" in at.error[0].value
    assert search_companies(warehouse, "anything") == []


def test_untrusted_text_renders_as_text(world) -> None:
    for section in ("overview", "mail", "activity"):
        at = _page(MANAGER, key=KEY, company_tab=SECTION_TITLES[section])
        assert not at.exception
        assert all("<script>" not in m.value for m in at.markdown)
        assert all("<script>" not in (getattr(e, "label", "") or "") for e in at.button)
    at = _page(MANAGER, key=KEY, company_tab=SECTION_TITLES["mail"])
    assert CRM_SUBJECT in at.selectbox(key="company_card_pick").options


def test_roles_see_a_link_to_the_card_of_a_card_they_may_open(world) -> None:
    at = _page(SALES, key=KEY, company_tab=SECTION_TITLES["mail"])
    picked = at.selectbox(key="company_card_pick")
    assert sorted(picked.options) == sorted([CRM_SUBJECT, TENDER_SUBJECT])
    [button] = [b for b in at.get("link_button") if b.proto.label == "Open the card"]
    assert button.proto.url == f"card?card={picked.value}"
    picked.select("t-crm").run()
    [button] = [b for b in at.get("link_button") if b.proto.label == "Open the card"]
    assert button.proto.url == "card?card=t-crm"
    admin = _page(ADMIN, key=KEY, company_tab=SECTION_TITLES["mail"])  # admin does not open cards
    assert not [b for b in admin.get("link_button") if b.proto.label == "Open the card"]


def test_the_card_page_links_to_its_company(world) -> None:
    at = AppTest.from_file(CARD_PAGE, default_timeout=30)
    at.session_state["pebble_user"] = SALES
    at.query_params["card"] = "t-crm"
    at.run()
    assert not at.exception
    urls = [b.proto.url for b in at.get("link_button")]
    assert f"company?key={KEY.replace(':', '%3A')}" in urls


def test_the_prelead_queue_links_a_duplicate_candidate_to_its_company(
    warehouse: psycopg.Connection, tmp_path: Path
) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "prelead_link_support", Path(__file__).with_name("test_prelead_commands.py")
    )
    support = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(support)
    support.demo_batch(warehouse, tmp_path)  # row 4 has the candidate pan:AACCL1234F
    at = AppTest.from_file(str(ROOT / "app" / "pages" / "prelead.py"), default_timeout=30)
    at.session_state["pebble_user"] = MARKETING
    at.session_state["prelead_row"] = "expo_2026/4"
    at.run()
    assert not at.exception
    links = {b.proto.label: b.proto.url for b in at.get("link_button")}
    assert links == {"Company 360: candidate 1": "company?key=pan%3AAACCL1234F"}


def test_mail_linked_by_the_crm_and_prices_named_in_it_follow_the_streams(world, add_card) -> None:
    """Cards the CRM links through a message (no company on the card itself) belong to the
    company; the prices the extractor found in them show to the roles of their stream."""
    from email.message import EmailMessage

    from ingest.mail.land import land_bytes
    from tests.app.conftest import staging_views

    def message(subject: str, body: str, message_id: str) -> bytes:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "Bala <bala@svchem.in>", "sales@x.in", subject
        msg["Date"], msg["Message-ID"] = "Mon, 02 Nov 2026 09:00:00 +0530", message_id
        msg.set_content(body)
        return msg.as_bytes()

    report = land_bytes(
        world,
        [("a.eml", message("Rate for ZnO?", "Target Rs 230/kg", "<q-crm@svchem.in>")),
         ("b.eml", message("PO ZnO", "PO at Rs 236/kg", "<q-erp@svchem.in>"))],
        mailbox="sales",
    )  # fmt: skip
    assert report.landed == 2
    staging_views(world, "stg_mail__emails", "stg_ml__email_entities")
    keys = dict(
        world.execute(
            "SELECT message_id, email_key FROM raw.emails WHERE message_id LIKE 'q-%'"
        ).fetchall()
    )
    threads = dict(
        world.execute(
            "SELECT message_id, thread_key FROM raw.emails WHERE message_id LIKE 'q-%'"
        ).fetchall()
    )
    for n, (mid, price) in enumerate((("q-crm@svchem.in", "Rs 230/kg"),
                                      ("q-erp@svchem.in", "Rs 236/kg"))):  # fmt: skip
        world.execute(
            "INSERT INTO ml.email_entities (email_key, position, label, text, value, valid)"
            " VALUES (%s, %s, 'PRICE', %s, to_jsonb(%s::text), NULL)",
            (keys[mid], n, price, price.split()[1]),
        )
    add_card(threads["q-crm@svchem.in"], "Rate for ZnO?", "new", "sales",
             latest_email_key=keys["q-crm@svchem.in"])  # fmt: skip
    add_card(threads["q-erp@svchem.in"], "PO ZnO", "new", "orders", stream="erp",
             intent="purchase_order", latest_email_key=keys["q-erp@svchem.in"])  # fmt: skip
    mart(
        world,
        "crm_email_links",
        [{"email_key": keys[m], "company_key": KEY, "is_automated": False, "rule": "domain"}
         for m in ("q-crm@svchem.in", "q-erp@svchem.in")],
    )  # fmt: skip
    company = _company(world)
    sales_cards = queries.cards(world, SALES, company)["subject"].to_list()
    assert "Rate for ZnO?" in sales_cards and "PO ZnO" not in sales_cards
    assert "PO ZnO" in queries.cards(world, OPS, company)["subject"].to_list()
    assert queries.quoted_prices(world, SALES, company)["price_text"].to_list() == ["Rs 230/kg"]
    assert queries.quoted_prices(world, OPS, company)["price_text"].to_list() == ["Rs 236/kg"]
    assert sorted(queries.quoted_prices(world, MANAGER, company)["price_text"].to_list()) == [
        "Rs 230/kg",
        "Rs 236/kg",
    ]
    # and on the page
    at = _page(SALES, key=KEY, company_tab=SECTION_TITLES["prices"])
    assert not at.exception and "Rs 230/kg" in _shown(at) and "Rs 236/kg" not in _shown(at)


def test_a_tab_the_role_lacks_cannot_be_opened_by_its_url(world) -> None:
    at = _page(MARKETING, key=KEY, company_tab=SECTION_TITLES["receivables"])
    assert not at.exception
    assert "INV/0412" not in _shown(at) and "250000" not in _shown(at)
    at = _page(QC, key=KEY, company_tab=SECTION_TITLES["mail"])
    assert not at.exception and CRM_SUBJECT not in _shown(at)
