"""Linking entities to companies, sales orders and stock items."""

from __future__ import annotations

import logging

import psycopg
import pytest
from psycopg.types.json import Jsonb

from ml.extract import Entity
from ml.extract.linking import (
    MasterIndex,
    build_index,
    email_domain,
    link,
    link_company,
    load_index,
    load_products,
)
from tests.ml.marts import build_marts

COMPANIES = [
    {
        "company_id": "C0001",
        "name": "Deccan Paints Ltd",
        "pan": "AADCD7742M",
        "domain": "deccanpaints.co.in",
        "gstins": [{"gstin": "36AADCD7742M1Z9"}],
    },
    {
        "company_id": "C0002",
        "name": "Kumar Traders",
        "pan": "AAKFK1234P",
        "domain": "gmail.com",
        "email": "Kumar Traders <KumarTraders@gmail.com>; accounts.kumar@gmail.com",
        "gstins": [{"gstin": "33AAKFK1234P1ZA"}],
    },
]
ORDERS = [
    {"doc_no": "SO/25-26/01877", "company_id": "C0002", "po_ref": "PO/BLR/2025/118"},
    {"doc_no": "SO/25-26/01900", "gstin": "36AADCD7742M1Z9", "po_ref": "4500012345"},
]


def ent(label: str, value: str) -> Entity:
    return Entity(label, value, value, 0, len(value))


@pytest.fixture
def index() -> MasterIndex:
    return build_index(COMPANIES, ORDERS, [{"name": "Zinc Oxide"}, "PVC Resin K67"])


DECCAN = "Anita <anita@DeccanPaints.co.in>"
KUMAR = "kumar <kumartraders@gmail.com>"


def test_gstin_on_file_links_the_company_its_sender_belongs_to(index):
    found = link_company([ent("GSTIN", "36AADCD7742M1Z9")], index, sender=DECCAN)
    assert (found.company, found.name, found.evidence) == ("C0001", "Deccan Paints Ltd", "gstin")


def test_unknown_state_registration_links_through_its_pan(index):
    found = link_company([ent("GSTIN", "27AADCD7742M1ZX")], index, sender=DECCAN)
    assert (found.company, found.evidence) == ("C0001", "pan")


def test_standalone_pan_links_from_a_contact_on_file(index):
    found = link_company([ent("PAN", "AAKFK1234P")], index, sender=KUMAR)
    assert (found.company, found.evidence) == ("C0002", "pan")


def test_a_cin_on_file_links_its_company():
    index = build_index([{**COMPANIES[0], "cin": "U24100MH2001PLC123456"}])
    found = link_company([ent("CIN", "U24100MH2001PLC123456")], index, sender="a@b.example")
    assert (found.company, found.evidence) == ("C0001", "cin")


def test_a_quoted_order_never_decides_the_company_and_links_only_to_its_customer(index):
    # anyone can quote an order number: alone it links nothing
    stranger = link([ent("ORDER_NO", "SO/25-26/01877")], index, sender="x@unknown-firm.example")
    assert stranger.company is None and stranger.orders == () and stranger.conflict is None
    kumar = link([ent("ORDER_NO", "SO/25-26/01877")], index, sender=KUMAR)
    assert (kumar.company.company, kumar.company.evidence) == ("C0002", "contact")
    assert [(o.doc_no, o.via) for o in kumar.orders] == [("SO/25-26/01877", "order_no")]
    links = link([ent("PO_NO", "4500012345")], index, sender=DECCAN)
    assert [(o.doc_no, o.via, o.company) for o in links.orders] == [
        ("SO/25-26/01900", "po_ref", "C0001")
    ]
    assert links.company.company == "C0001" and links.conflict is None
    # Deccan quoting Kumar's order: Deccan's mail, Kumar's order not linked to it
    other = link([ent("ORDER_NO", "SO/25-26/01877")], index, sender=DECCAN)
    assert other.company.company == "C0001" and other.orders == ()


def test_sender_address_alone_links_and_free_mail_domains_never_count(index):
    found = link_company([], index, sender=DECCAN)
    assert (found.company, found.evidence) == ("C0001", "domain")
    found = link_company([], index, sender="Accounts <Accounts.Kumar@gmail.com>")
    assert (found.company, found.evidence) == ("C0002", "contact")
    assert link_company([], index, sender="someone.else@gmail.com") is None
    assert link_company([ent("GSTIN", "29AAAAA0000A1Z5")], index, sender=DECCAN).company == (
        "C0001"
    )


def test_the_crm_s_decision_for_a_sender_comes_first():
    index = build_index(COMPANIES, senders={"ravi.deccan@gmail.com": "C0001"})
    found = link_company([], index, sender="Ravi <Ravi.Deccan@gmail.com>")
    assert (found.company, found.evidence) == ("C0001", "contact")


