"""The "celery" deployment profile (orchestration/celery_profile.py): the unchanged
definitions, with the steps of a run executed by two Celery worker processes
(`pebble celery worker`), build the same mail -> ML -> dbt marts as an in-process run.

The broker is RabbitMQ or Redis on this machine (or ``PEBBLE_CELERY_BROKER``); without one
the test is skipped. Each run uses a queue of its own, so two runs on one broker (both
database modes in CI) never take each other's steps; the queue is deleted afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from pebble import db
from pebble.settings import PROJECT_ROOT, get_settings

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "emails"
PEBBLE = PROJECT_ROOT / ".venv" / "bin" / "pebble"
#: Local brokers tried in order when PEBBLE_CELERY_BROKER is not set.
LOCAL_BROKERS = ("redis://127.0.0.1:6379/0", "pyamqp://guest:guest@127.0.0.1:5672//")
#: The head-only retrain (seconds), the same in both runs.
RUN_CONFIG = {"ops": {"ml__classifier_model": {"config": {"fine_tune": False}}}}
#: How long the workers may take to answer on the queue (importing the definitions).
WORKER_START_S = 240


def _answers(url: str) -> bool:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
        return True
    except Exception:
        return False


@pytest.fixture(scope="module")
def broker() -> str:
    from orchestration.celery_profile import redacted

    configured = os.environ.get("PEBBLE_CELERY_BROKER")
    candidates = (configured,) if configured else LOCAL_BROKERS
    for url in candidates:
        if _answers(url):
            return url
    pytest.skip(
        "no Celery broker reachable: tried "
        + ", ".join(redacted(url) for url in candidates)
        + " (start RabbitMQ or Redis, or set PEBBLE_CELERY_BROKER)"
    )


@pytest.fixture(scope="module")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from demo.world import generate_world

    world = tmp_path_factory.mktemp("world")
    generate_world(world, seed=11, scale=0.1)
    return world


def _drop_folder(path: Path, world: Path) -> Path:
    """The sample mailbox and the demo customers' sales mailbox (as the walking skeleton)."""
    shutil.copytree(SAMPLES, path)
    shutil.copytree(world / "mail" / "maildir" / "sales", path / "sales")
    return path


def _drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def restored_env(pg_server_url: str) -> Iterator[list[str]]:
    """The process environment restored after the test, and the databases it names in the
    returned list dropped (materialising exports variables into this process)."""
    saved = dict(os.environ)
    databases: list[str] = []
    yield databases
    os.environ.clear()
    os.environ.update(saved)
    get_settings.cache_clear()
    for name in databases:
        _drop_database(pg_server_url, name)


def _selection() -> Any:
    import dagster as dg

    from orchestration.defs.dbt.assets import pebble_dbt_cards
    from orchestration.defs.mail.assets import raw_emails
    from orchestration.defs.ml.assets import classifier_model, email_predictions

    return dg.AssetSelection.assets(
        raw_emails, classifier_model, email_predictions
    ) | dg.AssetSelection.assets(pebble_dbt_cards)


def _marts(url: str) -> dict[str, Any]:
    """What the mail -> ML -> dbt path built, by key (no timestamps, no float scores)."""
    with psycopg.connect(url) as conn:

        def rows(query: str) -> list[tuple[Any, ...]]:
            return sorted(conn.execute(query).fetchall(), key=repr)

        return {
            "raw.emails": rows("SELECT email_key FROM raw.emails"),
            "staging.stg_mail__emails": rows("SELECT email_key FROM staging.stg_mail__emails"),
            "ml.email_predictions": rows(
                "SELECT email_key, model_version, stream, intent FROM ml.email_predictions"
            ),
            "ml.email_entities": rows("SELECT email_key, label, value FROM ml.email_entities"),
            "marts.email_cards": rows(
                "SELECT card_id, thread_key, mailbox, subject, message_count, latest_email_key,"
                " stream, intent, company_key, status FROM marts.email_cards"
            ),
        }


def _start_workers(names: list[str], log_dir: Path) -> list[Any]:
    from pebble import procs

    return [
        procs.spawn(
            [str(PEBBLE), "celery", "worker", f"--name={name}"],
            os.environ,
            log_dir / f"{name}.log",
        )
        for name in names
    ]


