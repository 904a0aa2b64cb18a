"""Versioned migrations: a warehouse built before them upgrades and keeps every row; an empty
one gets every table; upgrading again changes nothing; concurrent upgrades both succeed."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from typer.testing import CliRunner

from pebble import db

V0_BASELINE = Path(__file__).resolve().parent.parent / "data" / "schema" / "v0_baseline.sql"

#: Every table (and view) Python owns at head.
HEAD_TABLES = {
    "ml.email_entities",
    "ml.email_predictions",
    "raw.email_attachments",
    "raw.emails",
    "raw.focus_invoice_lines",
    "raw.focus_invoices",
    "raw.focus_qc_inspections",
    "raw.focus_qc_results",
    "raw.focus_sales_order_lines",
    "raw.focus_sales_orders",
    "raw.ingest_cursors",
    "raw.mailbox_routes",
    "raw.prelead_batches",
    "raw.prelead_rows",
    "raw.rejects",
    "raw.tally_ledgers",
    "raw.tally_stock_groups",
    "raw.tally_stock_items",
    "raw.tally_voucher_lines",
    "raw.tally_vouchers",
    "raw.tender_documents",
    "ops.alembic_version",
    "ops.drop_files",
    "ops.events",
    # views over ops.events (information_schema.tables lists views too)
    "ops.card_state",
    "ops.company_merges",
    "ops.mailbox_routes",
    "ops.prelead_decisions",
    "ops.qc_alert_acks",
    "ops.route_rules",
    "ops.pipelines",
    "ops.deal_state",
    "ops.tasks",
    "ops.tender_decisions",
    "auth.users",
}
#: raw.rejects exactly as the team agreed: (column, type, nullable).
REJECTS_COLUMNS = [
    ("reject_id", "bigint", "NO"),
    ("source", "text", "NO"),
    ("source_kind", "text", "NO"),
    ("locator", "text", "NO"),
    ("reason", "text", "NO"),
    ("sha256", "text", "NO"),
    ("payload", "bytea", "YES"),
    ("payload_in_store", "boolean", "NO"),
    ("size_bytes", "bigint", "YES"),
    ("run_id", "text", "YES"),
    ("rejected_at", "timestamp with time zone", "NO"),
    ("resolved_at", "timestamp with time zone", "YES"),
]


def _tables(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_schema IN ('raw', 'staging', 'marts', 'ml', 'ops', 'auth')"
    )
    return {row[0] for row in rows}


def _schemas(conn: psycopg.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT nspname FROM pg_namespace")}


def _columns(conn: psycopg.Connection) -> dict[str, list[str]]:
    """The columns of every table in our schemas, in order."""
    result: dict[str, list[str]] = {}
    for schema, table, column in conn.execute(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        "WHERE table_schema IN ('raw', 'ml', 'ops', 'auth') ORDER BY 1, 2, ordinal_position"
    ).fetchall():
        result.setdefault(f"{schema}.{table}", []).append(column)
    return result


def _fingerprints(
    conn: psycopg.Connection, columns: dict[str, list[str]] | None = None
) -> dict[str, tuple[int, str]]:
    """Row count and a digest of every row's text, per table: over the given columns of each
    table (a later revision may add columns), else over all of them."""
    result = {}
    present = _columns(conn)
    for name in sorted(_tables(conn)):
        schema, table = name.split(".")
        ident = sql.Identifier(schema, table)
        wanted = (columns or present).get(name) or present[name]
        row = sql.SQL("ROW({})").format(sql.SQL(", ").join(map(sql.Identifier, wanted)))
        count, digest = conn.execute(
            sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), ''))"
                " FROM (SELECT {} AS r FROM {}) AS t"
            ).format(row, ident)
        ).fetchone()
        result[name] = (count, digest)
    return result


def _catalog(conn: psycopg.Connection) -> list[tuple]:
    """Columns (with types, defaults, nullability), constraints and indexes of our schemas."""
    columns = conn.execute(
        "SELECT table_schema, table_name, column_name, ordinal_position, data_type, "
        "is_nullable, column_default, is_identity FROM information_schema.columns "
        "WHERE table_schema IN ('raw', 'ml', 'ops', 'auth') ORDER BY 1, 2, 4"
    ).fetchall()
    constraints = conn.execute(
        "SELECT n.nspname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
        "JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname IN ('raw', 'ml', 'ops', 'auth') "
        "ORDER BY 1, 2"
    ).fetchall()
    indexes = conn.execute(
        "SELECT schemaname, indexname, indexdef FROM pg_indexes "
        "WHERE schemaname IN ('raw', 'ml', 'ops', 'auth') ORDER BY 1, 2"
    ).fetchall()
    return [*columns, *constraints, *indexes]


def _load_v0(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(V0_BASELINE.read_text(encoding="utf-8"))


def test_a_warehouse_built_before_migrations_upgrades_and_keeps_every_row(
    fresh_database_url: str,
) -> None:
    url = fresh_database_url
    _load_v0(url)
    with psycopg.connect(url, autocommit=True) as conn:
        old_columns = _columns(conn)
        before = _fingerprints(conn)
        quarantine = conn.execute(
            "SELECT source_kind, source, reason, sha256, raw, size_bytes, raw_in_store, "
            "quarantined_at FROM raw.quarantine ORDER BY quarantine_id"
        ).fetchall()
        focus_rejects = conn.execute(
            "SELECT kind, doc_no, error, document, rejected_at FROM raw.focus_rejects"
        ).fetchall()
    assert db.current_revision(url) is None
    assert len(quarantine) == 3 and len(focus_rejects) == 2
    assert all(count > 0 for count, _ in before.values()), before

    assert db.upgrade(url) == db.head_revision()

    with psycopg.connect(url, autocommit=True) as conn:
        after = _fingerprints(conn, old_columns)
        assert set(after) == HEAD_TABLES
        # every table that stays keeps exactly its rows (same text of every row)
        for table, fingerprint in before.items():
            if table not in {"raw.quarantine", "raw.focus_rejects"}:
                assert after[table] == fingerprint, table
        assert after["raw.rejects"][0] == len(quarantine) + len(focus_rejects)

        moved_mail = conn.execute(
            "SELECT source_kind, locator, reason, sha256, payload, size_bytes, payload_in_store, "
            "rejected_at FROM raw.rejects WHERE source = 'mail' ORDER BY reject_id"
        ).fetchall()
        assert moved_mail == quarantine  # the raw bytes too, undecodable ones included
        assert moved_mail[0][4] == b"\x00\xff\xfe\x80ab"
        assert moved_mail[1][4] is None and moved_mail[1][6] is True  # kept in the store

        for kind, doc_no, error, document, rejected_at in focus_rejects:
            source_kind, reason, sha256, payload, size, in_store, at = conn.execute(
                "SELECT source_kind, reason, sha256, payload, size_bytes, payload_in_store, "
                "rejected_at FROM raw.rejects WHERE source = 'focus' AND locator = %s",
                (doc_no,),
            ).fetchone()
            assert (source_kind, reason, at, in_store) == (kind, error, rejected_at, False)
            assert json.loads(payload.decode("utf-8")) == document
            assert sha256 == hashlib.sha256(payload).hexdigest()
            assert size == len(payload)
        assert conn.execute("SELECT to_regclass('raw.quarantine')").fetchone()[0] is None
        assert conn.execute("SELECT to_regclass('raw.focus_rejects')").fetchone()[0] is None

        # a trader's own routes survive: not re-seeded over
        routes = dict(conn.execute("SELECT mailbox, default_stream FROM raw.mailbox_routes"))
        assert routes["qc"] == "crm" and routes["exports"] == "crm"
        assert {"ops", "raw", "staging", "marts", "ml"} <= _schemas(conn)
        # identities and sequences continue after the adopted rows
        new_seq = conn.execute(
            "INSERT INTO raw.emails (email_key, source_kind, source, thread_key, subject_key, "
            "size_bytes) VALUES ('k-new', 'eml', 'x.eml', 't', 's', 1) RETURNING load_seq"
        ).fetchone()[0]
        assert new_seq > max(
            r[0] for r in conn.execute("SELECT load_seq FROM raw.emails WHERE email_key <> 'k-new'")
        )
        adopted_catalog = _catalog(conn)

    # the adopted warehouse has the same schema as one built by the migrations alone
    twin_name = sql.Identifier(f"{db.libpq_parts(url)['dbname']}_twin")
    twin = psycopg.conninfo.make_conninfo(url, dbname=f"{db.libpq_parts(url)['dbname']}_twin")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(twin_name))
    try:
        db.upgrade(twin)
        with psycopg.connect(twin) as conn:
            assert _catalog(conn) == adopted_catalog
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(twin_name))


def test_an_older_warehouse_gets_the_columns_added_later(fresh_database_url: str) -> None:
    """Releases before the baseline lacked columns they later added with ALTER TABLE."""
    url = fresh_database_url
    _load_v0(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE raw.emails DROP COLUMN is_bulk")
        conn.execute("ALTER TABLE ml.email_entities DROP COLUMN linked_to")
        for column in ("company_key", "company_name", "company_evidence"):
            conn.execute(
                sql.SQL("ALTER TABLE ml.email_predictions DROP COLUMN {}").format(
                    sql.Identifier(column)
                )
            )
        emails = conn.execute("SELECT email_key, body_text FROM raw.emails ORDER BY 1").fetchall()
    db.upgrade(url)
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute(
            "SELECT email_key, body_text, is_bulk FROM raw.emails ORDER BY 1"
        ).fetchall() == [(*row, False) for row in emails]
        assert conn.execute(
            "SELECT count(*), count(company_key) FROM ml.email_predictions"
        ).fetchone() == (2, 0)
        assert conn.execute(
            "SELECT count(*), count(linked_to) FROM ml.email_entities"
        ).fetchone() == (2, 0)


def test_a_reject_that_cannot_move_stops_the_upgrade_and_changes_nothing(
    fresh_database_url: str,
) -> None:
    """Two Focus rejects of different kinds with the same doc_no and document would be one
    row in raw.rejects: the upgrade refuses, and the whole migration rolls back."""
    url = fresh_database_url
    _load_v0(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO raw.focus_rejects (kind, doc_no, error, document) "
            "SELECT 'qc_inspections', doc_no, 'other error', document FROM raw.focus_rejects "
            "WHERE doc_no = 'SO/25-26/01901'"
        )
        before = _fingerprints(conn)
    with pytest.raises(RuntimeError, match="raw.focus_rejects has 3 rows but only 2"):
        db.upgrade(url)
    assert db.current_revision(url) is None
    with psycopg.connect(url, autocommit=True) as conn:
        assert _fingerprints(conn) == before


def test_upgrade_on_an_empty_database_creates_every_table(fresh_database_url: str) -> None:
    url = fresh_database_url
    with psycopg.connect(url, autocommit=True) as conn:
        assert _tables(conn) == set()
    head = db.upgrade(url)
    assert head == db.head_revision() == db.current_revision(url)
    with psycopg.connect(url, autocommit=True) as conn:
        assert _tables(conn) == HEAD_TABLES
        assert {"ops", "raw", "staging", "marts", "ml"} <= _schemas(conn)
        columns = conn.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'raw' AND table_name = 'rejects' ORDER BY ordinal_position"
        ).fetchall()
        assert columns == REJECTS_COLUMNS
        unique = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'raw.rejects'::regclass AND contype = 'u'"
        ).fetchall()
        assert unique == [("UNIQUE (source, locator, sha256)",)]
        assert dict(conn.execute("SELECT mailbox, default_stream FROM raw.mailbox_routes")) == {
            "sales": "crm",
            "accounts": "erp",
            "qc": "erp",
            "tenders": "tender",
        }
        assert conn.execute("SELECT count(*) FROM ops.alembic_version").fetchone()[0] == 1


def test_upgrading_again_changes_nothing(fresh_database_url: str) -> None:
    from alembic import command

    url = fresh_database_url
    db.upgrade(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM raw.mailbox_routes WHERE mailbox = 'tenders'")
        before = (_catalog(conn), _fingerprints(conn))
    assert db.upgrade(url, cached=False) == db.head_revision()
    command.upgrade(db.alembic_config(url), "head")  # through Alembic itself, too
    with psycopg.connect(url, autocommit=True) as conn:
        assert (_catalog(conn), _fingerprints(conn)) == before


def test_a_warehouse_from_a_newer_release_is_refused_with_its_revision(
    fresh_database_url: str,
) -> None:
    url = fresh_database_url
    db.upgrade(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE ops.alembic_version SET version_num = '9999'")
    with pytest.raises(RuntimeError, match="revision 9999, which this release does not know"):
        db.upgrade(url, cached=False)
    assert db.current_revision(url) == "9999"


def test_an_upgraded_database_is_not_asked_again_in_the_same_process(
    fresh_database_url: str, pg_server_url: str
) -> None:
    url = fresh_database_url
    head = db.upgrade(url)
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE {} WITH (FORCE)").format(
                sql.Identifier(db.libpq_parts(url)["dbname"])
            )
        )
    assert db.upgrade(url) == head  # remembered: no connection made
    with pytest.raises(psycopg.OperationalError):
        db.upgrade(url, cached=False)


def test_two_processes_upgrading_at_once_both_succeed(fresh_database_url: str) -> None:
    """Both start while the migration lock is held, so both wait for it and then race."""
    url = fresh_database_url
    script = "import sys; from pebble import db; print(db.upgrade(sys.argv[1]))"
    with psycopg.connect(url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (db.MIGRATION_LOCK_KEY,))
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", script, url],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        waiting = 0
        deadline = time.monotonic() + 120
        while waiting < 2 and time.monotonic() < deadline:
            if any(p.poll() is not None for p in procs):
                break
            time.sleep(0.1)
            waiting = holder.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ).fetchone()[0]
        holder.execute("SELECT pg_advisory_unlock(%s)", (db.MIGRATION_LOCK_KEY,))
    outputs = [p.communicate(timeout=180) for p in procs]
    assert waiting == 2, outputs
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert out.strip() == db.head_revision()
    with psycopg.connect(url, autocommit=True) as conn:
        assert _tables(conn) == HEAD_TABLES
        assert conn.execute("SELECT version_num FROM ops.alembic_version").fetchall() == [
            (db.head_revision(),)
        ]


def test_pebble_db_upgrade_and_current(pebble_env: str) -> None:
    from pebble.cli import app

    runner = CliRunner()
    head = db.head_revision()
    current = runner.invoke(app, ["db", "current"])
    assert current.exit_code == 0, current.output
    assert current.stdout.splitlines()[0] == "none"

    first = runner.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert "before: none" in first.stdout.splitlines()
    assert f"after: {head} (head)" in first.stdout.splitlines()
    assert db.current_revision(pebble_env) == head

    second = runner.invoke(app, ["db", "upgrade"])
    assert second.exit_code == 0, second.output
    assert f"before: {head} (head)" in second.stdout.splitlines()
    assert runner.invoke(app, ["db", "current"]).stdout.strip() == f"{head} (head)"

    with psycopg.connect(pebble_env, autocommit=True) as conn:
        conn.execute("UPDATE ops.alembic_version SET version_num = '9999'")
    newer = runner.invoke(app, ["db", "upgrade"])
    assert newer.exit_code == 1
    assert "revision 9999, which this release does not know" in newer.output


def test_the_warehouse_resource_migrates_before_handing_out_a_connection(
    fresh_database_url: str,
) -> None:
    from orchestration.resources import WarehouseResource

    resource = WarehouseResource(database_url=fresh_database_url)
    with resource.connection() as conn:
        assert conn.execute("SELECT count(*) FROM raw.rejects").fetchone()[0] == 0
    assert db.current_revision(fresh_database_url) == db.head_revision()