def test_a_domain_two_companies_share_identifies_neither():
    # sister firms (or near-namesakes) writing from one domain: never a guess between them
    lotus = [
        {"company_id": "L1", "name": "Lotus Rubber Pvt. Ltd.", "domain": "lotusgroup.in"},
        {"company_id": "L2", "name": "Lotus Rubber Products Private Limited",
         "emails": ["accounts@lotusgroup.in"]},
    ]  # fmt: skip
    index = build_index(lotus)
    assert link_company([], index, sender="purchase@lotusgroup.in") is None
    # the contact on file still places its own address
    assert link_company([], index, sender="accounts@lotusgroup.in").company == "L2"


def test_a_near_namesake_signing_from_a_customer_s_domain_is_not_linked(index):
    namesake = (
        "Need rates\n\nPlease quote.\n\nAmit\nHead - Procurement\nDeccan Paint Traders Pvt. Ltd.\n"
    )
    links = link([], index, sender=DECCAN, text=namesake)
    assert links.company is None and links.conflict == "other_company"
    # the customer's own staff sign with its name, in any company form
    own = "Please quote.\n\nAnita\nDECCAN PAINTS LIMITED\n"
    assert link([], index, sender=DECCAN, text=own).company.company == "C0001"
    # a name in quoted history (another firm's signature, ours) says nothing about the sender
    quoted = (
        "Thanks, noted.\n\nOn Mon, 10 Nov 2025, Sales wrote:\n> Regards\n> Kumar Traders Pvt Ltd\n"
    )
    assert link([], index, sender=DECCAN, text=quoted).company.company == "C0001"


def test_automated_mail_is_linked_to_no_company(index):
    links = link([ent("GSTIN", "36AADCD7742M1Z9")], index, sender=DECCAN, automated=True)
    assert links.company is None and links.conflict is None


def test_signals_that_disagree_leave_the_mail_unlinked_and_flag_it(index):
    # Deccan's staff quote Kumar's public GSTIN and Kumar's order number.
    quoted = [ent("GSTIN", "33AAKFK1234P1ZA"), ent("ORDER_NO", "SO/25-26/01877")]
    links = link(quoted, index, sender=DECCAN)
    assert links.company is None and links.conflict == "other_company"
    assert links.orders == ()  # Kumar's order is not linked to Deccan's mail
    # two quoted identifiers of two companies, from a sender nobody places
    both = link([ent("GSTIN", "36AADCD7742M1Z9"), ent("PAN", "AAKFK1234P")], index, None)
    assert both.company is None and both.conflict == "other_company"


@pytest.mark.parametrize("sender", [None, "stranger@gmail.com", "x@unknown-firm.example"])
def test_an_identifier_on_file_links_a_sender_nothing_else_places(index, sender):
    links = link([ent("GSTIN", "36AADCD7742M1Z9"), ent("PO_NO", "4500012345")], index, sender)
    assert (links.company.company, links.company.evidence) == ("C0001", "gstin")
    assert [o.doc_no for o in links.orders] == ["SO/25-26/01900"]
    assert links.conflict is None


def test_products_link_to_stock_items(index):
    links = link(
        [ent("PRODUCT", "Zinc Oxide"), ent("PRODUCT", "Acetone"), ent("PRODUCT", "Zinc Oxide")],
        index,
    )
    assert [(p.product, p.stock_item) for p in links.products] == [
        ("Zinc Oxide", "Zinc Oxide"),
        ("Acetone", None),
    ]


def test_email_domain():
    assert email_domain('"A" <a@X.Co.In>') == "x.co.in"
    assert email_domain("no address") is None
    assert email_domain(None) is None