def _wait_for_workers(workers: list[Any], names: list[str], log_dir: Path) -> None:
    """Until every worker answers on the queue; fails with their logs if one exits first."""
    from orchestration.celery_profile import workers_on_queue

    wanted = {f"{name}@{socket.gethostname()}" for name in names}
    deadline = time.monotonic() + WORKER_START_S
    while True:
        answering = set(workers_on_queue(timeout_s=1.0))
        if wanted <= answering:
            return
        exited = [w for w in workers if w.poll() is not None]
        if exited or time.monotonic() > deadline:
            logs = "\n".join(p.read_text()[-2000:] for p in sorted(log_dir.glob("*.log")))
            pytest.fail(f"workers {sorted(wanted - answering)} did not start:\n{logs}")


def _worker_steps(instance: Any, run_id: str) -> tuple[dict[str, str], dict[str, int]]:
    """Which worker executed each step (from the executor's engine events), and the
    process that reported each step's start."""
    from dagster import DagsterEventType

    steps: dict[str, str] = {}
    pids: dict[str, int] = {}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None:
            continue
        if event.event_type == DagsterEventType.ENGINE_EVENT and "in celery worker" in (
            event.message or ""
        ):
            meta = {k: getattr(v, "value", v) for k, v in event.engine_event_data.metadata.items()}
            steps[event.step_key] = str(meta["Celery worker"])
        elif event.event_type == DagsterEventType.STEP_START:
            pids[event.step_key] = event.pid
    return steps, pids


def test_celery_workers_build_the_same_marts_as_an_in_process_run(
    broker: str,
    small_world: Path,
    pebble_env: str,
    pg_server_url: str,
    restored_env: list[str],
    tmp_path: Path,
) -> None:
    import dagster as dg

    from orchestration import celery_profile
    from orchestration.definitions import defs
    from pebble import procs
    from pebble.materialize import selected_keys

    os.environ["PEBBLE_WORLD_DIR"] = str(small_world)
    os.environ["PEBBLE_TRAINING_DIR"] = str(small_world)  # the classifier trains on it
    keys = selected_keys(_selection())
    names = {key.to_user_string() for key in keys}
    assert {"raw/emails", "ml/classifier_model", "ml/email_predictions"} <= names
    assert "marts/email_cards" in names

    # 1. in process, into the test's warehouse (an ephemeral Dagster instance)
    home_a = Path(os.environ["PEBBLE_HOME"])
    os.environ["PEBBLE_MAIL_DROP_DIR"] = str(_drop_folder(tmp_path / "drop_a", small_world))
    get_settings.cache_clear()
    job = defs.resolve_implicit_global_asset_job_def()
    started = time.monotonic()
    local = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        asset_selection=sorted(keys),
        run_config=RUN_CONFIG,
        raise_on_error=False,
    )
    assert local.success
    in_process_s = time.monotonic() - started
    expected = _marts(pebble_env)
    assert expected["marts.email_cards"] and expected["ml.email_predictions"]
    assert len(expected["ml.email_predictions"]) == len(expected["raw.emails"])

    # 2. on two Celery workers, into a second warehouse and home holding the same model
    warehouse_b = f"pebble_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(warehouse_b)))
    restored_env.extend([warehouse_b, f"{warehouse_b}_dagster"])
    url_b = db._to_url({**conninfo_to_dict(pg_server_url), "dbname": warehouse_b})
    home_b = tmp_path / "home_b"
    shutil.copytree(home_a / "models", home_b / "models")
    token = uuid.uuid4().hex[:8]
    queue = f"pebble-test-{token}"
    os.environ.update(
        {
            "DATABASE_URL": url_b,
            "PEBBLE_HOME": str(home_b),
            "PEBBLE_MAIL_DROP_DIR": str(_drop_folder(tmp_path / "drop_b", small_world)),
            "PEBBLE_CELERY_BROKER": broker,
            "PEBBLE_CELERY_QUEUE": queue,
        }
    )
    for name in (db.RESOLVED_URL_ENV, "DAGSTER_HOME", "PEBBLE_CELERY_BACKEND"):
        os.environ.pop(name, None)
    get_settings.cache_clear()
    db.apply_runtime_env()  # the Dagster instance under home_b, as the workers will find it

    worker_names = [f"w1-{token}", f"w2-{token}"]
    log_dir = tmp_path / "worker-logs"
    workers = _start_workers(worker_names, log_dir)
    tree: set[int] = set()
    try:
        _wait_for_workers(workers, worker_names, log_dir)
        tree = {p.pid for w in workers for p in [psutil.Process(w.pid)] + _children(w.pid)}
        summary = celery_profile.materialize(_selection(), RUN_CONFIG)
        assert summary.success, summary.failures
        assert set(summary.assets) == names
        with dg.DagsterInstance.get() as instance:
            steps, pids = _worker_steps(instance, summary.run_id)
        print(
            f"in process: {in_process_s:.1f}s; on two Celery workers: {summary.seconds:.1f}s;"
            f" steps by worker: {sorted(steps.items())}"
        )
    finally:
        # a worker's step process is replaced after every step: collect them all now
        tree |= {p.pid for w in workers for p in _children(w.pid)}
        procs.stop_all(workers, grace_s=30)
        try:
            celery_profile.delete_queue()
        except Exception:  # the broker went away: nothing left to delete there
            pass

    # every worker process is gone, children included
    assert not [pid for pid in tree if _alive(pid)], "worker processes outlived the test"
    # every step (landing, model, scoring, dbt, the landings' data checks) went to one of
    # the two workers, and ran in a worker's process, not in this one
    host = socket.gethostname()
    main_steps = {"raw_emails", "ml__classifier_model", "ml__email_predictions", "pebble_dbt_cards"}
    assert main_steps <= set(steps) and set(steps) == set(pids), (steps, pids)
    assert set(steps.values()) <= {f"{name}@{host}" for name in worker_names}, steps
    assert os.getpid() not in set(pids.values()), pids
    # the same marts, key by key
    assert _marts(url_b) == expected


