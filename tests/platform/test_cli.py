"""The `pebble` command's options, the bind-address warning and when the demo runs."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pebble import db
from pebble.cli import app
from pebble.settings import get_settings


def test_up_help_names_the_materialize_switch() -> None:
    result = CliRunner().invoke(app, ["up", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "--no-materialize" in result.output
    assert "--no-no-materialize" not in result.output


def test_materialize_help_offers_the_demo_switch() -> None:
    result = CliRunner().invoke(app, ["materialize", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "--no-demo" in result.output


@pytest.mark.parametrize(
    ("host", "warned"),
    [
        ("127.0.0.1", False),
        ("127.0.0.2", False),
        ("::1", False),
        ("localhost", False),
        ("0.0.0.0", True),
        ("192.168.1.20", True),
        ("::", True),
        ("pebble.example.in", True),
    ],
)
def test_a_bind_beyond_loopback_is_warned_about(host: str, warned: bool) -> None:
    from pebble.up import bind_warning

    warning = bind_warning(host)
    assert (warning is not None) == warned
    if warning:
        assert host in warning and "network" in warning


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> pytest.MonkeyPatch:
    for name in (
        "DATABASE_URL",
        db.RESOLVED_URL_ENV,
        "PEBBLE_DEMO",
        "TALLY_URL",
        "FOCUS_URL",
        "MAIL_IMAP_HOST",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env file from the checkout
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, True),  # a new machine: embedded database, nothing configured
        ({"DATABASE_URL": "postgresql://u@db.example.in/x"}, False),
        ({"TALLY_URL": "http://tally:9000"}, False),
        ({"MAIL_IMAP_HOST": "imap.example.in"}, False),
        ({"PEBBLE_DEMO": "0"}, False),
        ({"PEBBLE_DEMO": "1", "DATABASE_URL": "postgresql://u@db.example.in/x"}, True),
        ({"PEBBLE_DEMO": "1", "FOCUS_URL": "http://focus"}, True),
    ],
)
def test_the_demo_runs_only_in_a_demo_home(
    clean_env: pytest.MonkeyPatch, env: dict[str, str], expected: bool
) -> None:
    from pebble.demo_stack import demo_decision

    for name, value in env.items():
        clean_env.setenv(name, value)
    get_settings.cache_clear()
    on, reason = demo_decision()
    assert on is expected, reason
    assert reason.startswith("demo on" if expected else "demo off")


def test_a_process_with_the_embedded_vector_store_exits_quietly(tmp_path) -> None:
    """The embedded Qdrant client is closed before interpreter teardown (no ImportError
    traceback when `pebble up` or `pebble materialize` ends)."""
    import os
    import subprocess
    import sys

    script = "from ml.search import default_client; print(type(default_client()).__name__)"
    env = {**os.environ, "PEBBLE_HOME": str(tmp_path)}
    env.pop("QDRANT_URL", None)
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "QdrantClient"
    assert "Traceback" not in out.stderr and "ImportError" not in out.stderr, out.stderr
