"""A tiny Focus-side demo world and a running simulator over it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from demo.sim.focus import FocusSimulator
from ingest.focus.client import FocusClient
from ingest.focus.settings import FocusSettings


def _line(code: str, name: str, qty: float, rate: float, unit: str = "kg") -> dict[str, Any]:
    return {
        "product_code": code,
        "product_name": name,
        "qty_kg": qty,
        "unit": unit,
        "rate": rate,
        "amount": round(qty * rate, 2),
    }


SALES_ORDERS = [
    {
        "doc_no": f"SO/25-26/0{n:04d}",
        "date": date,
        "company_id": f"C{n:04d}",
        "customer_name": name,
        "gstin": "27AAPFU0939F1ZV",
        "po_ref": f"PO-{700 + n}",
        "status": status,
        "lines": lines,
    }
    for n, (date, name, status, lines) in enumerate(
        [
            (
                "2025-10-01",
                "Apex Rubber Pvt Ltd",
                "open",
                [_line("ZNO-99", "Zinc Oxide", 500, 248)],
            ),
            (
                "2025-10-03",
                "Shree Ganesh Paints & Coatings",
                "dispatched",
                [
                    _line("TIO2-R", "Titanium Dioxide", 1000, 310),
                    _line("CACO3", "Calcite", 2000, 9.5),
                ],
            ),
            (
                "2025-10-03",
                "Nirmal Detergents",
                "invoiced",
                [_line("LABSA", "LABSA 90%", 5000, 125)],
            ),
            (
                "2025-10-10",
                "Aqua Pure Water Solutions",
                "cancelled",
                [_line("PAC", "PAC Powder", 400, 48)],
            ),
            (
                "2025-11-02",
                "Bharat Pharma Ltd",
                "open",
                [_line("CITRIC", "Citric Acid", 250, 96.5)],
            ),
        ],
        start=1,
    )
]
INVOICES = [
    {
        "doc_no": "INV/25-26/00011",
        "date": "2025-10-05",
        "order_no": "SO/25-26/00002",
        "company_id": "C0002",
        "customer_name": "Shree Ganesh Paints & Coatings",
        "gstin": "27AAPFU0939F1ZV",
        "vehicle_no": "MH04AB1234",
        "lr_no": "LR-5521",
        "lines": [_line("TIO2-R", "Titanium Dioxide", 1000, 310)],
        "taxable_value": 310000.0,
        "gst_amount": 55800.0,
        "total": 365800.0,
    },
    {
        "doc_no": "INV/25-26/00012",
        "date": "2025-10-06",
        "order_no": "SO/25-26/00003",
        "company_id": "C0003",
        "customer_name": "Nirmal Detergents",
        "gstin": None,
        "vehicle_no": "GJ01XY9876",
        "lr_no": None,
        "lines": [_line("LABSA", "LABSA 90%", 5000, 125)],
        "taxable_value": 625000.0,
        "gst_amount": 112500.0,
        "total": 737500.0,
    },
]
QC_RECORDS = [
    {
        "doc_no": "QC/25-26/00077",
        "date": "2025-10-02",
        "batch_no": "B-ZNO-2510-01",
        "product_code": "ZNO-99",
        "product_name": "Zinc Oxide",
        "order_no": "SO/25-26/00001",
        "params": [
            {"name": "Purity", "unit": "%", "min": 99.0, "max": None, "result": 99.4, "pass": True},
            {"name": "Moisture", "unit": "%", "min": None, "max": 0.5, "result": 0.3, "pass": True},
        ],
        "result": "pass",
        "coa_status": "issued",
    },
    {
        "doc_no": "QC/25-26/00078",
        "date": "2025-10-04",
        "batch_no": "B-TIO-2510-02",
        "product_code": "TIO2-R",
        "product_name": "Titanium Dioxide",
        "order_no": None,
        "params": [
            {
                "name": "Appearance",
                "unit": None,
                "min": None,
                "max": None,
                "result": "White powder",
                "pass": True,
            },
            {
                "name": "Oil absorption",
                "unit": "g/100g",
                "min": 15,
                "max": 22,
                "result": 24.1,
                "pass": False,
            },
        ],
        "result": "fail",
        "coa_status": "withheld",
    },
]


def write_world(directory: Path, sales_orders: list[dict[str, Any]] | None = None) -> Path:
    """Write the tiny world (Focus files only) in the documented JSON Lines format."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, records in (
        ("sales_orders.jsonl", SALES_ORDERS if sales_orders is None else sales_orders),
        ("invoices.jsonl", INVOICES),
        ("qc_records.jsonl", QC_RECORDS),
    ):
        with (directory / name).open("w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return directory


@pytest.fixture
def world(tmp_path: Path) -> Path:
    return write_world(tmp_path / "world")


@pytest.fixture
def simulator(world: Path) -> Iterator[FocusSimulator]:
    sim = FocusSimulator(world, "127.0.0.1", port=0)
    sim.start()
    yield sim
    sim.stop()


FAST = {
    "retries": 1,
    "backoff_s": 0.01,
    "backoff_max_s": 0.02,
    "connect_timeout_s": 2.0,
    "read_timeout_s": 5.0,
}


@pytest.fixture
def make_client(simulator: FocusSimulator) -> Iterator[Callable[..., FocusClient]]:
    """Build clients against the simulator with fast retries; extra settings as keywords."""
    clients: list[FocusClient] = []

    def make(**overrides: Any) -> FocusClient:
        client = FocusClient(FocusSettings(url=simulator.url, **{**FAST, **overrides}))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def fast() -> dict[str, Any]:
    """Settings keywords for quick retries and timeouts."""
    return dict(FAST)


@pytest.fixture
def world_records() -> dict[str, list[dict[str, Any]]]:
    """Fresh copies of the tiny world's records, to edit and write with ``write_world``."""
    return json.loads(
        json.dumps({"sales_orders": SALES_ORDERS, "invoices": INVOICES, "qc_records": QC_RECORDS})
    )


@pytest.fixture
def world_writer() -> Callable[..., Path]:
    """``write_world(directory, sales_orders=None)``."""
    return write_world