def _children(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_bad_broker_url_or_queue_name_is_refused_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from orchestration.celery_profile import CeleryProfileError, broker_url, queue_name

    monkeypatch.setenv("PEBBLE_CELERY_BROKER", "http://127.0.0.1:5672/")
    with pytest.raises(CeleryProfileError, match="RabbitMQ .* or Redis"):
        broker_url()
    monkeypatch.setenv("PEBBLE_CELERY_QUEUE", "steps; DROP")
    with pytest.raises(CeleryProfileError, match="PEBBLE_CELERY_QUEUE"):
        queue_name()


def test_an_unreachable_broker_is_named_without_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from orchestration.celery_profile import CeleryProfileError, check_broker

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("PEBBLE_CELERY_BROKER", f"redis://:s3cret-pw@127.0.0.1:{port}/0")
    with pytest.raises(CeleryProfileError) as failure:
        check_broker(timeout_s=2)
    message = str(failure.value)
    assert f"redis://:***@127.0.0.1:{port}/0" in message and "does not answer" in message
    assert "s3cret-pw" not in message


def test_the_profile_is_the_same_definitions_on_the_celery_executor() -> None:
    from orchestration import celery_profile, definitions

    local, celery = definitions.defs, celery_profile.defs
    assert set(celery.resolve_asset_graph().get_all_asset_keys()) == set(
        local.resolve_asset_graph().get_all_asset_keys()
    )
    assert {job.name for job in celery.resolve_all_job_defs()} == {
        job.name for job in local.resolve_all_job_defs()
    }
    assert {s.name for s in celery.schedules or []} == {s.name for s in local.schedules or []}
    assert {s.name for s in celery.sensors or []} == {s.name for s in local.sensors or []}
    assert {job.executor_def.name for job in celery.resolve_all_job_defs()} == {"pebble_celery"}
    assert "pebble_celery" not in {job.executor_def.name for job in local.resolve_all_job_defs()}


def test_dagster_cli_loads_the_profile_as_a_code_location(pebble_env: str) -> None:
    """What `dagster dev -m orchestration.celery_profile` loads (one Definitions object)."""
    import subprocess
    import sys

    dagster = Path(sys.executable).parent / "dagster"
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    out = subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "orchestration.celery_profile"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "passed validation" in out.stderr + out.stdout
