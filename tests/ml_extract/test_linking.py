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
        "email": "Kumar Traders <KumarTraders@gmail.com>; accounts.kumar@gmail.com",
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


def test_order_and_po_reference_link_the_customer(index):
    found = link_company([ent("ORDER_NO", "SO/25-26/01877")], index, sender=KUMAR)
    assert (found.company, found.evidence) == ("C0002", "order")
    links = link([ent("PO_NO", "4500012345")], index, sender=DECCAN)
    assert [(o.doc_no, o.via, o.company) for o in links.orders] == [
        ("SO/25-26/01900", "po_ref", "C0001")
    ]
    assert links.company.company == "C0001" and links.conflict is None


def test_sender_address_alone_links_and_free_mail_domains_never_count(index):
    found = link_company([], index, sender=DECCAN)
    assert (found.company, found.evidence) == ("C0001", "domain")
    found = link_company([], index, sender="Accounts <Accounts.Kumar@gmail.com>")
    assert (found.company, found.evidence) == ("C0002", "contact")
    assert link_company([], index, sender="someone.else@gmail.com") is None
    assert link_company([ent("GSTIN", "29AAAAA0000A1Z5")], index, sender=DECCAN).company == (
        "C0001"
    )


def test_a_quoted_gstin_never_outranks_the_sender_s_own_company(index):
    # Deccan's staff quote Kumar's public GSTIN and Kumar's order number.
    quoted = [ent("GSTIN", "33AAKFK1234P1ZA"), ent("ORDER_NO", "SO/25-26/01877")]
    links = link(quoted, index, sender=DECCAN)
    assert (links.company.company, links.company.evidence) == ("C0001", "domain")
    assert links.conflict == "other_company"
    assert links.orders == ()  # Kumar's order is not linked to Deccan's mail


@pytest.mark.parametrize("sender", [None, "stranger@gmail.com", "x@unknown-firm.example"])
def test_an_identifier_nobody_vouches_for_links_nothing(index, sender):
    links = link([ent("GSTIN", "36AADCD7742M1Z9"), ent("PO_NO", "4500012345")], index, sender)
    assert links.company is None and links.orders == ()
    assert links.conflict == "unconfirmed"


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


def test_load_index_reads_existing_tables_and_skips_missing_ones(bare_warehouse):
    warehouse = bare_warehouse  # tables of another shape, and some missing: no migrations
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


def _scored(*entities: Entity) -> dict:
    return {
        "requires_review": False,
        "entities": [
            {"label": e.label, "text": e.text, "value": e.value, "start": 0, "end": 1}
            for e in entities
        ],
    }


def test_a_conflict_goes_to_review_and_never_names_the_other_company(index):
    from ml.warehouse import attach_links

    result = _scored(ent("GSTIN", "33AAKFK1234P1ZA"), ent("ORDER_NO", "SO/25-26/01877"))
    attach_links(result, {"from": DECCAN}, index)
    assert result["requires_review"] is True
    assert (result["company_key"], result["company_name"]) == ("C0001", "Deccan Paints Ltd")
    assert result["company_evidence"] == "domain (conflict: other_company)"
    assert [e["linked_to"] for e in result["entities"]] == [None, None]
    assert "C0002" not in repr(result) and "Kumar" not in repr(result)

    stranger = _scored(ent("GSTIN", "36AADCD7742M1Z9"))
    attach_links(stranger, {"from": "x@gmail.com"}, index)
    assert stranger["requires_review"] is True and stranger["company_key"] is None
    assert stranger["company_evidence"] == "conflict: unconfirmed"

    own = _scored(ent("GSTIN", "36AADCD7742M1Z9"), ent("PO_NO", "4500012345"))
    attach_links(own, {"from": DECCAN}, index)
    assert own["requires_review"] is False and own["company_evidence"] == "gstin"
    assert [e["linked_to"] for e in own["entities"]] == ["C0001", "SO/25-26/01900"]
