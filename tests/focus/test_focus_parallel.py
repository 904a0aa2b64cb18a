"""Document screens fetched on a pool of workers (issue 13): the same rows, batches and
cursors as one screen at a time, one shared re-login when the session expires under
several workers, and a failure part-way keeping exactly the batches before it.

Real HTTP to the simulator (threaded), real PostgreSQL; a world of ~190 documents (the
fault suite's seed 11, scale 0.05) so that several pages and batches are in play."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from demo.sim.focus import FocusSimulator, _failure
from ingest.focus.client import FocusClient
from ingest.focus.errors import FocusAuthError, FocusRequestError
from ingest.focus.settings import KINDS, FocusSettings
from ingest.focus.sync import fetch_documents, read_cursor, sync, sync_kind

TABLES = (
    "focus_sales_orders",
    "focus_sales_order_lines",
    "focus_invoices",
    "focus_invoice_lines",
    "focus_qc_inspections",
    "focus_qc_results",
)
FAST = {
    "retries": 1,
    "backoff_s": 0.01,
    "backoff_max_s": 0.02,
    "connect_timeout_s": 2.0,
    "read_timeout_s": 90.0,  # above the rendezvous timeout below
}
#: Seconds a rendezvous in the simulator waits for the other requests it expects; it only
#: runs out when the requests do not arrive together (the client is not concurrent). Met,
#: it takes milliseconds; generous, because a stalled CI machine once outran 10 s.
RENDEZVOUS_S = 60.0


@pytest.fixture(scope="module")
def big_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from demo.world import generate_world

    out = tmp_path_factory.mktemp("focus_parallel_world")
    generate_world(out, seed=11, scale=0.05)
    return out


class _Sim(FocusSimulator):
    """The simulator with switches for these tests, all off by default:

    - ``rendezvous``: the first that many screen requests wait for each other before
      answering (``met`` says whether they all arrived together);
    - ``slow_first``: the first three documents of each kind answer last (100 ms late);
    - ``unreadable`` / ``gone``: a document served with an unreadable quantity / deleted;
    - ``fail_doc``: a document whose screen fails (``result: -1``, a server error);
    - ``fail_list_page``: a list page number that fails the same way;
    - ``herd_at`` and ``herd``: requests number ``herd_at`` to ``herd_at + herd - 1`` that
      need a session (the login aside) wait for each other; when all have arrived every
      open session expires (and the password becomes ``new_password``, when set), so each
      of them is refused at the same moment: several workers find the session dead at
      once. ``herd_met`` says whether they all arrived.
    """

    def __init__(self, world: Path, **switches: Any) -> None:
        super().__init__(world, port=0)
        self.rendezvous = 0
        self.slow_first = False
        self.unreadable: str | None = None
        self.gone: str | None = None
        self.fail_doc: str | None = None
        self.fail_list_page: int | None = None
        self.herd_at = 0
        self.herd = 0
        self.new_password: str | None = None
        for name, value in switches.items():
            assert hasattr(self, name), name
            setattr(self, name, value)
        self._barrier = threading.Barrier(self.rendezvous) if self.rendezvous else None
        self._herd = threading.Barrier(self.herd, action=self._expire) if self.herd else None
        self._count_lock = threading.Lock()
        self.screens_asked = 0
        self.arrivals = 0
        self.refusals = 0
        self.login_attempts = 0
        self.met: bool | None = None
        self.herd_met: bool | None = None

    def reset_switches(self) -> None:
        self.unreadable = self.gone = self.fail_doc = None
        self.fail_list_page = None
        self._barrier = self._herd = None
        self.faults.set("none")

    def login(self, body: bytes) -> dict[str, Any]:
        with self._count_lock:
            self.login_attempts += 1
        return super().login(body)

    def _expire(self) -> None:
        if self.new_password is not None:
            self.password = self.new_password
        self.faults.set("expired_session")

    def session_problem(self, session_id: str | None) -> str | None:
        if self._herd is not None:
            with self._count_lock:
                self.arrivals += 1
                held = self.herd_at <= self.arrivals < self.herd_at + self._herd.parties
            if held:
                self.herd_met = _meet(self._herd) and self.herd_met is not False
        problem = super().session_problem(session_id)
        if problem is not None:
            with self._count_lock:
                self.refusals += 1
        return problem

    def list_documents(self, voucher_type: str, query: dict[str, list[str]]) -> dict[str, Any]:
        if self.fail_list_page is not None and query.get("pageNo") == [str(self.fail_list_page)]:
            return _failure("Internal error while processing the request")
        return super().list_documents(voucher_type, query)

    def screen(self, voucher_type: str, doc_no: str) -> dict[str, Any]:
        with self._count_lock:
            self.screens_asked += 1
            waits = self._barrier is not None and self.screens_asked <= self._barrier.parties
        if waits:
            assert self._barrier is not None
            self.met = _meet(self._barrier) and self.met is not False
        kind = self.tenant.kind_of(voucher_type)
        if self.slow_first and kind and doc_no in _first(self.documents[kind], 3):
            time.sleep(0.1)
        if doc_no == self.fail_doc:
            return _failure("Internal error while processing the request")
        if doc_no == self.gone:
            return _failure(f"Document '{doc_no}' not found in {voucher_type}")
        reply = super().screen(voucher_type, doc_no)
        if doc_no == self.unreadable:
            reply["data"][0]["Body"][0]["Quantity"] = "5 MT approx"
        return reply


def _meet(barrier: threading.Barrier) -> bool:
    try:
        barrier.wait(timeout=RENDEZVOUS_S)
    except threading.BrokenBarrierError:
        return False
    return True


def _first(records: list[dict[str, Any]], n: int) -> list[str]:
    return [r["doc_no"] for r in records[:n]]


def _doc_nos(sim: FocusSimulator, kind: str) -> list[str]:
    """The documents of ``kind`` in listing order (date, then number)."""
    return [r["doc_no"] for r in sim.documents[kind]]


def _cursor_of(sim: FocusSimulator, kind: str, doc_no: str) -> dict[str, str]:
    record = next(r for r in sim.documents[kind] if r["doc_no"] == doc_no)
    return {"date": record["_date"].isoformat(), "doc_no": doc_no}


def _client(sim: FocusSimulator, workers: int, **overrides: Any) -> FocusClient:
    settings = {**FAST, "page_size": 7, **overrides}
    return FocusClient(FocusSettings(url=sim.url, screen_workers=workers, **settings))


def state(conn: psycopg.Connection) -> dict[str, Any]:
    """Everything a pull writes: each table's rows (load times and run ids aside), the
    rejects and the cursors."""
    out: dict[str, Any] = {}
    for table in TABLES:
        rows = conn.execute(f"SELECT to_jsonb(t) FROM raw.{table} t").fetchall()  # noqa: S608 - constants
        kept = [
            {k: v for k, v in row[0].items() if not k.endswith("_at") and "run" not in k}
            for row in rows
        ]
        out[table] = sorted(kept, key=lambda r: (r["doc_no"], r.get("line_no", 0)))
    out["rejects"] = conn.execute(
        "SELECT source_kind, locator, reason, payload FROM raw.rejects "
        "WHERE source = 'focus' ORDER BY locator"
    ).fetchall()
    out["cursors"] = conn.execute(
        "SELECT cursor_key, value FROM raw.ingest_cursors WHERE source = 'focus' ORDER BY 1"
    ).fetchall()
    return out


def wipe(conn: psycopg.Connection) -> None:
    conn.execute("TRUNCATE " + ", ".join(f"raw.{t}" for t in TABLES))
    conn.execute("DELETE FROM raw.ingest_cursors WHERE source = 'focus'")
    conn.execute("DELETE FROM raw.rejects WHERE source = 'focus'")


def landed_doc_nos(conn: psycopg.Connection, kind: str) -> list[str]:
    rows = conn.execute(f"SELECT doc_no FROM raw.focus_{kind} ORDER BY doc_date, doc_no")  # noqa: S608
    return [r[0] for r in rows]


@pytest.fixture
def sims(big_world: Path) -> Iterator[list[_Sim]]:
    started: list[_Sim] = []
    yield started
    for sim in started:
        sim.stop()


def _start(sims: list[_Sim], world: Path, **switches: Any) -> _Sim:
    sim = _Sim(world, **switches)
    sim.start()
    sims.append(sim)
    return sim


def test_parallel_fetch_lands_exactly_what_one_at_a_time_lands(
    warehouse: psycopg.Connection, big_world: Path, sims: list[_Sim]
) -> None:
    probe = _start(sims, big_world)
    orders = _doc_nos(probe, "sales_orders")
    quirks = {"unreadable": orders[9], "gone": orders[20]}  # a reject and a skip mid-pull

    sequential = _start(sims, big_world, **quirks)
    with _client(sequential, 1) as client:
        one = {k: sync_kind(warehouse, client, k, batch_size=10) for k in KINDS}
    reference = state(warehouse)
    assert sequential.met is None  # no rendezvous asked of the sequential run
    assert len(reference["focus_sales_orders"]) == len(orders) - 2
    assert [r[1] for r in reference["rejects"]] == [orders[9]]
    wipe(warehouse)

    parallel = _start(sims, big_world, rendezvous=4, **quirks)
    with _client(parallel, 4) as client:
        many = {k: sync_kind(warehouse, client, k, batch_size=10) for k in KINDS}
        assert client.logins == 1
    assert parallel.met is True  # four screens were in flight at once
    assert state(warehouse) == reference
    for kind in KINDS:
        a, b = one[kind], many[kind]
        assert (a.seen, a.landed, a.updated, a.rejected, a.cursor_after) == (
            b.seen,
            b.landed,
            b.updated,
            b.rejected,
            b.cursor_after,
        )


def test_parallel_fetch_yields_in_listing_order_whatever_answers_first(
    big_world: Path, sims: list[_Sim]
) -> None:
    sim = _start(sims, big_world, slow_first=True)
    with _client(sim, 6) as client:
        for kind in KINDS:
            fetched = [doc_no for doc_no, _ in fetch_documents(client, kind)]
            assert fetched == _doc_nos(sim, kind)


def test_session_expiring_under_several_workers_is_renewed_by_one_login(
    warehouse: psycopg.Connection, big_world: Path, sims: list[_Sim]
) -> None:
    clean = _start(sims, big_world)
    with _client(clean, 1) as client:
        sync(warehouse, client)
    reference = state(warehouse)
    total = sum(len(_doc_nos(clean, k)) for k in KINDS)
    wipe(warehouse)

    # One list page of sales orders, then screens: requests 2-4 are screens of three
    # workers, held until all three are in, then refused together for an expired session.
    # Among the first twelve screens the pool is given at once, so the others are already
    # queued: a herd later on could wait for screens the pool only gets once the held one
    # is answered (the oldest pending document blocks the listing).
    sim = _start(sims, big_world, herd_at=2, herd=3)
    with _client(sim, 6, page_size=200) as client:
        report = sync(warehouse, client)
        logins = client.logins
    assert sim.herd_met is True, f"the three screens did not arrive together ({sim.arrivals})"
    assert logins == 2 and sim.refusals >= 3
    assert sim.login_attempts == 2 and sim.login_count == 2  # one re-login for all of them
    assert state(warehouse) == reference
    # Each document landed once in the run: none lost, none fetched and landed twice.
    assert report.seen == total and report.landed == total
    assert report.updated == 0 and report.duplicates == 0 and report.rejected == 0


def test_login_refused_on_renewal_is_tried_once_for_every_worker(
    warehouse: psycopg.Connection, big_world: Path, sims: list[_Sim]
) -> None:
    """The session expires and the password changed meanwhile: one refused login (not one
    per worker, which could lock the Focus user), FOCUS_AUTH_FAILED, whole batches before
    the failure kept with their cursor, and the next run completes."""
    clean = _start(sims, big_world)
    with _client(clean, 1) as client:
        sync_kind(warehouse, client, "sales_orders")
    reference = state(warehouse)
    orders = _doc_nos(clean, "sales_orders")
    wipe(warehouse)

    sim = _start(
        sims, big_world, herd_at=9, herd=3, new_password="changed-by-the-admin"
    )  # requests 9-11: screens 8-10 (after one list page), within the first twelve queued
    password = sim.password
    with _client(sim, 6, page_size=200) as client, pytest.raises(FocusAuthError) as failure:
        sync_kind(warehouse, client, "sales_orders", batch_size=5)
    assert failure.value.code == "FOCUS_AUTH_FAILED"
    assert sim.herd_met is True
    assert sim.login_attempts == 2  # the first login and one refused renewal, for all workers
    assert "FOCUS_PASSWORD" in str(failure.value)
    landed = landed_doc_nos(warehouse, "sales_orders")
    assert landed == orders[: len(landed)] and len(landed) % 5 == 0 and len(landed) <= 16
    if landed:
        assert read_cursor(warehouse, "sales_orders") == _cursor_of(sim, "sales_orders", landed[-1])
    else:
        assert read_cursor(warehouse, "sales_orders") is None

    sim.password = password  # the admin's change undone: the next run completes
    sim.reset_switches()
    with _client(sim, 4) as client:
        sync_kind(warehouse, client, "sales_orders", batch_size=5)
    assert state(warehouse) == reference


@pytest.mark.parametrize("workers", [1, 4])
@pytest.mark.parametrize(
    ("fault", "kept"),
    [
        # The 8th document's screen fails: batches 1-3 and 4-6 landed, the 7th waited in a
        # batch that never completed.
        ("screen", 6),
        # The second list page (documents 6-10) fails: 1-5 were fetched; batch 1-3 landed.
        ("list", 3),
    ],
)
def test_failure_part_way_keeps_the_batches_before_it_and_their_cursor(
    warehouse: psycopg.Connection,
    big_world: Path,
    sims: list[_Sim],
    workers: int,
    fault: str,
    kept: int,
) -> None:
    clean = _start(sims, big_world)
    with _client(clean, 1) as client:
        sync_kind(warehouse, client, "sales_orders")
    reference = state(warehouse)
    orders = _doc_nos(clean, "sales_orders")
    wipe(warehouse)

    switches = {"fail_doc": orders[7]} if fault == "screen" else {"fail_list_page": 2}
    sim = _start(sims, big_world, **switches)
    with _client(sim, workers, page_size=5) as client:
        with pytest.raises(FocusRequestError) as failure:
            sync_kind(warehouse, client, "sales_orders", batch_size=3)
    assert type(failure.value) is FocusRequestError  # the typed error, not a wrapper
    assert failure.value.code == "FOCUS_REQUEST_FAILED"
    assert landed_doc_nos(warehouse, "sales_orders") == orders[:kept]
    assert read_cursor(warehouse, "sales_orders") == _cursor_of(
        sim, "sales_orders", orders[kept - 1]
    )

    sim.reset_switches()  # fixed at the source: the next run resumes from the cursor
    with _client(sim, workers, page_size=5) as client:
        resumed = sync_kind(warehouse, client, "sales_orders", batch_size=3)
    assert resumed.extra["from_date"] is not None  # an incremental run, not a full one
    assert state(warehouse) == reference
    assert read_cursor(warehouse, "sales_orders") == _cursor_of(sim, "sales_orders", orders[-1])


def test_refused_login_is_not_repeated_by_every_thread(big_world: Path, sims: list[_Sim]) -> None:
    """Six threads need a session and Focus refuses the credentials: one login is tried,
    and every thread gets FOCUS_AUTH_FAILED; within breaker_cooldown_s the refusal stands
    without asking Focus again, after it (here 0 s) a call tries again."""
    from concurrent.futures import ThreadPoolExecutor

    from pydantic import SecretStr

    sim = _start(sims, big_world)
    orders = _doc_nos(sim, "sales_orders")
    wrong = SecretStr("not-the-password")
    with _client(sim, 6, password=wrong, breaker_cooldown_s=60) as client:
        with ThreadPoolExecutor(6) as pool:
            futures = [pool.submit(client.screen, "Sales Orders", d) for d in orders[:6]]
        errors = [f.exception() for f in futures]
        assert all(isinstance(e, FocusAuthError) for e in errors), errors
        assert sim.login_attempts == 1
        with pytest.raises(FocusAuthError):
            client.screen("Sales Orders", orders[0])
        assert sim.login_attempts == 1  # the refusal stands for the cool-down
        with pytest.raises(FocusAuthError):
            client.login()  # asked for explicitly: tried
        assert sim.login_attempts == 2
    with _client(sim, 1, password=wrong, breaker_cooldown_s=0) as client:
        for _ in range(2):
            with pytest.raises(FocusAuthError):
                client.screen("Sales Orders", orders[0])
    assert sim.login_attempts == 4  # no cool-down: each call tries


def test_screen_workers_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert FocusSettings().screen_workers == 8
    monkeypatch.setenv("FOCUS_SCREEN_WORKERS", "3")
    settings = FocusSettings()
    assert settings.screen_workers == 3
    client = FocusClient(settings)
    try:  # the shared session's pool holds a connection per worker and the listing
        assert (
            client.http.get_adapter("http://focus").poolmanager.connection_pool_kw["maxsize"] >= 4
        )
    finally:
        client.close()
    monkeypatch.setenv("FOCUS_SCREEN_WORKERS", "0")
    with pytest.raises(ValueError, match="screen_workers"):
        FocusSettings()
