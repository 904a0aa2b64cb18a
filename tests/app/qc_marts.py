"""The QC marts built from their own dbt SQL over a small landed Focus RT lab.

The raw Focus RT QC tables get a few weeks of inspections of one product (an Assay near
99.5 % with one result outside the control limits but in spec, and one below the spec's
minimum), two batches sent against an order (one COA pending a long time after dispatch),
and the staging views and the marts are made from the project's own SQL (rendered with the
project's macros; refs resolved to their schemas), so the page and the Dagster check are
tested on what dbt would build. The order and the CRM master they join are contract tables
holding what the test says (``tests.app.conftest.mart``).
"""

from __future__ import annotations

import json
import re
import types
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import jinja2
import psycopg

from tests.app.conftest import mart

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "dbt" / "models"
AS_OF = date(2025, 12, 31)
FIRST_DAY = date(2025, 11, 1)
PRODUCT, PRODUCT_NAME = "ZNO", "Zinc Oxide 99.5%"
#: Assay results, one inspection a day from FIRST_DAY: 22 near 99.5, then one in spec but far
#: outside the control limits (99.90), one below the minimum 99.0 (98.80), one normal.
ASSAY = [round(99.50 + 0.02 * ((i * 7) % 5 - 2), 3) for i in range(22)] + [99.90, 98.80, 99.50]
OUT_OF_CONTROL_INDEX, OUT_OF_SPEC_INDEX = 22, 23
ORDER, CUSTOMER_CODE, COMPANY_KEY = "SO/25-26/00042", "C-ACME", "pan:AACCA1234F"
COMPANY_NAME, GSTIN = "Acme Rubber Pvt Ltd", "27AACCA1234F1Z5"
DISPATCHED_ON = date(2025, 12, 1)


def doc(i: int) -> str:
    return f"QC/25-26/{i + 1:05d}"


def batch(i: int) -> str:
    return f"ZNO2511-{i + 1:04d}"


def _render(path: Path, variables: dict[str, Any]) -> str:
    macros = "\n".join(p.read_text() for p in sorted((ROOT / "dbt" / "macros").glob("*.sql")))
    env = jinja2.Environment(extensions=["jinja2.ext.do"])

    def ref(name: str) -> str:
        return f"staging.{name}" if name.startswith("stg_") else f"marts.{name}"

    return env.from_string(macros + "\n" + path.read_text()).render(
        ref=ref,
        source=lambda _source, table: f"raw.{table}",
        var=lambda name, default=None: variables.get(name, default),
        env_var=lambda _name, default=None: default,
        modules=types.SimpleNamespace(re=re),
        exceptions=types.SimpleNamespace(
            raise_compiler_error=lambda m: (_ for _ in ()).throw(RuntimeError(m))
        ),  # fmt: skip
    )


def staging_view(conn: psycopg.Connection, name: str) -> None:
    """staging.<name> from its own SQL (Focus RT sources live in raw)."""
    (path,) = MODELS.glob(f"staging/**/{name}.sql")
    conn.execute("CREATE SCHEMA IF NOT EXISTS staging")
    conn.execute(f"CREATE OR REPLACE VIEW staging.{name} AS {_render(path, {})}")  # our own


def build_model(conn: psycopg.Connection, name: str, **variables: Any) -> None:
    """marts.<name> from its own SQL (erp_as_of_date pinned to AS_OF unless given)."""
    variables.setdefault("erp_as_of_date", AS_OF.isoformat())
    (path,) = MODELS.glob(f"marts/**/{name}.sql")
    conn.execute(f"DROP TABLE IF EXISTS marts.{name}")
    conn.execute(f"CREATE TABLE marts.{name} AS {_render(path, variables)}")  # our own files


def land_lab(conn: psycopg.Connection) -> None:
    """The raw Focus RT QC documents of the scenario."""
    for i, assay in enumerate(ASSAY):
        day = FIRST_DAY + timedelta(days=i)
        lead = 0.002 if i != 5 else 0.0045  # max 0.005: 0.0045 is in the warning zone
        params = [("Assay", "%", 99.0, 100.0, assay), ("Lead (Pb)", "%", None, 0.005, lead)]
        passed = all((lo is None or v >= lo) and (hi is None or v <= hi)
                     for _, _, lo, hi, v in params)  # fmt: skip
        order = ORDER if i in (OUT_OF_SPEC_INDEX, 20) else None
        coa = "withheld" if not passed else ("pending" if i == 20 else "issued")
        conn.execute(
            "INSERT INTO raw.focus_qc_inspections (doc_no, doc_date, batch_no, product_code,"
            " product_name, order_no, result, coa_status, document, content_hash)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (doc(i), day, batch(i), PRODUCT, PRODUCT_NAME, order,
             "pass" if passed else "fail", coa, json.dumps({}), f"h{i}"),
        )  # fmt: skip
        for line_no, (name, unit, lo, hi, value) in enumerate(params, start=1):
            conn.execute(
                "INSERT INTO raw.focus_qc_results (doc_no, line_no, param_name, unit, min_value,"
                " max_value, result_value, passed) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (doc(i), line_no, name, unit, lo, hi, value,
                 (lo is None or value >= lo) and (hi is None or value <= hi)),
            )  # fmt: skip


def build_qc_marts(conn: psycopg.Connection) -> None:
    """The landed lab, the order and its CRM company, then the four QC marts."""
    land_lab(conn)
    mart(conn, "sales_orders", [{
        "sales_order_no": ORDER, "order_date": date(2025, 11, 18), "company_name": COMPANY_NAME,
        "gstin": GSTIN, "customer_code": CUSTOMER_CODE, "first_dispatched_on": DISPATCHED_ON,
        "status": "dispatched",
    }])  # fmt: skip
    mart(conn, "crm_company_sources", [{
        "company_key": COMPANY_KEY, "source_system": "focus", "source_id": CUSTOMER_CODE,
        "rule": "gstin",
    }])  # fmt: skip
    mart(conn, "crm_companies", [{"company_key": COMPANY_KEY, "name": COMPANY_NAME,
                                  "gstins": [GSTIN]}])  # fmt: skip
    build_marts(conn)


def build_marts(conn: psycopg.Connection) -> None:
    """The staging views and the four QC marts over what raw holds (sales_orders and the
    CRM master must exist)."""
    staging_view(conn, "stg_focus__qc_inspections")
    staging_view(conn, "stg_focus__qc_results")
    for name in ("qc_results", "qc_batches", "qc_alerts", "qc_throughput_daily"):
        build_model(conn, name)
