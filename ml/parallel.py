"""Scoring emails in worker processes: one torch thread per process instead of two threads
in one.

The int8 encoder and the extractor cost about 4 ms of CPU per email on one thread, and
torch's intra-op threads scale badly on small batches, so a 2-core machine scores about
twice as fast with two one-thread processes as with one two-thread process (see
docs/scaling.md, "Scoring throughput"). :class:`ScoringPool` starts the workers with the
``spawn`` method (torch and ``fork`` do not mix); each loads the classifier artefact the
caller serves (the same folder, hence the same model version) and the same extractor once,
then scores the batches it is sent with :func:`ml.pipeline.score_batch`, the step the
in-process path runs. The caller gets the batches back in the order it sent them and does
every write itself (PostgreSQL, the embedded Qdrant store that only one process may open).

A worker that dies (killed, out of memory, crashed in native code) or cannot load the
model becomes a :class:`ScoringWorkerError` in the caller, never a hang.

How many workers: ``PEBBLE_SCORE_WORKERS`` (``pebble.settings``); unset, the CPUs this
process may run on, at most :data:`MAX_DEFAULT_WORKERS`. Runs of fewer than
:data:`MIN_PARALLEL_EMAILS` emails are scored in process: each worker pays the model's
loading (a few seconds) before it scores anything.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: Workers when PEBBLE_SCORE_WORKERS is unset, whatever the CPU count: each holds a model
#: (~300-400 MB resident) and the writes stay in one process.
MAX_DEFAULT_WORKERS = 4
#: Fewer emails than this are scored in process (worker start-up would not pay for itself).
MIN_PARALLEL_EMAILS = 2000
#: Row fields a worker needs; the rest of a row stays with the caller.
_ROW_FIELDS = ("email_key", "id", "subject", "body")


class ScoringWorkerError(RuntimeError):
    """A scoring worker process died or could not start; nothing it was scoring was
    written (the caller writes only what came back)."""


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, else the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def configured_workers() -> int:
    """``PEBBLE_SCORE_WORKERS``, else the usable CPUs capped at :data:`MAX_DEFAULT_WORKERS`."""
    from pebble.settings import get_settings

    setting = get_settings().score_workers
    return setting if setting else min(usable_cpus(), MAX_DEFAULT_WORKERS)


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker loads: the classifier folder, the stock master the extractor matches
    (None: :func:`ml.pipeline.default_extractor`) and the ML settings of the caller."""

    model_path: str
    model_version: str
    products: tuple[Any, ...] | None
    review_threshold: float
    lead_review_floor: float


def worker_spec(classifier: Any, extractor: Any | None) -> WorkerSpec | None:
    """A spec that rebuilds `classifier` and `extractor` in a worker, or None when they
    cannot be rebuilt there (a classifier that is not a stored artefact served as trained,
    a custom extractor): those are scored in process."""
    from ml.classifier import EmailClassifier
    from ml.settings import get_ml_settings

    if type(classifier) is not EmailClassifier:
        return None
    if getattr(classifier.encoder, "config", None) != classifier.encoder_config:
        return None  # an encoder swapped after loading (a benchmark's float32 baseline)
    products: tuple[Any, ...] | None = None
    if extractor is not None:
        from ml.extract import get_extractor
        from ml.extract.pipeline import Extractor

        if type(extractor) is not Extractor:
            return None
        products = tuple(extractor.products)
        if get_extractor(products) is not extractor:
            return None  # built with other options than the shared one
    settings = get_ml_settings()
    return WorkerSpec(
        model_path=str(Path(classifier.path).resolve()),
        model_version=classifier.version,
        products=products,
        review_threshold=settings.review_threshold,
        lead_review_floor=settings.lead_review_floor,
    )


