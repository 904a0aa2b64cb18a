"""The embedded Qdrant store locked by another process while mail is scored.

A second process (a Dagster run, `pebble predict`, the app) holds `$PEBBLE_HOME/qdrant`.
The scoring run that the `email_predictions` asset makes (``score_pending`` with the
default ``EmailIndex()``) waits for it; when the holder lets go in time, the run completes;
when it does not, the run fails with ``QDRANT_STORE_LOCKED`` and advice, having scored
nothing, and the re-run scores every email exactly once, embeddings included.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.faults.support import PYTHON, REPO, count

HOLD = (
    "import sys, time\n"
    "from qdrant_client import QdrantClient\n"
    "client = QdrantClient(path=sys.argv[1])\n"
    "print('held', flush=True)\n"
    "sys.stdin.read()  # until the test closes our stdin\n"
    "client.close()\n"
)


class Holder:
    """A process holding the embedded store's lock until :meth:`release`."""

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [PYTHON, "-c", HOLD, str(path)],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.strip() == "held", self.process.communicate(timeout=30)

    def release(self) -> None:
        if self.process.poll() is None:
            self.process.communicate(input="", timeout=60)


@pytest.fixture(scope="module")
def classifier(fault_world: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A classifier trained (frozen encoder, logistic head: seconds) on the fault world."""
    from ml.data import load_world_examples
    from ml.finetune import FineTuneConfig
    from ml.train import TrainConfig, train

    config = TrainConfig(finetune=FineTuneConfig(enabled=False))
    home = tmp_path_factory.mktemp("models")
    return train(load_world_examples(fault_world), config=config, home=home).load()


@pytest.fixture
def landed_mail(warehouse: psycopg.Connection, fault_world: Path) -> int:
    from ingest.mail.land import land_paths

    return land_paths(warehouse, [fault_world / "mail" / "maildir"]).landed


@pytest.fixture
def fresh_index() -> Iterator[None]:
    """No embedded client left over in this process, before or after the test."""
    from ml.search import _local_client, default_client

    _local_client.cache_clear()
    yield
    if _local_client.cache_info().currsize:  # the one this test opened: close it
        default_client().close()
    _local_client.cache_clear()


def _score(conn: psycopg.Connection, classifier: Any) -> Any:
    """What the `email_predictions` asset runs: score pending mail into the default index."""
    from ml.search import EmailIndex
    from ml.warehouse import score_pending

    return score_pending(conn, classifier, EmailIndex(), batch=64)


def _indexed() -> int:
    from ml.search import EmailIndex

    return EmailIndex().count()


def test_scoring_waits_for_a_store_released_in_time(
    warehouse: psycopg.Connection,
    landed_mail: int,
    classifier: Any,
    fresh_index: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging
    import threading

    from pebble.settings import get_settings

    caplog.set_level(logging.INFO, logger="ml.search")
    holder = Holder(get_settings().home / "qdrant")
    monkeypatch.setenv("PEBBLE_QDRANT_WAIT_S", "60")

    class ReleaseWhenWaiting(logging.Handler):
        """The other process lets go once scoring says it is waiting (a fixed timer could
        fire before a loaded machine's scoring even reached the store)."""

        timers: list[threading.Timer] = []

        def emit(self, record: logging.LogRecord) -> None:
            if "is busy; waiting" in record.getMessage() and not self.timers:
                self.timers.append(threading.Timer(0.5, holder.release))
                self.timers[0].start()

    releaser = ReleaseWhenWaiting()
    logging.getLogger("ml.search").addHandler(releaser)
    try:
        report = _score(warehouse, classifier)
    finally:
        logging.getLogger("ml.search").removeHandler(releaser)
        for timer in releaser.timers:
            timer.join()
        holder.release()
    assert any("is busy; waiting" in r.getMessage() for r in caplog.records)  # it waited
    assert report.scored == report.total == landed_mail
    assert _indexed() == landed_mail


def test_store_held_too_long_fails_typed_then_rerun_scores_each_email_once(
    warehouse: psycopg.Connection,
    landed_mail: int,
    classifier: Any,
    fresh_index: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ml.search import QdrantStoreLocked
    from pebble.settings import get_settings

    holder = Holder(get_settings().home / "qdrant")
    monkeypatch.setenv("PEBBLE_QDRANT_WAIT_S", "1")
    try:
        with pytest.raises(QdrantStoreLocked) as failure:
            _score(warehouse, classifier)
    finally:
        holder.release()
    message = str(failure.value)
    assert failure.value.code == "QDRANT_STORE_LOCKED"
    assert "Next:" in message and "QDRANT_URL" in message
    assert count(warehouse, "SELECT count(*) FROM ml.email_predictions") == 0  # cleanly

    report = _score(warehouse, classifier)
    assert report.scored == report.total == landed_mail
    total, distinct = warehouse.execute(
        "SELECT count(*), count(DISTINCT email_key) FROM ml.email_predictions"
    ).fetchone()
    assert total == distinct == landed_mail
    assert _indexed() == landed_mail
    again = _score(warehouse, classifier)  # nothing pending: nothing scored twice
    assert again.scored == 0 and _indexed() == landed_mail
