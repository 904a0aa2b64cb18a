"""Linking entities to companies, sales orders and stock items."""

from __future__ import annotations

import json

import pytest

from ml.extract import Entity
from ml.extract.linking import (
    MasterIndex,
    build_index,
    email_domain,
    link,
    link_company,
    load_index,
)

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
        "gstins": [{"gstin": "33AAKFK1234P1ZA"}],
    },
]
ORDERS = [
    {"doc_no": "SO/25-26/01877", "company_id": "C0002", "po_ref": "PO/BLR/2025/118"},
    {"doc_no": "SO/25-26/01900", "customer_name": "Deccan Paints Ltd", "po_ref": "4500012345"},
]


def ent(label: str, value: str) -> Entity:
    return Entity(label, value, value, 0, len(value))


@pytest.fixture
def index() -> MasterIndex:
    return build_index(COMPANIES, ORDERS, [{"name": "Zinc Oxide"}, "PVC Resin K67"])


def test_gstin_on_file_links_the_company(index):
    found = link_company([ent("GSTIN", "36AADCD7742M1Z9")], index)
    assert (found.company, found.name, found.evidence) == ("C0001", "Deccan Paints Ltd", "gstin")


def test_unknown_state_registration_links_through_its_pan(index):
    found = link_company([ent("GSTIN", "27AADCD7742M1ZX")], index)
    assert (found.company, found.evidence) == ("C0001", "pan")


def test_standalone_pan_links(index):
    assert link_company([ent("PAN", "AAKFK1234P")], index).company == "C0002"


def test_order_and_po_reference_link_the_customer(index):
    found = link_company([ent("ORDER_NO", "SO/25-26/01877")], index)
    assert (found.company, found.evidence) == ("C0002", "order")
    links = link([ent("PO_NO", "4500012345")], index)
    assert [(o.doc_no, o.via, o.company) for o in links.orders] == [
        ("SO/25-26/01900", "po_ref", "C0001")
    ]
    assert links.company.company == "C0001"


def test_sender_domain_is_the_last_resort_and_free_mail_never_counts(index):
    found = link_company([], index, sender="Anita <anita@DeccanPaints.co.in>")
    assert (found.company, found.evidence) == ("C0001", "domain")
    assert link_company([], index, sender="kumar <kumartraders@gmail.com>") is None
    assert link_company([ent("GSTIN", "29AAAAA0000A1Z5")], index) is None


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


def test_load_index_reads_existing_tables_and_skips_missing_ones(warehouse):
    warehouse.execute(
        "CREATE TABLE raw.tally_ledgers (name text, parent text, gstin text, gstins jsonb, "
        "pan text, email text)"
    )
    warehouse.execute(
        "INSERT INTO raw.tally_ledgers VALUES (%s, %s, %s, %s, %s, %s)",
        (
            "Deccan Paints Ltd",
            "Sundry Debtors",
            "36AADCD7742M1Z9",
            json.dumps(["36AADCD7742M1Z9", "27AADCD7742M1ZQ"]),
            "AADCD7742M",
            "purchase@deccanpaints.co.in",
        ),
    )
    warehouse.execute(
        "CREATE TABLE raw.focus_sales_orders (doc_no text, doc_date date, customer_name text, "
        "gstin text, po_ref text, status text)"
    )
    warehouse.execute(
        "INSERT INTO raw.focus_sales_orders VALUES "
        "('SO/25-26/01900', '2025-11-01', 'Deccan Paints Ltd', '36AADCD7742M1Z9', '4500012345', 'open')"
    )
    # raw.tally_stock_items does not exist yet: that source is skipped, not an error.
    index = load_index(warehouse)
    assert index.company_by_gstin["27AADCD7742M1ZQ"] == "Deccan Paints Ltd"
    assert index.company_by_domain == {"deccanpaints.co.in": "Deccan Paints Ltd"}
    assert index.order_by_no["SO/25-26/01900"]["company"] == "Deccan Paints Ltd"
    assert index.stock_item_by_key == {}
    links = link([ent("PO_NO", "4500012345")], index, sender="x@deccanpaints.co.in")
    assert links.company.evidence == "order"
    assert links.orders[0].doc_no == "SO/25-26/01900"


def test_load_index_on_an_empty_warehouse(warehouse):
    index = load_index(warehouse)
    assert index == MasterIndex()
