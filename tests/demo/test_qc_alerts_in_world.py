"""The demo world that `make up` generates holds live QC alerts, deterministically.

The world of the demo's settings (seed 7, scale 1) is generated, its Focus RT QC records
are landed as raw rows, and the QC marts are built from their own dbt SQL: at least one
alert is open (no one has acknowledged anything in a fresh demo), out-of-spec results
whatever the day, and among them one on a batch sent against a customer's order.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from demo.world import generate_world, load_jsonl
from pebble.settings import Settings
from tests.app.conftest import mart
from tests.app.qc_marts import build_marts


def _land(conn: psycopg.Connection, world: Path) -> int:
    records = list(load_jsonl(world / "qc_records.jsonl"))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO raw.focus_qc_inspections (doc_no, doc_date, batch_no, product_code,"
            " product_name, order_no, result, coa_status, document, content_hash)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [(r["doc_no"], r["date"], r["batch_no"], r["product_code"], r["product_name"],
              r["order_no"], r["result"], r["coa_status"], Jsonb({}), r["doc_no"])
             for r in records],
        )  # fmt: skip
        cur.executemany(
            "INSERT INTO raw.focus_qc_results (doc_no, line_no, param_name, unit, min_value,"
            " max_value, result_value, passed) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [(r["doc_no"], n, p["name"], p["unit"], p["min"], p["max"], p["result"], p["pass"])
             for r in records for n, p in enumerate(r["params"], start=1)],
        )  # fmt: skip
    return len(records)


def test_the_demo_world_raises_qc_alerts(warehouse: psycopg.Connection, tmp_path: Path) -> None:
    settings = Settings()
    assert (settings.demo_seed, settings.demo_scale) == (7, 1.0)  # what `make up` generates
    world = tmp_path / "world"
    generate_world(world, seed=settings.demo_seed, scale=settings.demo_scale)
    assert _land(warehouse, world) > 1000
    mart(warehouse, "sales_orders", [])
    mart(warehouse, "crm_company_sources", [])
    mart(warehouse, "crm_companies", [])
    build_marts(warehouse)
    open_alerts = warehouse.execute(
        "SELECT alert_type, count(*), count(*) FILTER (WHERE sales_order_no IS NOT NULL)"
        " FROM marts.qc_alerts AS a"
        " WHERE NOT EXISTS (SELECT 1 FROM ops.qc_alert_acks AS k WHERE k.alert_id = a.alert_id)"
        " GROUP BY alert_type"
    ).fetchall()
    by_type = {kind: (count, against_orders) for kind, count, against_orders in open_alerts}
    count, against_orders = by_type["out_of_spec"]
    assert count >= 1 and against_orders >= 1, by_type
