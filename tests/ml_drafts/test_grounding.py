"""Grounding facts read from the dbt marts in PostgreSQL, built by dbt from landed rows."""

from __future__ import annotations

from datetime import UTC, date, datetime

import psycopg

from ml.drafts import grounding as g
from ml.drafts.grounding import gather
from tests.ml.marts import build_marts

from .conftest import (
    KAVERI,
    SHARMA,
    SHARMA_GSTIN,
    add_invoice,
    add_stock,
    add_voucher,
    sharma_mail,
)


def _company_key(conn: psycopg.Connection, name: str) -> str:
    """The CRM master's key of a seeded customer (what the grounding names it by)."""
    row = conn.execute("SELECT company_key FROM marts.crm_companies WHERE name = %s", (name,))
    (key,) = row.fetchone() or (None,)
    assert key is not None, name
    return str(key)


def test_latest_stock_snapshot_wins(seeded: psycopg.Connection) -> None:
    grounding = gather(seeded, sharma_mail("Zinc Oxide rate", "Please quote Zinc Oxide 5 MT."))
    (stock,) = grounding.of(g.STOCK, "Zinc Oxide")
    assert stock.value == 12500.0
    assert stock.unit == "kg"
    assert stock.as_of == datetime(2025, 11, 14, 4, 30, tzinfo=UTC)
    assert "Tally" in stock.source
    # The customer's own quantity is kept as a fact from the mail, in kg.
    (requested,) = grounding.of(g.REQUESTED_QTY)
    assert requested.value == 5000.0 and requested.source == "customer email"


def test_company_from_sender_domain_and_from_gstin(seeded: psycopg.Connection) -> None:
    sharma = _company_key(seeded, SHARMA)
    assert sharma == f"pan:{SHARMA_GSTIN[2:12]}"  # the CRM master's key, not a ledger name
    by_domain = gather(seeded, sharma_mail("Enquiry", "Need Zinc Oxide."))
    assert by_domain.company is not None
    assert by_domain.company.key == sharma and by_domain.company.evidence == "domain"
    assert by_domain.company.name == SHARMA
    mail = sharma_mail("Enquiry", f"Need Zinc Oxide. Our GSTIN {SHARMA_GSTIN}")
    mail["from_addr"] = "purchase@sharmarubber.in"  # the address on Sharma's ledger
    by_gstin = gather(seeded, mail)
    assert by_gstin.company is not None
    assert by_gstin.company.key == sharma and by_gstin.company.evidence == "gstin"
    # Kaveri's staff quoting Sharma's GSTIN: the signals disagree, so no customer is taken
    # and no customer's rate is shown.
    mail["from_addr"] = "stores@kaveripaints.com"
    conflict = gather(seeded, mail)
    assert conflict.company is None and conflict.of(g.LAST_PRICE) == []
    assert any("disagree" in note for note in conflict.notes)


def test_last_invoiced_price_is_for_this_customer_and_product(seeded: psycopg.Connection) -> None:
    grounding = gather(seeded, sharma_mail("Rate", "Rate for Zinc Oxide and Stearic Acid pls"))
    zno = grounding.first(g.LAST_PRICE, "Zinc Oxide")
    assert zno is not None
    # 248 on 2 Nov; not Kaveri's later 255, not the cancelled 230, not the older 240.
    assert (zno.value, zno.unit, zno.ref) == (248.0, "Rs/kg", "INV/25-26/00412")
    assert zno.as_of == date(2025, 11, 2)
    assert "invoiced" in zno.label
    stearic = grounding.first(g.LAST_PRICE, "Stearic Acid")
    # The open sales order of 12 Nov (133) is later than the invoice of 2 Nov (131.5).
    assert stearic is not None and stearic.value == 133.0
    assert stearic.ref == "SO/25-26/01900" and "ordered" in stearic.label


def test_newer_focus_invoice_line_beats_older_tally_voucher(
    seeded: psycopg.Connection, pebble_env: str
) -> None:
    add_invoice(seeded, "FI/25-26/00801", date(2025, 11, 11), "SO/25-26/01877", SHARMA,
                SHARMA_GSTIN, None, None, [("Zinc Oxide", 500, 250.5)])  # fmt: skip
    build_marts(pebble_env, "+customer_last_price")
    zno = gather(seeded, sharma_mail("Rate", "Zinc Oxide rate?")).first(g.LAST_PRICE, "Zinc Oxide")
    assert zno is not None and zno.value == 250.5 and zno.source == "Focus invoice FI/25-26/00801"


