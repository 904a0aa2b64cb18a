"""Ask Pebble with an LLM: the openai client's tool calling against a fake OpenAI-compatible
server (real HTTP) that scripts the calls. Read tools run and their results reach the model
as data; a write is only proposed until confirmed, then recorded under the user's name; an
answer stating a figure no tool returned is flagged and replaced by the tool results.
"""

from __future__ import annotations

import psycopg

from ml.assistant import ask, confirm
from pebble.auth import User
from tests.assistant.conftest import Demo, FakeLLM, event_count, say, tool_call, tool_data

SALES = User("sam", "sales")


def _stock_item(conn: psycopg.Connection) -> tuple[str, float]:
    name, qty = conn.execute(
        "SELECT product_name, closing_qty_kg FROM marts.stock_levels WHERE closing_qty_kg > 0"
        " ORDER BY master_id LIMIT 1"
    ).fetchone()
    return name, float(qty)


def _answer_from_data(request: dict) -> dict:
    """The model writes its answer from the tool result it was sent (its first line)."""
    return say(tool_data(request)[-1]["lines"][0])


def test_read_tools_run_and_the_grounded_answer_is_kept(
    conn: psycopg.Connection, fake_llm: FakeLLM
) -> None:
    name, qty = _stock_item(conn)
    fake_llm.script = [lambda req: tool_call("stock", product=name.lower()), _answer_from_data]
    answer = ask(conn, SALES, f"how much {name} is there?")
    assert answer.mode == "llm" and answer.grounded, answer.flags
    assert [r.tool for r in answer.results] == ["stock"]
    assert answer.results[0].rows[0]["closing_qty"] == qty
    assert answer.text == answer.results[0].lines[0]
    assert {"table": "marts.stock_levels", "key": name} in answer.sources()
    # tools went to the server as OpenAI function schemas, with the question
    first = fake_llm.requests[0]
    assert first["model"] == "fake-model" and first["tool_choice"] == "auto"
    assert "stock" in {t["function"]["name"] for t in first["tools"]}
    assert first["messages"][-1] == {"role": "user", "content": f"how much {name} is there?"}


def test_a_number_no_tool_returned_is_flagged_and_not_shown(
    conn: psycopg.Connection, fake_llm: FakeLLM
) -> None:
    name, qty = _stock_item(conn)
    made_up = qty + 1234
    fake_llm.script = [
        lambda req: tool_call("stock", product=name),
        lambda req: say(f"We have {made_up:,.0f} kg of {name} at Rs 12.34/kg."),
    ]
    answer = ask(conn, SALES, f"stock of {name}")
    assert not answer.grounded
    assert any(f"{made_up:,.0f}" in flag for flag in answer.flags), answer.flags
    assert any("12.34" in flag for flag in answer.flags)
    assert f"{made_up:,.0f}" not in answer.text and "12.34" not in answer.text
    assert answer.results[0].lines[0] in answer.text


def test_a_write_is_proposed_then_recorded_as_the_user_on_confirmation(
    conn: psycopg.Connection, demo: Demo, fake_llm: FakeLLM
) -> None:
    fake_llm.script = [
        lambda req: tool_call("move_deal", deal=demo.deal_id, to="negotiation"),
        lambda req: say("I have proposed the move; please confirm."),
    ]
    before = event_count(conn)
    version = conn.execute(
        "SELECT version FROM ops.deal_state WHERE deal_id = %s", (demo.deal_id,)
    ).fetchone()[0]
    answer = ask(conn, SALES, f"move deal {demo.deal_id} to negotiation")
    (proposal,) = answer.proposals
    assert proposal.expected_version == version
    assert event_count(conn) == before, "nothing is written before the user confirms"
    told = tool_data(fake_llm.requests[1])[0]
    assert told["status"].startswith("proposed only")
    recorded = confirm(conn, SALES, proposal)
    assert (recorded.actor, recorded.event_type, recorded.entity_version) == (
        "sam", "DealMoved", version + 1,
    )  # fmt: skip
    stage, by = conn.execute(
        "SELECT stage, updated_by FROM ops.deal_state WHERE deal_id = %s", (demo.deal_id,)
    ).fetchone()
    assert (stage, by) == ("negotiation", "sam")


def test_an_unreachable_llm_falls_back_to_the_offline_router(
    conn: psycopg.Connection, fake_llm: FakeLLM
) -> None:
    name, qty = _stock_item(conn)
    fake_llm.script = []  # the server answers 404
    answer = ask(conn, SALES, f"stock of {name}")
    assert answer.mode == "offline" and answer.notes
    assert answer.results[0].rows[0]["closing_qty"] == qty
