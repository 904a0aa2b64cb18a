"""The suite's totals: at least 200 generated cases tried, none crashed, none dropped.

Runs last in this directory (file order); it needs the whole directory run, since it reads
the outcomes the other files recorded (``pytest tests/bad_inputs``)."""

from __future__ import annotations

from .conftest import GENERATED, LEDGER, summary


def test_every_generated_case_was_tried_and_none_crashed() -> None:
    data = summary()
    missing = sorted(set(GENERATED) - set(LEDGER))
    assert not missing, f"cases not run (run the whole tests/bad_inputs directory): {missing[:10]}"
    assert data["tried"] >= 200, data["tried"]
    assert data["crashed"] == 0, data["problems"]
    assert data["dropped"] == 0, data["problems"]
    assert data["tried"] == data["rejected"] + data["stored"] + data["duplicate"]
    # every category both refuses and lets through what it should
    categories = data["categories"]
    assert {"mail", "prelead", "tally", "focus", "injection"} <= {
        name.split(".", 1)[0] for name in categories
    }
    assert all(
        c["rejected"] + c["stored"] + c["duplicate"] == c["tried"] for c in categories.values()
    )