def _land(conn: psycopg.Connection) -> None:
    """Raw rows as the connectors land them: a Tally ledger with two GSTINs, a Focus RT
    customer (its order carries no GSTIN, its invoice does), a stock item, and a mail from
    a free-mail address whose signature states the customer's GSTIN."""
    conn.execute(
        "INSERT INTO raw.tally_ledgers (guid, name, parent, gstin, gstins, pan, email, row_hash)"
        " VALUES ('l-deccan', 'Deccan Paints Ltd', 'Sundry Debtors', %s, %s, 'AADCD7742M',"
        " 'purchase@deccanpaints.co.in', 'h')",
        ("36AADCD7742M1Z9", ["36AADCD7742M1Z9", "27AADCD7742M1ZQ"]),
    )
    conn.execute(
        "INSERT INTO raw.focus_sales_orders (doc_no, doc_date, customer_code, customer_name,"
        " po_ref, status, document, content_hash) VALUES ('SO/25-26/01900', '2025-11-01',"
        " 'C-DEC', 'DECCAN PAINTS', '4500012345', 'open', %s, 'h')",
        (Jsonb({}),),
    )
    conn.execute(
        "INSERT INTO raw.focus_invoices (doc_no, doc_date, customer_code, customer_name, gstin,"
        " document, content_hash) VALUES ('FI/25-26/00001', '2025-10-01', 'C-DEC',"
        " 'DECCAN PAINTS', '36AADCD7742M1Z9', %s, 'h')",
        (Jsonb({}),),
    )
    conn.execute(
        "INSERT INTO raw.tally_stock_items (guid, snapshot_at, name, aliases, unit, pack,"
        " pack_size, master_id, row_hash) VALUES"
        " ('g-zno', '2025-11-14', 'Zinc Oxide', '{ZnO}', 'kg', 'Bag', 25, 2, 'h1'),"
        " ('g-lime', '2025-11-14', 'Hydrated Lime', '{}', 'kg', NULL, NULL, 1, 'h2')"
    )
    conn.execute(
        "INSERT INTO raw.emails (email_key, message_id, source_kind, source, from_addr,"
        " thread_key, subject_key, body_text, size_bytes) VALUES ('e1', '<e1@x>', 'eml', 'test',"
        " 'ravi.deccan@gmail.com', 't1', 's1', %s, 100)",
        ("Please quote.\n--\nRavi, Deccan Paints Ltd\nGSTIN 36AADCD7742M1Z9",),
    )


def test_load_index_reads_the_crm_and_erp_marts(warehouse, pebble_env) -> None:
    _land(warehouse)
    # landed but not modelled yet: nothing is read from raw.*
    assert load_index(warehouse) == MasterIndex() and load_products(warehouse) == ()
    build_marts(pebble_env)
    index = load_index(warehouse)
    deccan = "pan:AADCD7742M"  # the CRM master's key
    assert index.company_names == {deccan: "Deccan Paints Ltd"}
    assert index.company_by_gstin["27AADCD7742M1ZQ"] == deccan
    assert index.company_by_domain == {"deccanpaints.co.in": deccan}
    assert index.company_by_email["ravi.deccan@gmail.com"] == deccan  # the CRM placed him
    # the order names no GSTIN: its Focus customer code is the CRM's company
    assert index.order_by_no["SO/25-26/01900"]["company"] == deccan
    assert set(index.stock_item_by_key.values()) == {"Zinc Oxide", "Hydrated Lime"}
    links = link([ent("PO_NO", "4500012345")], index, sender="Ravi <ravi.deccan@gmail.com>")
    assert (links.company.company, links.company.evidence) == (deccan, "contact")
    assert links.orders[0].doc_no == "SO/25-26/01900"
    products = load_products(warehouse)
    assert [p.name for p in products] == ["Hydrated Lime", "Zinc Oxide"]  # Tally's order
    assert products[1].aliases == ("ZnO",) and products[1].pack == "bag"
    assert products[1].pack_size_kg == 25.0


def test_load_index_before_any_mart_is_built(warehouse, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="ml.warehouse"):
        index = load_index(warehouse)
    assert index == MasterIndex()
    assert "marts.crm_companies not built yet" in caplog.text


def _scored(*entities: Entity) -> dict:
    return {
        "requires_review": False,
        "entities": [
            {"label": e.label, "text": e.text, "value": e.value, "start": 0, "end": 1}
            for e in entities
        ],
    }


def test_a_conflict_goes_to_review_and_names_no_company(index):
    from ml.warehouse import attach_links

    result = _scored(ent("GSTIN", "33AAKFK1234P1ZA"), ent("ORDER_NO", "SO/25-26/01877"))
    attach_links(result, {"from": DECCAN}, index)
    assert result["requires_review"] is True
    assert (result["company_key"], result["company_name"]) == (None, None)
    assert result["company_evidence"] == "conflict: other_company"
    assert [e["linked_to"] for e in result["entities"]] == [None, None]
    assert "C0002" not in repr(result) and "Kumar" not in repr(result)
    assert "C0001" not in repr(result) and "Deccan" not in repr(result)

    own = _scored(ent("GSTIN", "36AADCD7742M1Z9"), ent("PO_NO", "4500012345"))
    attach_links(own, {"from": DECCAN}, index)
    assert own["requires_review"] is False and own["company_evidence"] == "gstin"
    assert (own["company_key"], own["company_name"]) == ("C0001", "Deccan Paints Ltd")
    assert [e["linked_to"] for e in own["entities"]] == ["C0001", "SO/25-26/01900"]
