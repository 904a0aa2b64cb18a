"""Building the dbt marts ML reads, for tests that land raw Tally / Focus / mail data.

ML reads master data only from the marts (`ml.warehouse.read_mart`), so a test that lands
raw rows builds the marts it needs through the project's own dbt resource (the one the
Dagster definitions configure), selecting only those models and what they are built from.
"""

from __future__ import annotations

from typing import Any

import pytest

from pebble import db

#: What ML linking and draft grounding read, and everything upstream of it.
ML_MARTS = "+crm_companies +crm_company_sources +crm_contacts +stock_levels +sales_orders \
+sales_order_lines +customer_last_price"


def build_marts(url: str, select: str = ML_MARTS) -> None:
    """`dbt run --select <select>` against the database at `url` (models only: the tests of
    the models are the platform tests' business)."""
    from orchestration.definitions import defs

    with pytest.MonkeyPatch.context() as env:
        for variable, value in db.dbt_env(url).items():  # the profile Pebble derives
            env.setenv(variable, value)
        invocation: Any = (
            defs.resources["dbt"].cli(["run", "--select", select], raise_on_error=False).wait()
        )
        results = invocation.get_artifact("run_results.json")["results"]
    failed = [(r["unique_id"], r["message"]) for r in results if r["status"] != "success"]
    assert invocation.is_successful() and not failed, failed
