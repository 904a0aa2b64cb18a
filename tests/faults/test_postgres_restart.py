"""PostgreSQL restarted mid-landing and mid-dbt.

Never the shared server: these cases start a private embedded PostgreSQL 16 (pgserver, as
`pebble` does without DATABASE_URL) and restart it with ``pg_ctl restart -m fast``, which
terminates every open connection, exactly as a server restart or fail-over does. They run
the same in both database modes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pebble import db
from tests.faults.support import (
    PYTHON,
    REPO,
    PrivateServer,
    assert_each_email_once,
    child_env,
    count,
    mail_snapshot,
    paced_pebble,
    wipe_mail,
)

# --- mid-landing --------------------------------------------------------------------------


def test_restart_mid_landing_fails_typed_then_rerun_lands_every_email_once(
    private_pg: PrivateServer, pebble_env: str, fault_world: Path, tmp_path: Path
) -> None:
    from ingest.common import store
    from ingest.mail.land import land_paths

    url = private_pg.create_database("landing")
    drop = shutil.copytree(fault_world / "mail" / "maildir", tmp_path / "drop")
    with psycopg.connect(url, autocommit=True) as conn:
        clean = land_paths(conn, [drop])
        reference = mail_snapshot(conn)
        wipe_mail(conn)

    env = child_env(url, store.attachments_root().parent)
    child = paced_pebble(["mail", "load", str(drop)], env, batch=10, pause_s=0.4)
    deadline = time.monotonic() + 60
    while count(url, "SELECT count(*) FROM raw.emails") < 30:
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the landing did not start"
        time.sleep(0.05)
    private_pg.restart()
    out, err = child.communicate(timeout=60)
    assert child.returncode == 1, (out, err)
    assert err.startswith("error: cannot reach the warehouse"), err
    assert "Next:" in err and "run the same command again" in err
    assert "Traceback" not in err

    with psycopg.connect(url, autocommit=True) as conn:
        before = count(conn, "SELECT count(*) FROM raw.emails")
        assert 30 <= before < clean.landed  # the restart struck mid-landing
        landed = {row[0] for row in mail_snapshot(conn)["emails"]}
        assert mail_snapshot(conn)["attachments"] == [
            a for a in reference["attachments"] if a[0] in landed
        ]  # no partial rows: each email with exactly its attachments

    rerun = subprocess.run(
        [PYTHON, "-m", "pebble.cli", "mail", "load", str(drop)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["loaded"] == clean.landed - before
    with psycopg.connect(url, autocommit=True) as conn:
        assert mail_snapshot(conn) == reference
        assert_each_email_once(conn)


# --- mid-dbt ------------------------------------------------------------------------------

#: A few ERP marts over Tally and Focus data (14 models with their upstream, and tests).
MARTS = ("stock_levels", "sales_orders", "sales_order_lines", "receivables", "customer_last_price")
DBT_VARS = json.dumps({"erp_as_of_date": "2025-12-31"})


def _land_erp(url: str, world: Path) -> None:
    from demo.sim.focus import FocusSimulator
    from demo.sim.tally import TallySimulator
    from ingest.focus.client import FocusClient
    from ingest.focus.settings import FocusSettings
    from ingest.focus.sync import sync as focus_sync
    from ingest.tally.client import TallyClient
    from ingest.tally.sync import sync as tally_sync

    with TallySimulator(world, port=0) as tally, FocusSimulator(world, port=0) as focus:
        with psycopg.connect(url, autocommit=True) as conn:
            tally_sync(conn, TallyClient(url=tally.url, retries=0))
            with FocusClient(FocusSettings(url=focus.url)) as client:
                focus_sync(conn, client)


def _dbt(url: str, target: Path, parsed: Path | None = None) -> subprocess.Popen:
    """`dbt build` of the marts and what they read, in its own process and target folder
    (never the project's shared dbt/target); ``parsed``: an earlier target folder whose
    parse to start from."""
    target.mkdir(parents=True, exist_ok=True)
    if parsed is not None and (parsed / "partial_parse.msgpack").is_file():
        shutil.copy2(parsed / "partial_parse.msgpack", target / "partial_parse.msgpack")
    select = " ".join(f"+{m}" for m in MARTS)
    env = {**child_env(url, target.parent), **db.dbt_env(url)}
    return subprocess.Popen(
        [str(Path(PYTHON).parent / "dbt"), "build", "--select", select, "--indirect-selection", "cautious", "--vars", DBT_VARS,
         "--project-dir", str(REPO / "dbt"), "--profiles-dir", str(REPO / "dbt"),
         "--target-path", str(target), "--log-path", str(target / "logs"), "--threads", "2"],
        env=env, cwd=REPO / "dbt", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _results(target: Path) -> dict[str, str]:
    data = json.loads((target / "run_results.json").read_text())
    return {r["unique_id"]: r["status"] for r in data["results"]}


def _marts(url: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with psycopg.connect(url) as conn:
        for mart in MARTS:
            rows = conn.execute(sql.SQL("SELECT * FROM marts.{}").format(sql.Identifier(mart)))
            out[mart] = sorted(repr(row) for row in rows.fetchall())
    return out


def _clone(server: PrivateServer, source: str, name: str) -> str:
    with psycopg.connect(server.url("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(source)))  # fmt: skip
    return server.url(name)


def _drop(server: PrivateServer, name: str) -> None:
    with psycopg.connect(server.url("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def _waiting_on_lock(url: str) -> bool:
    return count(url, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'") > 0


def test_restart_mid_dbt_build_then_rerun_builds_marts_equal_to_a_clean_build(
    private_pg: PrivateServer, fault_world: Path, tmp_path: Path
) -> None:
    landed = private_pg.create_database("landed")
    _land_erp(landed, fault_world)
    # Each build runs in a copy of the landed data called "warehouse", so all three share
    # one dbt profile and the later ones reuse the first one's parse.
    url = _clone(private_pg, "landed", "warehouse")
    clean = _dbt(url, tmp_path / "clean")
    output = clean.communicate(timeout=300)[0]
    assert clean.returncode == 0, output[-3000:]
    reference = _marts(url)
    assert all(reference[m] for m in MARTS), {m: len(r) for m, r in reference.items()}
    _drop(private_pg, "warehouse")
    url = _clone(private_pg, "landed", "warehouse")

    # Hold the vouchers so the build stops part-way (models over them wait on the lock),
    # then restart the server under it: the waiting model and every connection die.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")  # fresh statistics: the build's start-up hook skips them
    holder = psycopg.connect(url)
    holder.execute("LOCK TABLE raw.tally_vouchers IN ACCESS EXCLUSIVE MODE")
    build = _dbt(url, tmp_path / "faulted", tmp_path / "clean")
    deadline = time.monotonic() + 120
    while not _waiting_on_lock(url):
        assert build.poll() is None, build.communicate()[0][-3000:]
        assert time.monotonic() < deadline, "dbt never reached the vouchers"
        time.sleep(0.2)
    time.sleep(1.0)  # the other thread builds what does not need the vouchers
    private_pg.restart()
    holder.close()
    output = build.communicate(timeout=300)[0]
    assert build.returncode != 0, output[-3000:]
    statuses = _results(tmp_path / "faulted")
    assert "success" in statuses.values(), statuses  # models had been built: mid-build
    assert "error" in statuses.values(), statuses

    rerun = _dbt(url, tmp_path / "rerun", tmp_path / "clean")
    output = rerun.communicate(timeout=300)[0]
    assert rerun.returncode == 0, output[-3000:]
    assert set(_results(tmp_path / "rerun").values()) <= {"success", "pass"}
    assert _marts(url) == reference


@pytest.fixture(autouse=True)
def _server_is_up(private_pg: PrivateServer) -> Any:
    """Each case starts (and leaves) the private server accepting connections."""
    yield
    with psycopg.connect(private_pg.url("postgres"), connect_timeout=10) as conn:
        conn.execute("SELECT 1")