def _main_is_reimportable() -> bool:
    """False when ``__main__`` is not the program that was started but a script run inside
    it (a Streamlit page is installed as ``__main__`` while it runs): a spawned worker
    re-imports ``__main__`` and would run that page, so such callers score in process."""
    from multiprocessing import process

    main = sys.modules.get("__main__")
    if getattr(main, "__spec__", None) is not None:
        return True  # `python -m ...`: imported by name, under its `if __name__` guard
    path = getattr(main, "__file__", None)
    if path is None:
        return True  # interactive: the workers import nothing of it
    program = sys.argv[0] if sys.argv else ""
    if program and not os.path.isabs(program) and process.ORIGINAL_DIR is not None:
        program = os.path.join(process.ORIGINAL_DIR, program)
    return bool(program) and os.path.realpath(path) == os.path.realpath(program)


def workers_for(
    n_emails: int, workers: int | None, classifier: Any, extractor: Any | None = None
) -> int:
    """How many worker processes score `n_emails` (1: in process).

    `workers` None: :func:`configured_workers` when there are at least
    :data:`MIN_PARALLEL_EMAILS` emails, else 1. A number is taken as given (tests, the
    benchmark). Either way 1 when the classifier or extractor cannot be rebuilt in a worker
    or ``__main__`` is a script that must not be re-run there.
    """
    if workers is None:
        workers = configured_workers() if n_emails >= MIN_PARALLEL_EMAILS else 1
    if workers <= 1 or n_emails == 0:
        return 1
    if worker_spec(classifier, extractor) is None:
        log.info("this classifier or extractor cannot be loaded in a worker: scoring in process")
        return 1
    if not _main_is_reimportable():
        log.warning(
            "__main__ is %s, not the program started: scoring in process (a worker would "
            "run it again)",
            getattr(sys.modules.get("__main__"), "__file__", "?"),
        )
        return 1
    return workers


# --- the worker side -----------------------------------------------------------------------

_state: dict[str, Any] = {}


