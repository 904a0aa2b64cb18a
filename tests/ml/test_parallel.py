"""Scoring in worker processes (ml.parallel): the same predictions as in process, a worker
that dies is an error and not a hang, and PEBBLE_SCORE_WORKERS decides how many there are.

The workers load the session's small model (tests/ml/conftest.py), as the in-process path
does; nothing here measures time.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psycopg
import pytest
from pydantic import ValidationError

from demo.world.catalogue import PRODUCTS
from ingest.mail.sync import sync as land_mail
from ml import parallel
from ml.classifier import load_classifier
from ml.data import LabelledEmail
from ml.extract import Extractor, as_product_refs, get_extractor
from ml.parallel import ScoringPool, ScoringWorkerError, workers_for
from ml.pipeline import InputError, score_emails
from ml.search import EmailIndex
from ml.warehouse import score_pending
from pebble.settings import Settings, get_settings

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "emails"


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """PEBBLE_SCORE_WORKERS unset, and the settings read afresh after each change."""
    monkeypatch.delenv("PEBBLE_SCORE_WORKERS", raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> list[ScoringPool]:
    """Every ScoringPool started during the test."""
    started: list[ScoringPool] = []
    real_init = ScoringPool.__init__

    def recording_init(self: ScoringPool, *args, **kwargs) -> None:
        real_init(self, *args, **kwargs)
        started.append(self)

    monkeypatch.setattr(ScoringPool, "__init__", recording_init)
    return started


def _rows(examples: list[LabelledEmail], n: int) -> list[dict]:
    return [
        {"email_key": f"w{i:04d}", "subject": ex.subject, "body": ex.body}
        for i, ex in enumerate(examples[:n])
    ]


def _assert_same(multi: list[dict], single: list[dict]) -> None:
    assert [r["email_key"] for r in multi] == [r["email_key"] for r in single]
    for m, s in zip(multi, single, strict=True):
        assert (m["stream"], m["intent"], m["model_version"]) == (
            s["stream"],
            s["intent"],
            s["model_version"],
        ), m["email_key"]
        assert m["confidence"] == pytest.approx(s["confidence"], abs=1e-3)
        assert m["stream_confidence"] == pytest.approx(s["stream_confidence"], abs=1e-3)
        assert m["requires_review"] == s["requires_review"], m["email_key"]
        assert m["entities"] == s["entities"], m["email_key"]


def test_workers_score_as_the_process_does(
    home_with_model: Path, world_examples: list[LabelledEmail], tmp_path: Path, pools
) -> None:
    from qdrant_client import QdrantClient

    clf = load_classifier(home=home_with_model)
    extractor = get_extractor(as_product_refs(PRODUCTS))  # the workers get the same stock
    rows = _rows(world_examples, 600)  # three encoder batches of 256, 256 and 88
    single = score_emails(rows, classifier=clf, extractor=extractor, workers=1)
    assert pools == []
    client = QdrantClient(path=str(tmp_path / "q"))
    try:
        index = EmailIndex(client, encoder=clf.encoder)
        multi = score_emails(rows, classifier=clf, extractor=extractor, index=index, workers=2)
        assert index.count() == len(rows)  # written here, by the caller
    finally:
        client.close()
    assert len(pools) == 1 and len(pools[0].worker_pids()) == 2
    assert os.getpid() not in pools[0].worker_pids()
    _assert_same(multi, single)
    found = [e["label"] for r in single for e in r["entities"]]
    assert "PRODUCT" in found and "QUANTITY" in found  # the stock master reached the workers
    embeddings_multi = np.asarray([r["embedding"] for r in multi], dtype=np.float32)
    embeddings_single = np.asarray([r["embedding"] for r in single], dtype=np.float32)
    assert embeddings_multi.shape == (600, 384)
    np.testing.assert_allclose(embeddings_multi, embeddings_single, atol=1e-4)


def test_a_bad_row_is_named_before_any_worker_starts(home_with_model: Path, pools) -> None:
    clf = load_classifier(home=home_with_model)
    rows = [
        {"email_key": f"k{i}", "subject": "Rate", "body": "Price of zinc oxide?"} for i in range(5)
    ]
    rows[3] = {"email_key": "k3", "body": 42}
    with pytest.raises(InputError, match="k3"):
        score_emails(rows, classifier=clf, workers=2)
    assert pools == []


def test_score_pending_in_workers_writes_what_in_process_writes(
    warehouse: psycopg.Connection,
    home_with_model: Path,
    settings_env: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from qdrant_client import QdrantClient

    conn = warehouse
    landed = land_mail(conn, [shutil.copytree(SAMPLES, tmp_path / "drop")]).landed
    assert landed >= 10
    clf = load_classifier(home=home_with_model)
    products = as_product_refs(PRODUCTS)

    def written() -> tuple[list[tuple], list[tuple]]:
        predictions = conn.execute(
            "SELECT email_key, model_version, stream, intent, requires_review, company_key,"
            " company_evidence, routed_by, model_stream, model_intent, confidence,"
            " stream_confidence FROM ml.email_predictions ORDER BY email_key"
        ).fetchall()
        entities = conn.execute(
            "SELECT email_key, position, label, text, value, valid, start_char, end_char,"
            " linked_to FROM ml.email_entities ORDER BY email_key, position"
        ).fetchall()
        return predictions, entities

    said: list[str] = []
    client = QdrantClient(path=str(tmp_path / "q"))
    try:
        index = EmailIndex(client, encoder=clf.encoder)
        # batches of 4: the workers hold several batches while this process writes others
        report = score_pending(conn, clf, index, products, batch=4, log=said.append, workers=2)
        assert index.count() == landed
    finally:
        client.close()
    assert "scoring in 2 worker processes" in said
    assert report.scored == report.total == landed  # read ahead, yet each email once
    multi = written()
    assert len(multi[0]) == landed and multi[1]  # entities found and written

    conn.execute("DELETE FROM ml.email_entities")
    conn.execute("DELETE FROM ml.email_predictions")
    said.clear()
    again = score_pending(conn, clf, None, products, batch=4, log=said.append, workers=1)
    assert not any("worker" in line for line in said)
    assert again.scored == landed
    single = written()
    assert single[1] == multi[1]
    assert [p[:-2] for p in single[0]] == [p[:-2] for p in multi[0]]
    for m, s in zip(multi[0], single[0], strict=True):
        assert m[-2:] == pytest.approx(s[-2:], abs=1e-3)


def test_a_worker_that_dies_is_an_error(
    home_with_model: Path, world_examples: list[LabelledEmail]
) -> None:
    clf = load_classifier(home=home_with_model)
    with ScoringPool(clf, None, 1) as pool:
        future = pool.submit(_rows(world_examples, 256))
        (pid,) = pool.worker_pids()
        os.kill(pid, signal.SIGKILL)  # it is still loading the model, or scoring
        with pytest.raises(ScoringWorkerError, match=f"pid {pid} ended by SIGKILL"):
            pool.result(future)
        with pytest.raises(ScoringWorkerError, match="died"):
            pool.submit(_rows(world_examples, 8))  # the pool stays broken, it does not wait


def test_a_worker_that_cannot_load_the_model_is_an_error(
    home_with_model: Path, tmp_path: Path
) -> None:
    version = (home_with_model / "models" / "classifier" / "latest").read_text().strip()
    copy = tmp_path / version
    shutil.copytree(home_with_model / "models" / "classifier" / version, copy)
    from ml.classifier import EmailClassifier

    clf = EmailClassifier(copy)
    (copy / "head.npz").unlink()  # gone after this process loaded it
    rows = [{"email_key": f"k{i}", "subject": "Rate", "body": "Price of 5 MT?"} for i in range(4)]
    with pytest.raises(ScoringWorkerError, match="could not load the model"):
        score_emails(rows, classifier=clf, workers=2, batch_size=2)


def test_the_setting_decides_how_many_workers(
    home_with_model: Path, settings_env: pytest.MonkeyPatch, pools
) -> None:
    clf = load_classifier(home=home_with_model)
    big = parallel.MIN_PARALLEL_EMAILS
    settings_env.setattr(parallel, "usable_cpus", lambda: 8)
    assert parallel.configured_workers() == 4  # unset: the CPUs, at most 4
    settings_env.setattr(parallel, "usable_cpus", lambda: 2)
    assert workers_for(big, None, clf) == 2
    assert workers_for(big - 1, None, clf) == 1  # a small run stays in process

    settings_env.setenv("PEBBLE_SCORE_WORKERS", "3")
    get_settings.cache_clear()
    assert workers_for(big, None, clf) == 3
    settings_env.setenv("PEBBLE_SCORE_WORKERS", "")
    get_settings.cache_clear()
    assert workers_for(big, None, clf) == 2  # empty is unset
    settings_env.setenv("PEBBLE_SCORE_WORKERS", "0")
    with pytest.raises(ValidationError):
        Settings()

    # the shipped path follows it: 1 keeps a large run in process, 2 starts two workers
    settings_env.setattr(parallel, "MIN_PARALLEL_EMAILS", 3)
    rows = [
        {"email_key": f"k{i}", "subject": "Rate", "body": f"Price of {i + 1} MT zinc oxide?"}
        for i in range(4)
    ]
    settings_env.setenv("PEBBLE_SCORE_WORKERS", "1")
    get_settings.cache_clear()
    single = score_emails(rows, classifier=clf, batch_size=2)
    assert pools == []
    settings_env.setenv("PEBBLE_SCORE_WORKERS", "2")
    get_settings.cache_clear()
    multi = score_emails(rows, classifier=clf, batch_size=2)
    assert len(pools) == 1 and pools[0].workers == 2
    _assert_same(multi, single)


def test_what_cannot_go_to_a_worker_stays_in_process(
    home_with_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clf = load_classifier(home=home_with_model)
    assert workers_for(5000, 2, clf, get_extractor()) == 2
    # an extractor built with other options than the shared one
    assert workers_for(5000, 2, clf, Extractor(include_quoted=True)) == 1
    assert workers_for(5000, 2, object()) == 1  # not a stored classifier
    # a Streamlit page installed as __main__: a spawned worker would run it again
    page = types.ModuleType("__main__")
    page.__file__ = str(Path(__file__).with_name("a_page.py"))
    monkeypatch.setitem(sys.modules, "__main__", page)
    assert workers_for(5000, 2, clf) == 1