def test_order_status_by_so_number(seeded: psycopg.Connection) -> None:
    grounding = gather(seeded, sharma_mail("Status", "status of SO/25-26/01877?"))
    assert grounding.orders == ["SO/25-26/01877"]
    assert not grounding.order_inferred
    status = grounding.first(g.ORDER_STATUS, "SO/25-26/01877")
    assert status is not None and status.value == "invoiced"
    assert status.as_of == date(2025, 10, 28)
    assert grounding.first(g.ORDER_PO, "SO/25-26/01877").value == "4500012345"  # type: ignore[union-attr]
    assert grounding.first(g.INVOICE, "SO/25-26/01877").value == "FI/25-26/00777"  # type: ignore[union-attr]
    assert grounding.first(g.VEHICLE, "SO/25-26/01877").value == "MH04AB1234"  # type: ignore[union-attr]
    assert grounding.first(g.LR, "SO/25-26/01877").value == "LR556210"  # type: ignore[union-attr]


def test_order_status_by_customer_po_ref(seeded: psycopg.Connection) -> None:
    grounding = gather(
        seeded, sharma_mail("Pending delivery", "Material against our PO/SRI/2025/118 not recd")
    )
    assert grounding.orders == ["SO/25-26/01900"]
    assert grounding.first(g.ORDER_STATUS, "SO/25-26/01900").value == "open"  # type: ignore[union-attr]
    assert grounding.first(g.VEHICLE) is None


def test_dispatch_details_from_tally_when_focus_has_no_invoice(
    seeded: psycopg.Connection, pebble_env: str
) -> None:
    add_voucher(seeded, "INV/25-26/00520", "Sales", date(2025, 11, 14), SHARMA, SHARMA_GSTIN,
                [("Stearic Acid", 2000, 133.0)], order_refs=["SO/25-26/01900"],
                vehicle_no="GJ05XY9876", lr_no="LR778899")  # fmt: skip
    build_marts(pebble_env, "+sales_orders")
    grounding = gather(seeded, sharma_mail("Status", "status of SO/25-26/01900"))
    assert grounding.first(g.VEHICLE, "SO/25-26/01900").value == "GJ05XY9876"  # type: ignore[union-attr]
    assert grounding.first(g.LR, "SO/25-26/01900").source.startswith("Tally")  # type: ignore[union-attr]
    assert grounding.first(g.INVOICE, "SO/25-26/01900").value == "INV/25-26/00520"  # type: ignore[union-attr]
    # the order is dispatched in full now: the status is the marts' inference
    assert grounding.first(g.ORDER_STATUS, "SO/25-26/01900").value == "invoiced"  # type: ignore[union-attr]


def test_unknown_reference_and_other_customers_order(seeded: psycopg.Connection) -> None:
    grounding = gather(
        seeded, sharma_mail("Status", "Status of PO 4599999999 and of SO/25-26/01950 please")
    )
    (unresolved,) = grounding.of(g.UNRESOLVED_REF)
    assert unresolved.value == "4599999999"
    assert grounding.order_mismatch == ["SO/25-26/01950"]
    assert any(KAVERI in note for note in grounding.notes)


def test_latest_order_inferred_when_no_reference(seeded: psycopg.Connection) -> None:
    grounding = gather(seeded, sharma_mail("maal kab aayega", "Zinc Oxide kab tak aayega?"))
    assert grounding.order_inferred
    assert grounding.orders == ["SO/25-26/01877"]  # the latest order holding Zinc Oxide


def test_marts_not_built_give_fewer_facts_not_errors(bare_warehouse: psycopg.Connection) -> None:
    # raw tables may well hold data: without the marts nothing of it is read
    bare_warehouse.execute("CREATE TABLE raw.focus_sales_orders (doc_no text)")
    bare_warehouse.execute("INSERT INTO raw.focus_sales_orders VALUES ('SO/25-26/01877')")
    grounding = gather(
        bare_warehouse, sharma_mail("Rate", "Rate for Zinc Oxide, and status of SO/25-26/01877")
    )
    assert grounding.company is None
    # No stock master: the product cannot be recognised, and the grounding says so.
    assert grounding.products == []
    assert any("no stock master" in note for note in grounding.notes)
    assert [f.kind for f in grounding.facts] == [g.UNRESOLVED_REF]
    assert any("marts.sales_orders" in note for note in grounding.notes)


def test_stock_only_tables(warehouse: psycopg.Connection, pebble_env: str) -> None:
    add_stock(warehouse, "si-zno", "ZINC OXIDE", 750, datetime(2025, 11, 14, tzinfo=UTC))
    build_marts(pebble_env, "+stock_levels")
    grounding = gather(warehouse, sharma_mail("Rate", "zinc oxide availability?"))
    assert grounding.products == ["ZINC OXIDE"]  # the stock master's own spelling
    assert grounding.first(g.STOCK, "ZINC OXIDE").value == 750.0  # type: ignore[union-attr]
    assert grounding.first(g.LAST_PRICE) is None


def test_entities_may_be_given_as_dicts(seeded: psycopg.Connection) -> None:
    entities = [{"label": "ORDER_NO", "text": "SO/25-26/01877", "value": "SO/25-26/01877"}]
    grounding = gather(seeded, sharma_mail("x", "y"), entities)
    assert grounding.orders == ["SO/25-26/01877"]
