"""The Tally simulator over real HTTP: protocol, encodings, quirks, filters, live dispatch."""

from __future__ import annotations

import json
import re
import time
from datetime import date

import requests

from demo.sim.tally import TallySimulator
from ingest.tally.client import collection_request
from ingest.tally.parse import iter_records

COMPANY = "Pebble Demo Chemicals Pvt Ltd"


def _post(url: str, envelope: str, utf8: bool = False) -> requests.Response:
    if utf8:
        body = '<?xml version="1.0" encoding="utf-8"?>' + envelope
        headers = {"Content-Type": "text/xml;charset=utf-8"}
        return requests.post(url, data=body.encode("utf-8"), headers=headers, timeout=10)
    data = b"\xff\xfe" + envelope.encode("utf-16-le")
    headers = {"Content-Type": "text/xml;charset=utf-16"}
    return requests.post(url, data=data, headers=headers, timeout=10)


def _records(url: str, collection: str, utf8: bool = False, **request: object) -> list[dict]:
    response = _post(url, collection_request(collection, company=COMPANY, **request), utf8)
    assert response.status_code == 200
    return list(iter_records(response.content, collection))


def test_answers_in_utf16_with_bom_by_default(tally_sim: TallySimulator) -> None:
    response = _post(tally_sim.url, collection_request("stock-groups"))
    assert response.headers["Content-Type"] == "text/xml; charset=utf-16"
    assert response.content.startswith(b"\xff\xfe<\x00")
    text = response.content.decode("utf-16")
    assert "&#4; Primary" in text  # the reserved-name marker, raw
    assert '<MASTERID TYPE="Number"> 1</MASTERID>' in text  # space-padded numbers


def test_answers_in_utf8_when_asked_in_utf8(tally_sim: TallySimulator) -> None:
    response = _post(tally_sim.url, collection_request("stock-items"), utf8=True)
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    text = response.content.decode("utf-8")
    assert text.lstrip().startswith("<ENVELOPE>")
    assert '<CLOSINGBALANCE TYPE="Quantity"> 9500.000 kg</CLOSINGBALANCE>' in text
    assert '<CLOSINGRATE TYPE="Rate">250.00/kg</CLOSINGRATE>' in text


def test_stock_items_carry_closing_stock_after_dispatches(tally_sim: TallySimulator) -> None:
    items = {i["name"]: i for i in _records(tally_sim.url, "stock-items")}
    assert set(items) == {"Zinc Oxide", "Caustic Soda Flakes", "Sodium Bicarbonate"}
    zinc = items["Zinc Oxide"]
    assert zinc["parent"] == "Pigments"
    assert zinc["hsn"] == "28170010"
    assert zinc["gst_rate"] == 18.0
    assert zinc["opening_qty"] == 10000.0
    assert zinc["closing_qty"] == 9500.0  # 500 kg invoiced
    assert zinc["value"] == 9500.0 * 250.0
    assert items["Sodium Bicarbonate"]["gst_rate"] == 5.0
    assert all(i["guid"] and i["master_id"] and i["alter_id"] for i in items.values())


def test_stock_groups_hang_under_primary(tally_sim: TallySimulator) -> None:
    groups = _records(tally_sim.url, "stock-groups")
    assert sorted(g["name"] for g in groups) == ["Alkalis", "Inorganic Chemicals", "Pigments"]
    assert {g["parent"] for g in groups} == {"Primary"}


def test_ledgers_one_per_gstin_with_party_details(tally_sim: TallySimulator, parties) -> None:
    ledgers = {x["name"]: x for x in _records(tally_sim.url, "ledgers")}
    acme_mh = ledgers["Acme Rubber Pvt Ltd (Maharashtra)"]
    assert acme_mh["gstin"] == parties.acme_mh
    assert acme_mh["gstins"] == [parties.acme_mh]
    assert acme_mh["pan"] == parties.acme_pan
    assert acme_mh["state"] == "Maharashtra"
    assert acme_mh["email"] == "ravi@acmerubber.in"
    assert acme_mh["mobile"] == "+91 98220 12345"
    assert acme_mh["parent"] == "Sundry Debtors"
    assert ledgers["Acme Rubber Pvt Ltd (Gujarat)"]["gstin"] == parties.acme_gj
    shah = ledgers["Shah & Sons Detergents"]  # one GSTIN: the plain company name
    assert shah["gstin"] == parties.shah_gj
    assert ledgers["Output IGST"]["parent"] == "Duties & Taxes"


