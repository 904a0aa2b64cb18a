"""The landing factory, materialised through Dagster with the real warehouse resource."""

from __future__ import annotations

import dagster as dg
import psycopg

from ingest.common.report import LandReport
from orchestration.landing import landing_asset
from orchestration.resources import WarehouseResource

TABLES = {
    "landing_test_items": "Items of the test source.",
    "landing_test_lines": "Lines of the test source's items.",
}


class ItemsConfig(dg.Config):
    items: list[str] = []
    #: fail after landing this many batches (each batch commits on its own)
    fail_after: int = -1


class SourceDown(Exception):
    code = "TEST_CONNECTION_FAILED"

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url


class ConnectionDropped(SourceDown):
    """A typed error that says a retry is safe (as ImapConnectionLost does)."""

    code = "TEST_CONNECTION_LOST"
    retryable = True


CALLS: list[str] = []


def _sync(conn: psycopg.Connection, config: ItemsConfig, *, run_id: str) -> LandReport:
    """A connector in miniature: one item per batch, each batch and its line in its own
    transaction; rejects an empty item; ``down`` as the first item raises a typed error."""
    CALLS.append(run_id)
    if config.items[:1] == ["down"]:
        raise SourceDown("could not connect", url="http://127.0.0.1:9")
    if config.items[:1] == ["dropped"] and len(CALLS) == 1:
        raise ConnectionDropped("connection reset mid-pull", url="http://127.0.0.1:9")
    conn.execute("CREATE TABLE IF NOT EXISTS raw.landing_test_items (name text PRIMARY KEY)")
    conn.execute("CREATE TABLE IF NOT EXISTS raw.landing_test_lines (name text, n int)")
    items = LandReport("test", tables=("landing_test_items", "landing_test_lines"))
    for batch, name in enumerate(config.items):
        if batch == config.fail_after:
            raise RuntimeError("the warehouse went away")
        items.seen += 1
        if not name:
            items.rejected += 1
            items.rejects.append({"locator": f"item {batch}", "reason": "empty name"})
            continue
        with conn.transaction():
            added = conn.execute(
                "INSERT INTO raw.landing_test_items VALUES (%s) ON CONFLICT DO NOTHING", (name,)
            ).rowcount
            if added:
                conn.execute("INSERT INTO raw.landing_test_lines VALUES (%s, 1)", (name,))
        items.landed += added
        items.duplicates += 1 - added
    return LandReport("test").add(items, "items")


def _asset(**overrides) -> dg.AssetsDefinition:
    args = {
        "source": "test",
        "name": "raw_test",
        "tables": TABLES,
        "sync": _sync,
        "config": ItemsConfig,
        "description": "A test landing.",
        "typed_errors": (SourceDown,),
        "retry_policy": dg.RetryPolicy(max_retries=2, delay=0),
    }
    return landing_asset(**{**args, **overrides})


def _run(url: str, **config) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [_asset()],
        resources={"warehouse": WarehouseResource(database_url=url)},
        run_config=dg.RunConfig(ops={"raw_test": ItemsConfig(**config)}),
        raise_on_error=False,
    )


def _metadata(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    return {
        m.asset_key.path[-1]: {k: getattr(v, "value", v) for k, v in m.metadata.items()}
        for m in result.asset_materializations_for_node("raw_test")
    }


def test_a_landing_reports_each_table_and_is_idempotent(pebble_env: str) -> None:
    first = _run(pebble_env, items=["a", "b", "", "c"])
    assert first.success
    meta = _metadata(first)
    assert set(meta) == set(TABLES)
    items, lines = meta["landing_test_items"], meta["landing_test_lines"]
    assert items["dagster/row_count"] == 3 and lines["dagster/row_count"] == 3
    # the collection's report sits on its table, the totals on the primary (same here)
    assert items["collection"] == "items"
    assert (items["seen"], items["rows_added"], items["rejected"]) == (4, 3, 1)
    assert items["total_rows_added"] == 3
    assert items["rejects"] == ["item 2: empty name"]
    assert "rows_added" not in lines

    again = _metadata(_run(pebble_env, items=["a", "b", "c"]))["landing_test_items"]
    assert (again["rows_added"], again["duplicates"]) == (0, 3)
    assert again["dagster/row_count"] == 3


def test_batches_committed_before_a_failure_are_kept(pebble_env: str) -> None:
    """The resource's connection commits each batch for real (no outer transaction turns
    them into savepoints): a failure at batch 3 keeps batches 1 and 2."""
    result = _run(pebble_env, items=["a", "b", "c", "d"], fail_after=2)
    assert not result.success
    with psycopg.connect(pebble_env) as conn:
        kept = [r[0] for r in conn.execute("SELECT name FROM raw.landing_test_items ORDER BY 1")]
    assert kept == ["a", "b"]
    # and the re-run completes without duplicating them
    rerun = _metadata(_run(pebble_env, items=["a", "b", "c", "d"]))["landing_test_items"]
    assert (rerun["rows_added"], rerun["duplicates"], rerun["dagster/row_count"]) == (2, 2, 4)


def test_a_typed_error_fails_at_once_and_is_not_retried(pebble_env: str) -> None:
    CALLS.clear()
    result = _run(pebble_env, items=["down"])
    assert not result.success
    assert len(CALLS) == 1  # the retry policy allows 2 retries; a typed error takes none
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    data = failure.step_failure_data.user_failure_data
    assert data.description.startswith("TEST_CONNECTION_FAILED: could not connect")
    assert data.metadata["error_code"].value == "TEST_CONNECTION_FAILED"
    assert data.metadata["url"].value == "http://127.0.0.1:9"


def test_a_typed_error_that_says_retryable_is_retried(pebble_env: str) -> None:
    """A dropped connection (ImapConnectionLost) is typed but safe to retry: the retry
    policy runs the landing again, which lands what the first attempt did not."""
    from ingest.mail.client import ImapConnectionLost, ImapError
    from orchestration.landing import typed_failure

    assert typed_failure("mail", ImapConnectionLost("IMAP_CONNECTION_LOST: reset")).allow_retries
    assert not typed_failure("mail", ImapError("IMAP_ERROR: login refused")).allow_retries
    CALLS.clear()
    result = _run(pebble_env, items=["dropped", "a"])
    assert result.success
    assert len(CALLS) == 2  # failed once, retried once
    meta = _metadata(result)["landing_test_items"]
    assert (meta["rows_added"], meta["dagster/row_count"]) == (2, 2)


def test_other_errors_are_retried_by_the_policy(pebble_env: str) -> None:
    CALLS.clear()
    result = _run(pebble_env, items=["a", "b"], fail_after=1)
    assert not result.success
    assert len(CALLS) == 3  # the first attempt and two retries


def test_open_rejects_are_reported_on_the_primary_table(pebble_env: str) -> None:
    assert _metadata(_run(pebble_env, items=["a"]))["landing_test_items"]["rejects_open"] == 0
    with psycopg.connect(pebble_env, autocommit=True) as conn:  # migrated by the resource
        conn.execute(
            "INSERT INTO raw.rejects (source, source_kind, locator, reason, sha256)"
            " VALUES ('test', 'file', 'x.csv', 'unreadable', 'abc'),"
            " ('other', 'file', 'y.csv', 'unreadable', 'abd')"
        )
    meta = _metadata(_run(pebble_env, items=["a"]))
    assert meta["landing_test_items"]["rejects_open"] == 1  # this source's only
    assert "rejects_open" not in meta["landing_test_lines"]