def _init_worker(spec: WorkerSpec) -> None:
    """Pool initializer: one torch thread, the caller's ML settings, the model and the
    extractor, loaded once. A failure is kept and raised with the first batch, so that the
    caller gets the reason, not only a broken pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the caller handles ^C and stops the pool
    os.environ["TOKENIZERS_PARALLELISM"] = "false"  # one core per worker, tokenizer included
    os.environ["PEBBLE_REVIEW_THRESHOLD"] = repr(spec.review_threshold)
    os.environ["PEBBLE_LEAD_REVIEW_FLOOR"] = repr(spec.lead_review_floor)
    try:
        import torch

        torch.set_num_threads(1)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:  # already set in this process
            pass
        from ml.classifier import EmailClassifier
        from ml.pipeline import default_extractor
        from ml.settings import get_ml_settings

        get_ml_settings.cache_clear()
        classifier = EmailClassifier(Path(spec.model_path))
        if classifier.version != spec.model_version:
            raise RuntimeError(
                f"{spec.model_path} is model {classifier.version}, not {spec.model_version}"
            )
        if spec.products is None:
            extractor = default_extractor()
        else:
            from ml.extract import get_extractor

            extractor = get_extractor(spec.products)
        _state.update(classifier=classifier, extractor=extractor)
    except BaseException as exc:  # noqa: BLE001 - reported with the first batch
        _state["error"] = f"{type(exc).__name__}: {exc}"


def _score_rows(
    rows: list[dict[str, Any]], first: int, batch_size: int, threshold: float | None
) -> tuple[list[dict[str, Any]], Any, int]:
    """Score `rows` (row `first` onward of the caller's run) in encoder batches of
    `batch_size`, as the in-process path batches them: the scored dicts, the stacked
    float32 embeddings and this worker's pid."""
    import numpy as np

    from ml.pipeline import score_batch

    if "error" in _state:
        raise ScoringWorkerError(f"scoring worker could not load the model: {_state['error']}")
    scored: list[dict[str, Any]] = []
    vectors = []
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        items, embeddings = score_batch(
            batch, first + start, _state["classifier"], _state["extractor"], threshold
        )
        scored.extend(items)
        vectors.append(np.asarray(embeddings, dtype=np.float32))
    stacked = np.concatenate(vectors) if vectors else np.zeros((0, 384), dtype=np.float32)
    return scored, stacked, os.getpid()


# --- the caller side -----------------------------------------------------------------------


class ScoringPool:
    """`workers` spawned processes scoring with `classifier` and `extractor` (see
    :func:`worker_spec`); use it as a context manager. :meth:`score` sends batches and
    yields their results in order, keeping every worker busy."""

    def __init__(
        self,
        classifier: Any,
        extractor: Any | None,
        workers: int,
        *,
        threshold: float | None = None,
    ) -> None:
        import multiprocessing

        spec = worker_spec(classifier, extractor)
        if spec is None:
            raise ValueError("this classifier or extractor cannot be loaded in a worker")
        self.spec = spec
        self.workers = workers
        self.threshold = threshold
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(spec,),
        )
        #: every worker started, kept to name the one that died and how
        self._started: dict[int, Any] = {}

    def __enter__(self) -> ScoringPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers (batches not started are dropped)."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    def worker_pids(self) -> list[int]:
        """The workers started so far."""
        self._note_workers()
        return list(self._started)

    def _note_workers(self) -> None:
        # the executor's own table of its processes (it drops them when it breaks)
        self._started.update(getattr(self._executor, "_processes", None) or {})

    def submit(
        self, rows: Sequence[Mapping[str, Any]], first: int = 0, batch_size: int = 256
    ) -> Future:
        """Send rows (row `first` onward of the run) to be scored in encoder batches of
        `batch_size`; :meth:`result` of the returned future gives them back."""
        slim = [{k: row.get(k) for k in _ROW_FIELDS if k in row} for row in rows]
        try:
            future = self._executor.submit(_score_rows, slim, first, batch_size, self.threshold)
        except BrokenProcessPool as exc:
            raise self._died(exc) from exc
        self._note_workers()
        return future

    def result(self, future: Future) -> tuple[list[dict[str, Any]], Any]:
        """The scored dicts (without `embedding`) and their float32 embeddings."""
        try:
            scored, embeddings, _pid = future.result()
        except BrokenProcessPool as exc:
            raise self._died(exc) from exc
        for item in scored:
            if item["model_version"] != self.spec.model_version:
                raise ScoringWorkerError(
                    f"a worker scored with model {item['model_version']}, not "
                    f"{self.spec.model_version}"
                )
        return scored, embeddings

    def score(
        self, chunks: Iterable[Sequence[Mapping[str, Any]]], batch_size: int = 256
    ) -> Iterator[tuple[list[dict[str, Any]], Any]]:
        """Score each chunk of rows (read from `chunks` as needed, a few ahead of the one
        being returned), yielding (scored dicts, embeddings) per chunk in order."""
        pending: deque[Future] = deque()
        depth = 2 * self.workers
        first = 0
        source = iter(chunks)
        exhausted = False
        while True:
            while not exhausted and len(pending) < depth:
                chunk = next(source, None)
                if chunk is None:
                    exhausted = True
                    break
                pending.append(self.submit(chunk, first, batch_size))
                first += len(chunk)
            if not pending:
                return
            yield self.result(pending.popleft())

    def _died(self, exc: BaseException) -> ScoringWorkerError:
        self._note_workers()
        # the executor is stopping the others and reaping them: wait a little for the codes
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(
            p.exitcode is None for p in self._started.values()
        ):
            time.sleep(0.05)
        codes = [
            f"pid {pid} {_how(p.exitcode)}"
            for pid, p in self._started.items()
            if p.exitcode not in (None, 0)
        ]
        return ScoringWorkerError(
            "a scoring worker process died (killed, out of memory or crashed)"
            + (f": {', '.join(codes)}" if codes else "")
            + "; the batches it had were not written, the next run scores them"
        )


def _how(code: int) -> str:
    if code < 0:
        try:
            return f"ended by {signal.Signals(-code).name}"
        except ValueError:
            return f"ended by signal {-code}"
    return f"exited with code {code}"