def test_vouchers_orders_and_invoices_with_lines(tally_sim: TallySimulator) -> None:
    vouchers = _records(tally_sim.url, "vouchers")
    by_number = {v["number"]: v for v in vouchers}
    assert len(vouchers) == 7
    assert sum(v["voucher_type"] == "Sales Order" for v in vouchers) == 5
    invoice = by_number["INV/25-26/00002"]
    assert invoice["voucher_type"] == "Sales"
    assert invoice["date"] == date(2025, 8, 9)
    assert invoice["party"] == "Shah & Sons Detergents"
    assert invoice["order_refs"] == ["SO/25-26/00002"]
    assert invoice["total"] == 164850.0
    assert invoice["vehicle_no"] == "GJ01CD5678"
    assert [(ln["item"], ln["qty"], ln["unit"], ln["rate"]) for ln in invoice["lines"]] == [
        ("Caustic Soda Flakes", 2000.0, "kg", 52.5),
        ("Sodium Bicarbonate", 1000.0, "kg", 39.0),
    ]
    party_entry = invoice["ledger_entries"][0]
    assert party_entry["amount"] == -164850.0  # debit: negative
    assert by_number["SO/25-26/00005"]["is_cancelled"] is True
    assert by_number["SO/25-26/00002"]["reference"] == "PO/S&S/12"


def test_vouchers_filtered_by_date(tally_sim: TallySimulator) -> None:
    vouchers = _records(
        tally_sim.url, "vouchers", from_date=date(2025, 8, 1), to_date=date(2025, 8, 31)
    )
    assert sorted(v["number"] for v in vouchers) == ["INV/25-26/00002", "SO/25-26/00002"]


def test_alterid_filter_returns_only_changed_objects(tally_sim: TallySimulator) -> None:
    (company,) = _records(tally_sim.url, "company")
    assert company["name"] == COMPANY
    assert company["books_from"] == date(2025, 4, 1)
    high = company["alt_vch_id"]
    assert company["alt_mst_id"] < high
    everything = _records(tally_sim.url, "vouchers")
    assert max(v["alter_id"] for v in everything) == high
    assert _records(tally_sim.url, "vouchers", alter_id_above=high) == []
    number = tally_sim.dispatch_one()
    changed = _records(tally_sim.url, "vouchers", alter_id_above=high)
    assert [v["number"] for v in changed] == [number]
    assert changed[0]["alter_id"] > high
    assert changed[0]["order_refs"] == ["SO/25-26/00003"]
    (after,) = _records(tally_sim.url, "company")
    assert after["alt_vch_id"] == changed[0]["alter_id"]


def test_live_dispatch_reduces_stock(tiny_world) -> None:
    with TallySimulator(tiny_world, port=0, live_interval_s=0.1) as simulator:
        deadline = time.monotonic() + 10
        while simulator.company.open_orders and time.monotonic() < deadline:
            time.sleep(0.05)
        items = {i["name"]: i for i in _records(simulator.url, "stock-items")}
        sales = [v for v in _records(simulator.url, "vouchers") if v["voucher_type"] == "Sales"]
    assert not simulator.company.open_orders
    assert items["Zinc Oxide"]["closing_qty"] == 10000.0 - 500.0 - 750.0
    assert items["Caustic Soda Flakes"]["closing_qty"] == 20000.0 - 2000.0 - 1500.0
    assert len(sales) == 4
    assert len({v["number"] for v in sales}) == 4


def test_unknown_collection_is_a_lineerror_with_http_200(tally_sim: TallySimulator) -> None:
    envelope = (
        "<ENVELOPE><HEADER><VERSION>1</VERSION><TALLYREQUEST>Export</TALLYREQUEST>"
        "<TYPE>Collection</TYPE><ID>No Such Thing</ID></HEADER><BODY><DESC/></BODY></ENVELOPE>"
    )
    response = _post(tally_sim.url, envelope)
    assert response.status_code == 200
    assert "<LINEERROR>Could not find Collection 'No Such Thing'</LINEERROR>" in (
        response.content.decode("utf-16")
    )


