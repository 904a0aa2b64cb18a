"""The app says what is still running: a banner from the materialisation status file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

from app.auth import SESSION_USER
from app.status_banner import banner_for
from pebble.auth import User
from pebble.status import (
    FAILED,
    INTERRUPTED,
    RUNNING,
    SUCCEEDED,
    RunStatus,
    read_status,
    write_status,
)

APP = str(Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py")


def test_banner_texts() -> None:
    assert banner_for(None) is None
    assert banner_for(RunStatus(state=SUCCEEDED, total=40, done=40)) is None
    kind, text = banner_for(
        RunStatus(state=RUNNING, total=40, done=12, current="ml/classifier_model")
    )
    assert kind == "info"
    assert "12 of 40 assets done" in text and "ml/classifier_model" in text
    kind, text = banner_for(
        RunStatus(
            state=FAILED,
            failures=[f"raw_{s}: {s.upper()}_CONNECTION_FAILED" for s in ("tally", "focus")],
        )
    )
    assert kind == "warning"
    assert "raw_tally: TALLY_CONNECTION_FAILED" in text and "raw_focus" in text
    kind, text = banner_for(RunStatus(state=INTERRUPTED))
    assert kind == "warning" and "pebble materialize" in text


def test_a_running_status_whose_process_is_gone_reads_as_interrupted(pebble_env: str) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    write_status(RunStatus(state=RUNNING, pid=gone.pid, total=5))
    assert read_status().state == INTERRUPTED
    write_status(RunStatus(state=RUNNING, pid=os.getpid(), total=5))
    assert read_status().state == RUNNING


def _signed_in_app() -> AppTest:
    """The app as a signed-in sales user sees it, the board in its list view (cards as
    Streamlit text, not inside the drag component's frame)."""
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state[SESSION_USER] = User("priya", "sales")
    at.query_params["view"] = "list"
    return at.run()


def test_signed_out_there_is_no_banner_and_no_card(add_card) -> None:
    add_card("c1", "Rate enquiry - Zinc Oxide", "new", "sales")
    write_status(RunStatus(state=RUNNING, pid=os.getpid(), total=40, done=7))
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert not [i for i in at.info if "assets done" in i.value]
    assert "Rate enquiry - Zinc Oxide" not in [t.value for t in at.text]


def test_the_app_shows_what_is_still_running(add_card) -> None:
    add_card("c1", "Rate enquiry - Zinc Oxide", "new", "sales")
    write_status(RunStatus(state=RUNNING, pid=os.getpid(), total=40, done=7))
    at = _signed_in_app()
    assert not at.exception
    assert any("7 of 40 assets done" in i.value for i in at.info)
    assert "Rate enquiry - Zinc Oxide" in [t.value for t in at.text]


def test_no_banner_once_everything_is_materialised(add_card) -> None:
    add_card("c1", "Rate enquiry - Zinc Oxide", "new", "sales")
    write_status(RunStatus(state=SUCCEEDED, total=40, done=40))
    at = _signed_in_app()
    assert "Rate enquiry - Zinc Oxide" in [t.value for t in at.text]
    assert not at.exception
    assert not [i for i in at.info if "materialis" in i.value]
    assert not at.warning
