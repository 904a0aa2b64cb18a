"""The client against the simulator's fault switches: typed errors, retries, breaker."""

from __future__ import annotations

import socket
from datetime import date

import pytest
import requests

from demo.sim.tally import TallySimulator
from ingest.common.resilience import CircuitBreaker
from ingest.tally.client import TallyClient
from ingest.tally.errors import TallyConnectionError, TallyParseError, TallyResponseError

COMPANY = "Pebble Demo Chemicals Pvt Ltd"


def _client(url: str, **overrides: object) -> TallyClient:
    settings = {
        "url": url,
        "company": COMPANY,
        "retries": 1,
        "backoff_s": 0.01,
        "read_timeout_s": 5.0,
        "connect_timeout_s": 2.0,
    }
    return TallyClient(**(settings | overrides))


def _set_fault(sim: TallySimulator, mode: str, delay_s: float = 1.0) -> None:
    reply = requests.post(f"{sim.url}/__faults", json={"mode": mode, "delay_s": delay_s}, timeout=5)
    assert reply.status_code == 200


def test_pulls_every_collection_in_utf16_and_utf8(tally_sim: TallySimulator) -> None:
    for utf8 in (False, True):
        client = _client(tally_sim.url, utf8=utf8)
        assert len(list(client.records("stock-items"))) == 3
        assert len(list(client.records("ledgers"))) == 9
        assert client.company_info()["alt_vch_id"] > 0


def test_down_gives_connection_failed_with_url_and_retry_after(tally_sim: TallySimulator) -> None:
    _set_fault(tally_sim, "down")
    client = _client(tally_sim.url)
    with pytest.raises(TallyConnectionError) as caught:
        list(client.records("ledgers"))
    error = caught.value
    assert error.code == "TALLY_CONNECTION_FAILED"
    assert error.url == tally_sim.url
    assert error.retry_after > 0
    assert "connection closed without an answer" in str(error)


def test_refused_port_gives_connection_failed() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = _client(f"http://127.0.0.1:{port}")
    with pytest.raises(TallyConnectionError, match="connection refused") as caught:
        client.company_info()
    assert caught.value.code == "TALLY_CONNECTION_FAILED"


def test_slow_times_out_into_a_typed_error(tally_sim: TallySimulator) -> None:
    _set_fault(tally_sim, "slow", delay_s=1.0)
    client = _client(tally_sim.url, read_timeout_s=0.2, retries=0)
    with pytest.raises(TallyConnectionError, match="no answer within 0.2 s") as caught:
        list(client.records("stock-groups"))
    assert caught.value.url == tally_sim.url


def test_malformed_and_truncated_give_parse_errors(tally_sim: TallySimulator) -> None:
    client = _client(tally_sim.url)
    _set_fault(tally_sim, "malformed")
    with pytest.raises(TallyParseError, match="not well-formed"):
        list(client.records("vouchers"))
    _set_fault(tally_sim, "truncated")
    with pytest.raises(TallyParseError, match="truncated"):
        list(client.records("vouchers"))


def test_lineerror_gives_response_error(tally_sim: TallySimulator) -> None:
    _set_fault(tally_sim, "lineerror")
    with pytest.raises(TallyResponseError, match="Tally is busy") as caught:
        list(_client(tally_sim.url).records("ledgers"))
    assert caught.value.code == "TALLY_LINEERROR"


def test_retry_recovers_when_tally_comes_back(tally_sim: TallySimulator) -> None:
    _set_fault(tally_sim, "down")
    waits: list[float] = []

    def back_up(seconds: float) -> None:
        waits.append(seconds)
        tally_sim.faults.set("none")

    client = _client(tally_sim.url, retries=3, backoff_s=0.5, sleep=back_up)
    assert len(list(client.records("stock-groups"))) == 3
    assert len(waits) == 1 and 0.25 <= waits[0] <= 0.5  # jittered first backoff
    assert client.breaker.state == "closed"


def test_backoff_grows_exponentially_with_jitter(tally_sim: TallySimulator) -> None:
    client = _client(tally_sim.url, backoff_s=1.0, backoff_max_s=5.0)
    for retry, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (6, 5.0)):
        delays = {client.settings.backoff(retry) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1


def test_breaker_opens_fails_fast_and_half_opens(tally_sim: TallySimulator) -> None:
    _set_fault(tally_sim, "down")
    client = _client(tally_sim.url, retries=0, breaker_failures=2, breaker_cooldown_s=30.0)
    now = [1000.0]
    client.breaker = CircuitBreaker(2, 30.0, clock=lambda: now[0])
    for _ in range(2):
        with pytest.raises(TallyConnectionError):
            client.company_info()
    assert client.breaker.state == "open"
    _set_fault(tally_sim, "none")  # Tally is back, but the breaker does not ask yet
    with pytest.raises(TallyConnectionError, match="cool-down") as caught:
        client.company_info()
    assert caught.value.retry_after == pytest.approx(30.0)
    now[0] += 31
    assert client.breaker.state == "half-open"
    assert client.company_info()["name"] == COMPANY  # the trial request closes it
    assert client.breaker.state == "closed"


def test_failed_half_open_trial_reopens() -> None:
    now = [0.0]
    breaker = CircuitBreaker(3, 10.0, clock=lambda: now[0])
    for _ in range(3):
        breaker.record_failure()
    assert not breaker.allow()
    now[0] = 10.5
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state == "open" and breaker.retry_after() == pytest.approx(10.0)


def test_vouchers_come_in_date_windows(tally_sim: TallySimulator) -> None:
    client = _client(tally_sim.url, batch_days=31)
    batches = list(client.vouchers(date(2025, 7, 1), date(2025, 10, 31)))
    assert len(batches) == 4
    assert sum(len(b) for b in batches) == 7
    shrinking = _client(tally_sim.url, batch_days=62, batch_max_vouchers=1)
    sizes = [len(b) for b in shrinking.vouchers(date(2025, 7, 1), date(2025, 10, 31))]
    assert sum(sizes) == 7 and len(sizes) > 2  # windows shrank after a big one


def test_incremental_pull_returns_only_changed_vouchers(tally_sim: TallySimulator) -> None:
    client = _client(tally_sim.url)
    high = client.company_info()["alt_vch_id"]
    assert list(client.records("vouchers", alter_id_above=high)) == []
    tally_sim.dispatch_one()
    tally_sim.dispatch_one()
    changed = list(client.records("vouchers", alter_id_above=high))
    assert [v["order_refs"] for v in changed] == [["SO/25-26/00003"], ["SO/25-26/00004"]]