def test_unsupported_formula_and_wrong_company_are_lineerrors(tally_sim: TallySimulator) -> None:
    envelope = collection_request("ledgers", company="Somebody Else & Co")
    assert "Somebody Else &amp; Co" in envelope  # escaped in the request
    text = _post(tally_sim.url, envelope).content.decode("utf-16")
    assert "<LINEERROR>Could not find Company 'Somebody Else &amp; Co'</LINEERROR>" in text
    bad = collection_request("ledgers", alter_id_above=3).replace("$AlterID &gt; 3", "$Foo")
    assert "Could not evaluate formula" in _post(tally_sim.url, bad).content.decode("utf-16")


def test_builtin_reports_day_book_and_list_of_accounts(tally_sim: TallySimulator) -> None:
    daybook = (
        "<ENVELOPE><HEADER><VERSION>1</VERSION><TALLYREQUEST>Export</TALLYREQUEST><TYPE>Data</TYPE>"
        "<ID>Day Book</ID></HEADER><BODY><DESC><STATICVARIABLES>"
        "<SVFROMDATE>1-Jul-2025</SVFROMDATE><SVTODATE>31-Jul-2025</SVTODATE>"
        "</STATICVARIABLES></DESC></BODY></ENVELOPE>"
    )
    vouchers = list(iter_records(_post(tally_sim.url, daybook).content, "vouchers"))
    assert sorted(v["number"] for v in vouchers) == ["INV/25-26/00001", "SO/25-26/00001"]
    accounts = daybook.replace(
        "<TYPE>Data</TYPE><ID>Day Book", "<TYPE>Data</TYPE><ID>List of Accounts"
    )
    accounts = accounts.replace(
        "<SVFROMDATE>", "<ACCOUNTTYPE>Stock Items</ACCOUNTTYPE><SVFROMDATE>"
    )
    items = list(iter_records(_post(tally_sim.url, accounts).content, "stock-items"))
    assert len(items) == 3
    plain = (
        "<ENVELOPE><HEADER><VERSION>1</VERSION><TALLYREQUEST>Export</TALLYREQUEST>"
        "<TYPE>Collection</TYPE><ID>Ledger</ID></HEADER><BODY><DESC/></BODY></ENVELOPE>"
    )
    assert len(list(iter_records(_post(tally_sim.url, plain).content, "ledgers"))) == 9


def test_fetch_list_limits_fields(tally_sim: TallySimulator) -> None:
    envelope = re.sub(
        "<FETCH>.*?</FETCH>", "<FETCH>Name, Parent</FETCH>", collection_request("stock-items")
    )
    text = _post(tally_sim.url, envelope).content.decode("utf-16")
    assert "<PARENT" in text and "<ALTERID" in text
    assert "<CLOSINGBALANCE" not in text


def test_fault_control_endpoint(tally_sim: TallySimulator) -> None:
    control = f"{tally_sim.url}/__faults"
    assert requests.get(control, timeout=5).json()["mode"] == "none"
    reply = requests.post(control, json={"mode": "slow", "delay_s": 0.2}, timeout=5)
    assert reply.json() == {"mode": "slow", "delay_s": 0.2}
    assert requests.post(control, json={"mode": "sideways"}, timeout=5).status_code == 400
    assert tally_sim.faults.mode == "slow"


def test_oversold_items_are_restocked_by_purchase_vouchers(tiny_world) -> None:
    stock = json.loads((tiny_world / "stock.json").read_text())
    for row in stock:
        row["opening_qty_kg"] = 100.0  # far less than the invoices take
    (tiny_world / "stock.json").write_text(json.dumps(stock))
    with TallySimulator(tiny_world, port=0) as simulator:
        items = {i["name"]: i for i in _records(simulator.url, "stock-items")}
        vouchers = _records(simulator.url, "vouchers")
    purchases = [v for v in vouchers if v["voucher_type"] == "Purchase"]
    assert {p["lines"][0]["item"] for p in purchases} == {
        "Zinc Oxide",
        "Caustic Soda Flakes",
        "Sodium Bicarbonate",
    }
    assert all(p["party"] == "Bharat Chemical Traders Pvt Ltd" for p in purchases)
    assert all(p["ledger_entries"][0]["amount"] > 0 for p in purchases)  # supplier credited
    zinc_bought = sum(
        p["lines"][0]["qty"] for p in purchases if p["lines"][0]["item"] == "Zinc Oxide"
    )
    assert items["Zinc Oxide"]["closing_qty"] == 100.0 + zinc_bought - 500.0
    assert all(i["closing_qty"] >= 0 for i in items.values())
