"""The demo world fills the managers' Commercial dashboard, overdue receivables included
(issue 12: ``make up`` must show at least one), measured as ``make up`` measures it: on
today's date, no ``erp_as_of_date`` pinned.

A small demo world lands as production lands it (Tally and Focus RT through their
simulators, mail and lead lists through their loaders: ``land_world``), the real dbt models
build the Commercial dashboard's marts, and the page is run as a manager.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
from streamlit.testing.v1 import AppTest

from pebble import db
from pebble.auth import User

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "app" / "pages" / "dashboards.py")
DBT = Path(sys.executable).parent / "dbt"


def test_the_demo_world_has_overdue_receivables_on_the_dashboard(
    warehouse: psycopg.Connection, pebble_env: str, tmp_path: Path
) -> None:
    from demo.world import generate_world
    from tests.platform.test_crm_master import land_world

    generate_world(tmp_path / "world", seed=7, scale=0.02)
    land_world(pebble_env, tmp_path / "world")
    env = dict(os.environ, **db.dbt_env(pebble_env), PEBBLE_TIMEZONE="Asia/Kolkata",
               DBT_SEND_ANONYMOUS_USAGE_STATS="false")  # fmt: skip
    done = subprocess.run(
        [str(DBT), "run", "--select", "+kpi_receivables_ageing", "+kpi_conversion_daily",
         "--target-path", str(tmp_path / "dbt-target"), "--log-path", str(tmp_path / "dbt-logs")],
        cwd=ROOT / "dbt", env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]

    overdue, outstanding = warehouse.execute(
        "SELECT count(*) FILTER (WHERE is_overdue), sum(outstanding_inr) FILTER (WHERE is_overdue)"
        " FROM marts.kpi_receivables_ageing"
    ).fetchone()
    assert overdue >= 1
    # the mart agrees with receivables, the ERP mart it ages
    assert warehouse.execute(
        "SELECT count(*), sum(outstanding_inr) FROM marts.receivables WHERE days_overdue > 0"
    ).fetchone() == (overdue, outstanding)

    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["pebble_user"] = User("manisha", "manager")
    at.query_params["tab"] = "Commercial"
    at.run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Overdue receivables"] not in ("₹0", "–")
    keys = [b.key for b in at.get("download_button")]
    ageing = at.dataframe[keys.index("dash_csv_receivables_ageing")].value
    assert ageing["invoices"].sum() >= overdue and ageing["overdue_inr"].sum() > 0
