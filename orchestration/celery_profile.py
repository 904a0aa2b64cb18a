"""Deployment profile "celery": the code location's definitions, unchanged, with each step of
a run executed by a Celery worker process (``dagster-celery``) instead of inside the run.

``defs`` here is :data:`orchestration.definitions.defs` (the same assets, checks, jobs,
schedules, sensors and resources) plus one thing: the Celery executor. Runs hand their steps
to a broker (RabbitMQ or Redis); workers started with ``pebble celery worker``, on this
machine or on others that share the database and the file system, take them from one queue.
See docs/celery.md.

Settings, read from the environment (the same in the process that orchestrates a run and in
every worker):

``PEBBLE_CELERY_BROKER``
    The broker URL: ``pyamqp://user:password@host:5672/vhost`` (RabbitMQ) or
    ``redis://host:6379/0``. Default: RabbitMQ on this machine as ``guest``.
``PEBBLE_CELERY_BACKEND``
    Where workers put their results. Default: the broker itself for Redis, ``rpc://``
    (replies over the broker) for RabbitMQ.
``PEBBLE_CELERY_QUEUE``
    The queue the steps go to and the workers take from. Default ``pebble``. Two
    deployments (or two test runs) on one broker use two queue names, so neither takes the
    other's steps.

They are read when a run starts and when a worker starts, never stored with the runs (a
broker password stays out of the run's configuration and the Dagster UI).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import dagster as dg
from dagster import multiple_process_executor_requirements

from orchestration import definitions as local

BROKER_ENV = "PEBBLE_CELERY_BROKER"
BACKEND_ENV = "PEBBLE_CELERY_BACKEND"
QUEUE_ENV = "PEBBLE_CELERY_QUEUE"

#: RabbitMQ on this machine with its stock account (not a secret: RabbitMQ admits ``guest``
#: from localhost only).
DEFAULT_BROKER = "pyamqp://guest:guest@127.0.0.1:5672//"
DEFAULT_QUEUE = "pebble"
#: This module and the attribute that holds its definitions, as workers import them.
MODULE = __name__
ATTRIBUTE = "defs"
#: The job every asset selection runs in (as ``pebble materialize`` does).
ASSET_JOB = "__ASSET_JOB"

BROKER_SCHEMES = ("amqp", "pyamqp", "amqps", "redis", "rediss")


class CeleryProfileError(ValueError):
    """The Celery profile is misconfigured or its broker or workers cannot be reached."""


def broker_url() -> str:
    url = os.environ.get(BROKER_ENV) or DEFAULT_BROKER
    scheme = urlsplit(url).scheme
    if scheme not in BROKER_SCHEMES:
        raise CeleryProfileError(
            f"{BROKER_ENV} must be a RabbitMQ (pyamqp://, amqp://) or Redis (redis://) URL, "
            f"not {scheme or 'a URL without a scheme'}://..."
        )
    return url


def backend_url() -> str:
    explicit = os.environ.get(BACKEND_ENV)
    if explicit:
        return explicit
    broker = broker_url()
    return broker if urlsplit(broker).scheme.startswith("redis") else "rpc://"


def queue_name() -> str:
    queue = os.environ.get(QUEUE_ENV) or DEFAULT_QUEUE
    if not queue.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise CeleryProfileError(
            f"{QUEUE_ENV} may hold letters, digits, '-', '_' and '.', not {queue!r}"
        )
    return queue


def redacted(url: str) -> str:
    """``url`` without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


@dg.executor(name="pebble_celery", requirements=multiple_process_executor_requirements())
def pebble_celery_executor(init_context: dg.InitExecutorContext) -> dg.Executor:
    """dagster-celery's executor, set up from the environment when a run starts (broker,
    result backend, queue): nothing of it, a password least of all, is stored with the run.
    Step retry policies apply, as with Dagster's default executor."""
    from dagster._core.execution.retries import RetryMode
    from dagster_celery.executor import CeleryExecutor

    return CeleryExecutor(
        retries=RetryMode(RetryMode.ENABLED),
        broker=broker_url(),
        backend=backend_url(),
        config_source={"task_default_queue": queue_name()},
    )


# the module, not its `defs`: Dagster loads a module holding one Definitions object
defs = dg.Definitions.merge(local.defs, dg.Definitions(executor=pebble_celery_executor))


