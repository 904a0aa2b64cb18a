"""`pebble ask "QUESTION" --as USER`: the same answers from the command line, JSON with
--json, and a write only with --yes."""

from __future__ import annotations

import json

import psycopg
from typer.testing import CliRunner

from pebble.cli import app
from tests.assistant.conftest import event_count


def _run(*args: str):
    return CliRunner().invoke(app, ["ask", *args])


def test_ask_json_answers_with_the_warehouse_values(
    conn: psycopg.Connection, demo_env: str
) -> None:
    name, qty = conn.execute(
        "SELECT product_name, closing_qty_kg FROM marts.stock_levels WHERE closing_qty_kg > 0"
        " ORDER BY master_id LIMIT 1"
    ).fetchone()
    done = _run(f"stock of {name}", "--as", "sam", "--json")
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert (data["user"], data["role"], data["mode"]) == ("sam", "sales", "offline")
    (tool,) = data["tools"]
    assert tool["tool"] == "stock" and tool["rows"][0]["closing_qty"] == float(qty)
    assert {"table": "marts.stock_levels", "key": name} in data["sources"]


def test_ask_prints_answer_and_sources_and_refuses_by_role(
    conn: psycopg.Connection, demo_env: str
) -> None:
    code = conn.execute(
        "SELECT customer_code FROM marts.sales_orders ORDER BY sales_order_no LIMIT 1"
    ).fetchone()[0]
    done = _run(f"open orders of {code}", "--as", "sam")
    assert done.exit_code == 0, done.output
    assert "Sources:" in done.stdout and "marts.sales_orders" in done.stdout
    refused = _run(f"receivables of {code}", "--as", "mona")
    assert refused.exit_code == 1 and "marketing" in refused.stdout
    unknown = _run("stock of x", "--as", "nobody")
    assert unknown.exit_code == 2 and "no active account" in unknown.output


def test_a_task_is_written_only_with_yes(conn: psycopg.Connection, demo_env: str) -> None:
    question = "create a task to send the COA pack tomorrow"
    before = event_count(conn)
    dry = _run(question, "--as", "otto")
    assert dry.exit_code == 0 and "Would do" in dry.stdout
    assert event_count(conn) == before
    done = _run(question, "--as", "otto", "--yes", "--json")
    assert done.exit_code == 0, done.output
    (written,) = json.loads(done.stdout)["written"]
    title, owner, by = conn.execute(
        "SELECT title, owner, created_by FROM ops.tasks WHERE task_id = %s",
        (written["entity_id"],),
    ).fetchone()
    assert (title, owner, by) == ("send the COA pack", "otto", "otto")
