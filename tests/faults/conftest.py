"""Fixtures of the fault suite: a small demo world, a connection-cutting proxy, a private
PostgreSQL that can be restarted, and the mail tests' real dovecot.

Every case follows one pattern: run with a fault injected part-way, check the run failed
with a typed error whose message says what to do (or recovered by itself), clear the fault,
run again, and compare what landed with what a clean run lands: the same keys, each once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.faults.support import CuttingProxy, PrivateServer
from tests.mail.conftest import dovecot, imap_user  # noqa: F401 - the mail tests' dovecot


@pytest.fixture(scope="session")
def fault_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo world (seed 11, scale 0.05: 155 emails, ~50 orders and invoices)."""
    from demo.world import generate_world

    out = tmp_path_factory.mktemp("fault_world")
    generate_world(out, seed=11, scale=0.05)
    return out


@pytest.fixture
def cutting_proxy() -> Iterator[Callable[..., CuttingProxy]]:
    proxies: list[CuttingProxy] = []

    def make(target: tuple[str, int], cut_after: int | None, reset: bool = False):
        proxy = CuttingProxy(target, cut_after, reset)
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.close()


@pytest.fixture(scope="module")
def private_pg() -> Iterator[PrivateServer]:
    server = PrivateServer()
    yield server
    server.close()
