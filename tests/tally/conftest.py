"""A tiny demo world in the documented on-disk format, and a Tally simulator over it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from demo.sim.tally import TallySimulator

COMPANY = "Pebble Demo Chemicals Pvt Ltd"


def _gstin(state: str, pan: str) -> str:
    """A GSTIN with a correct check character."""
    chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    body = f"{state}{pan}1Z"
    total = 0
    for index, char in enumerate(body):
        product = chars.index(char) * (2 if index % 2 else 1)
        total += product // 36 + product % 36
    return body + chars[(36 - total % 36) % 36]


ACME_PAN = "AACCA1234F"
SHAH_PAN = "AAFFS5678K"
ACME_MH = _gstin("27", ACME_PAN)
ACME_GJ = _gstin("24", ACME_PAN)
SHAH_GJ = _gstin("24", SHAH_PAN)


def _line(code: str, name: str, qty: float, rate: float) -> dict:
    return {
        "product_code": code,
        "product_name": name,
        "qty_kg": qty,
        "unit": "kg",
        "rate": rate,
        "amount": round(qty * rate, 2),
    }


def write_world(root: Path) -> Path:
    """Write a five-order world: two invoiced, two open, one cancelled."""
    root.mkdir(parents=True, exist_ok=True)
    manifest = {
        "seed": 1,
        "scale": 0,
        "company": COMPANY,
        "start_date": "2025-07-01",
        "end_date": "2025-12-31",
        "counts": {},
    }
    catalogue = [
        {"code": "ZNO", "name": "Zinc Oxide", "aliases": [], "grade": "Rubber", "hsn": "28170010",
         "gst_rate": 18.0, "unit": "kg", "pack": "bag", "pack_size_kg": 25.0,
         "stock_group": "Pigments", "base_price_per_kg": 262.0, "specs": []},
        {"code": "CSF", "name": "Caustic Soda Flakes", "aliases": ["Caustic Flakes", "NaOH Flakes"], "grade": "Tech",
         "hsn": "28151110", "gst_rate": 18.0, "unit": "kg", "pack": "bag", "pack_size_kg": 50.0,
         "stock_group": "Alkalis", "base_price_per_kg": 52.0, "specs": []},
        {"code": "SBC", "name": "Sodium Bicarbonate", "aliases": [], "grade": "Food",
         "hsn": "28363000", "gst_rate": 5.0, "unit": "kg", "pack": "bag", "pack_size_kg": 50.0,
         "stock_group": "Inorganic Chemicals", "base_price_per_kg": 39.0, "specs": []},
    ]  # fmt: skip
    stock = [
        {"code": "ZNO", "name": "Zinc Oxide", "opening_qty_kg": 10000.0, "opening_rate": 250.0},
        {"code": "CSF", "name": "Caustic Soda Flakes", "opening_qty_kg": 20000.0, "opening_rate": 50.0},
        {"code": "SBC", "name": "Sodium Bicarbonate", "opening_qty_kg": 5000.0, "opening_rate": 38.0},
    ]  # fmt: skip
    companies = [
        {"company_id": "C001", "name": "Acme Rubber Pvt Ltd", "group_id": None, "pan": ACME_PAN,
         "cin": None, "industry": "rubber", "domain": "acmerubber.in",
         "gstins": [
             {"gstin": ACME_MH, "state_code": "27", "state": "Maharashtra", "city": "Pune",
              "address": "Plot 4, MIDC Bhosari"},
             {"gstin": ACME_GJ, "state_code": "24", "state": "Gujarat", "city": "Vapi",
              "address": "GIDC Phase 2"},
         ]},
        {"company_id": "C002", "name": "Shah & Sons Detergents", "group_id": None, "pan": SHAH_PAN,
         "cin": None, "industry": "detergents", "domain": "shahsons.co.in",
         "gstins": [{"gstin": SHAH_GJ, "state_code": "24", "state": "Gujarat",
                     "city": "Ahmedabad", "address": "Naroda"}]},
    ]  # fmt: skip
    contacts = [
        {"contact_id": "P1", "company_id": "C001", "name": "Ravi Kulkarni",
         "email": "ravi@acmerubber.in", "phone": "+91 98220 12345", "designation": "Purchase"},
        {"contact_id": "P2", "company_id": "C002", "name": "Nilesh Shah",
         "email": "nilesh@shahsons.co.in", "phone": "+91 98250 54321", "designation": "Owner"},
    ]  # fmt: skip
    orders = [
        {"doc_no": "SO/25-26/00001", "date": "2025-07-10", "company_id": "C001",
         "customer_name": "Acme Rubber Pvt Ltd", "gstin": ACME_MH, "po_ref": "PO-AC-77",
         "status": "invoiced", "lines": [_line("ZNO", "Zinc Oxide", 500, 262.0)]},
        {"doc_no": "SO/25-26/00002", "date": "2025-08-05", "company_id": "C002",
         "customer_name": "Shah & Sons Detergents", "gstin": SHAH_GJ, "po_ref": "PO/S&S/12",
         "status": "dispatched", "lines": [_line("CSF", "Caustic Soda Flakes", 2000, 52.5),
                                           _line("SBC", "Sodium Bicarbonate", 1000, 39.0)]},
        {"doc_no": "SO/25-26/00003", "date": "2025-09-15", "company_id": "C001",
         "customer_name": "Acme Rubber Pvt Ltd", "gstin": ACME_GJ, "po_ref": "PO-AC-91",
         "status": "open", "lines": [_line("ZNO", "Zinc Oxide", 750, 260.0)]},
        {"doc_no": "SO/25-26/00004", "date": "2025-10-02", "company_id": "C002",
         "customer_name": "Shah & Sons Detergents", "gstin": SHAH_GJ, "po_ref": "PO/S&S/19",
         "status": "open", "lines": [_line("CSF", "Caustic Soda Flakes", 1500, 53.0)]},
        {"doc_no": "SO/25-26/00005", "date": "2025-10-20", "company_id": "C001",
         "customer_name": "Acme Rubber Pvt Ltd", "gstin": ACME_MH, "po_ref": "PO-AC-95",
         "status": "cancelled", "lines": [_line("SBC", "Sodium Bicarbonate", 100, 40.0)]},
    ]  # fmt: skip
    invoices = [
        {"doc_no": "INV/25-26/00001", "date": "2025-07-14", "order_no": "SO/25-26/00001",
         "company_id": "C001", "customer_name": "Acme Rubber Pvt Ltd", "gstin": ACME_MH,
         "vehicle_no": "MH12AB1234", "lr_no": "LR-1001",
         "lines": [_line("ZNO", "Zinc Oxide", 500, 262.0)],
         "taxable_value": 131000.0, "gst_amount": 23580.0, "total": 154580.0},
        {"doc_no": "INV/25-26/00002", "date": "2025-08-09", "order_no": "SO/25-26/00002",
         "company_id": "C002", "customer_name": "Shah & Sons Detergents", "gstin": SHAH_GJ,
         "vehicle_no": "GJ01CD5678", "lr_no": "LR-1002",
         "lines": [_line("CSF", "Caustic Soda Flakes", 2000, 52.5),
                   _line("SBC", "Sodium Bicarbonate", 1000, 39.0)],
         "taxable_value": 144000.0, "gst_amount": 20850.0, "total": 164850.0},
    ]  # fmt: skip
    (root / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    (root / "catalogue.json").write_text(json.dumps(catalogue), "utf-8")
    (root / "stock.json").write_text(json.dumps(stock), "utf-8")
    for name, rows in (
        ("companies.jsonl", companies),
        ("contacts.jsonl", contacts),
        ("sales_orders.jsonl", orders),
        ("invoices.jsonl", invoices),
    ):
        (root / name).write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    return root


@pytest.fixture
def parties() -> SimpleNamespace:
    """The identifiers written into the tiny world."""
    return SimpleNamespace(
        company=COMPANY, acme_pan=ACME_PAN, acme_mh=ACME_MH, acme_gj=ACME_GJ, shah_gj=SHAH_GJ
    )


@pytest.fixture
def tiny_world(tmp_path: Path) -> Path:
    return write_world(tmp_path / "world")


@pytest.fixture
def tally_sim(tiny_world: Path) -> Iterator[TallySimulator]:
    """A running simulator on a free port of 127.0.0.1."""
    simulator = TallySimulator(tiny_world, port=0, delay_s=1.0)
    simulator.start()
    yield simulator
    simulator.stop()


class _CannedTally:
    """A real HTTP server answering each export request with a fixed document, chosen by
    the TDL object type the envelope asks for (``StockItem``, ``Company`` ...)."""

    def __init__(self, answers: dict[str, bytes]) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.requests: list[str] = []
        canned = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                text = body.decode("utf-16" if body[:2] == b"\xff\xfe" else "utf-8")
                kind = text.split("<TYPE>", 2)[-1].split("</TYPE>", 1)[0]
                canned.requests.append(kind)
                answer = answers.get(kind, b"<ENVELOPE></ENVELOPE>")
                self.send_response(200)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def canned_tally() -> Iterator:
    """``serve({"StockItem": b"<ENVELOPE>..."})`` -> a running server with ``.url``."""
    servers: list[_CannedTally] = []

    def serve(answers: dict[str, bytes]) -> _CannedTally:
        server = _CannedTally(answers)
        servers.append(server)
        return server

    yield serve
    for server in servers:
        server.close()