def reconstructable_job(name: str = ASSET_JOB) -> Any:
    """A job of ``defs`` as worker processes rebuild it: by module and attribute name."""
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    from pebble.settings import PROJECT_ROOT

    repository = ReconstructableRepository.for_module(
        MODULE, ATTRIBUTE, working_directory=str(PROJECT_ROOT)
    )
    return repository.get_reconstructable_job(name)


@lru_cache(maxsize=4)
def _app(broker: str, backend: str, queue: str) -> Any:
    from dagster._core.execution.retries import RetryMode
    from dagster_celery.executor import CeleryExecutor
    from dagster_celery.make_app import make_app
    from dagster_celery.tasks import create_task

    executor = CeleryExecutor(
        retries=RetryMode(RetryMode.DISABLED),
        broker=broker,
        backend=backend,
        config_source={"task_default_queue": queue},
    )
    app = make_app(executor.app_args())
    create_task(app)  # the task the executor sends each step as ("execute_plan")
    return app


def celery_app() -> Any:
    """The Celery app of this profile's workers (the executor's own app, with its task)."""
    return _app(broker_url(), backend_url(), queue_name())


def check_broker(timeout_s: float = 5.0) -> None:
    """Raise :class:`CeleryProfileError` unless the broker answers within ``timeout_s``."""
    app = celery_app()
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout_s)
    except Exception as exc:
        raise CeleryProfileError(
            f"the Celery broker at {redacted(broker_url())} does not answer "
            f"({type(exc).__name__}); start RabbitMQ or Redis, or set {BROKER_ENV}"
        ) from None


def workers_on_queue(timeout_s: float = 2.0) -> list[str]:
    """Names of the workers that answer and take steps from this profile's queue."""
    queue = queue_name()
    replies = celery_app().control.inspect(timeout=timeout_s).active_queues() or {}
    return sorted(
        name for name, queues in replies.items() if any(q.get("name") == queue for q in queues)
    )


def delete_queue() -> None:
    """Remove this profile's queue, its bindings and its exchange from the broker (the
    throwaway queue of a test run). Declared first, as the workers declare it, so the
    transport knows every binding it has to remove."""
    app = celery_app()
    with app.connection_for_write() as conn:
        queue = app.amqp.queues[queue_name()].bind(conn.default_channel)
        queue.declare()
        queue.delete()
        queue.exchange.delete()


def materialize(
    select: Any = "*",
    run_config: dict[str, Any] | None = None,
    *,
    job_name: str = ASSET_JOB,
    tags: dict[str, str] | None = None,
) -> Any:
    """Materialise ``select`` (a Dagster selection or selection string) in one run on the
    Celery workers: this process orchestrates the run, the workers execute its steps.
    Returns the run's :class:`pebble.materialize.MaterializeSummary`.

    Refuses (:class:`CeleryProfileError`) when the broker does not answer or no worker
    takes steps from the queue: the run would otherwise wait for ever."""
    import time
    import warnings

    from celery.exceptions import DuplicateTaskNameWarning

    from pebble import db
    from pebble.materialize import _no_dagster_notices, collect_summary, selected_keys

    try:
        selection = dg.AssetSelection.from_string(select) if isinstance(select, str) else select
        # the whole of a landing that writes several tables, as its step always does
        keys = selected_keys(selection.required_multi_asset_neighbors())
    except dg.DagsterError as exc:
        raise CeleryProfileError(f"invalid asset selection {select!r}: {exc}") from None
    if not keys:
        raise CeleryProfileError(f"the asset selection {select!r} names no asset")
    db.apply_runtime_env()  # DAGSTER_HOME, the resolved database, the dbt profile
    db.upgrade()
    check_broker()
    if not workers_on_queue():
        raise CeleryProfileError(
            f"no Celery worker takes steps from queue {queue_name()!r} at "
            f"{redacted(broker_url())}: start some with `pebble celery worker`"
        )
    config = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    config.update(run_config or {})
    started = time.monotonic()
    with dg.DagsterInstance.get() as instance, _no_dagster_notices(), warnings.catch_warnings():
        # dagster-celery registers its task again for every step it sends: harmless
        warnings.simplefilter("ignore", DuplicateTaskNameWarning)
        with dg.execute_job(
            reconstructable_job(job_name),
            instance=instance,
            run_config=config,
            tags={"pebble/trigger": "pebble celery materialize", **(tags or {})},
            asset_selection=sorted(keys),
            raise_on_error=False,
        ) as result:
            run_id, success = result.run_id, result.success
        return collect_summary(
            instance,
            run_id,
            success,
            time.monotonic() - started,
            selected={key.to_user_string() for key in keys},
        )
