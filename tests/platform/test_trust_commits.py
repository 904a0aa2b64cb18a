"""Per-batch commits hold inside Dagster: the mail landing, materialised through the code
location's definitions with the real ``WarehouseResource``, loses its database connection
mid-landing; the batches committed before stay, and the re-run lands the rest once."""

from __future__ import annotations

import threading
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from ingest.mail.land import BATCH_MESSAGES
from orchestration.definitions import defs
from orchestration.resources import WarehouseResource
from pebble.settings import get_settings

#: Advisory lock the test holds; the landing waits on it once enough batches are in.
GATE = 0x7472757374  # "trust"
#: The landing is held (then killed) when this many rows are committed: two whole batches.
HELD_AT = 2 * BATCH_MESSAGES
#: Enough files for two batches and part of a third.
MESSAGES = HELD_AT + BATCH_MESSAGES // 2

EMAILS = dg.AssetKey(["raw", "emails"])

#: Installed by the test on its own throwaway database: every INSERT into raw.emails made
#: once HELD_AT rows exist waits until the test releases GATE.
GATE_TRIGGER = f"""
CREATE FUNCTION public.trust_gate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT count(*) FROM raw.emails) >= {HELD_AT} THEN
        PERFORM pg_advisory_lock({GATE});
        PERFORM pg_advisory_unlock({GATE});
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER trust_gate BEFORE INSERT ON raw.emails
    FOR EACH STATEMENT EXECUTE FUNCTION public.trust_gate();
"""


def _write_drop(folder: Path, count: int) -> set[str]:
    """``count`` distinct small .eml files; returns their names."""
    folder.mkdir(parents=True, exist_ok=True)
    names = set()
    for n in range(count):
        name = f"order-{n:05d}.eml"
        (folder / name).write_bytes(
            (
                f"From: Buyer {n} <buyer{n}@example.in>\r\n"
                "To: sales@trader.example.in\r\n"
                f"Subject: Enquiry {n} for caustic soda flakes\r\n"
                f"Message-ID: <trust-{n}@example.in>\r\n"
                "Date: Mon, 02 Nov 2026 10:00:00 +0530\r\n"
                "Content-Type: text/plain; charset=utf-8\r\n"
                "\r\n"
                f"Please quote {n + 1} bags of 50 kg, delivery Vapi.\r\n"
            ).encode()
        )
        names.add(name)
    return names


def _materialize(url: str) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [defs.get_assets_def(EMAILS)],
        resources={"warehouse": WarehouseResource(database_url=url)},
        raise_on_error=False,
    )


def _landed(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT source FROM raw.emails")]


def test_a_landing_killed_mid_run_keeps_its_committed_batches(
    warehouse: psycopg.Connection, pebble_env: str
) -> None:
    names = _write_drop(get_settings().mail_drops, MESSAGES)
    warehouse.execute(GATE_TRIGGER)
    warehouse.execute("SELECT pg_advisory_lock(%s)", (GATE,))

    outcome: dict[str, dg.ExecuteInProcessResult] = {}
    run = threading.Thread(target=lambda: outcome.update(first=_materialize(pebble_env)))
    run.start()
    killed: list[int] = []
    while run.is_alive():
        # the landing's connection, waiting at the gate in the middle of batch 3 (and that
        # of every retry the asset's retry policy makes: each one is killed as well)
        held = warehouse.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
        ).fetchall()
        for (pid,) in held:
            warehouse.execute("SELECT pg_terminate_backend(%s)", (pid,))
            killed.append(pid)
        run.join(timeout=0.05)
    assert killed, "the landing finished without reaching the gate"
    first = outcome["first"]
    assert not first.success

    # the two batches committed before the kill are kept, and nothing of the third
    kept = _landed(pebble_env)
    assert len(kept) == HELD_AT
    assert len(set(kept)) == HELD_AT

    warehouse.execute("SELECT pg_advisory_unlock(%s)", (GATE,))
    warehouse.execute("DROP TRIGGER trust_gate ON raw.emails")
    second = _materialize(pebble_env)
    assert second.success
    [emails] = [m for m in second.get_asset_materialization_events() if m.asset_key == EMAILS]
    metadata = emails.materialization.metadata
    assert metadata["dagster/row_count"].value == MESSAGES

    # every file landed exactly once: nothing lost, nothing twice, nothing rejected
    landed = _landed(pebble_env)
    assert len(landed) == MESSAGES
    assert {Path(source).name for source in landed} == names
    with psycopg.connect(pebble_env) as conn:
        distinct = conn.execute("SELECT count(DISTINCT message_id) FROM raw.emails").fetchone()[0]
        rejects = conn.execute("SELECT count(*) FROM raw.rejects").fetchone()[0]
    assert distinct == MESSAGES
    assert rejects == 0


@pytest.mark.parametrize("failure", ["error", "killed"])
def test_the_resource_commits_each_transaction_block(pebble_env: str, failure: str) -> None:
    """The resource's plain connection is autocommit: a ``conn.transaction()`` block after
    a SELECT is a real commit, not a savepoint of an outer transaction that a later failure
    (or a dropped connection) would roll back."""
    resource = WarehouseResource(database_url=pebble_env)
    with pytest.raises((RuntimeError, psycopg.OperationalError)):
        with resource.connection() as conn:
            conn.execute("SELECT 1")
            conn.execute("CREATE TABLE IF NOT EXISTS raw.trust_batches (n int)")
            for n in range(3):
                with conn.transaction():
                    conn.execute("INSERT INTO raw.trust_batches VALUES (%s)", (n,))
            if failure == "killed":
                with psycopg.connect(pebble_env, autocommit=True) as admin:
                    admin.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
                conn.execute("INSERT INTO raw.trust_batches VALUES (99)")
            raise RuntimeError("batch 4 failed")
    with psycopg.connect(pebble_env) as conn:
        kept = [r[0] for r in conn.execute("SELECT n FROM raw.trust_batches ORDER BY n")]
    assert kept == [0, 1, 2]


def test_the_resource_transaction_is_all_or_nothing(pebble_env: str) -> None:
    resource = WarehouseResource(database_url=pebble_env)
    with resource.connection() as conn:
        conn.execute("CREATE TABLE raw.trust_atomic (n int)")
    with pytest.raises(RuntimeError):
        with resource.transaction() as conn:
            conn.execute("INSERT INTO raw.trust_atomic VALUES (1)")
            with conn.transaction():
                conn.execute("INSERT INTO raw.trust_atomic VALUES (2)")
            raise RuntimeError("the second half failed")
    with resource.connection() as conn:
        assert conn.execute("SELECT count(*) FROM raw.trust_atomic").fetchone()[0] == 0
