"""Backup and restore (pebble.backup, `pebble backup` / `pebble restore`): a home round-trips
into a fresh one, table by table and file by file; a damaged backup restores nothing; a
warehouse holding data is not overwritten by mistake; retention keeps the newest.

The home is real: mail with an attachment landed by the loader (the content store), people's
events, a model folder, and Dagster's own database holding the run of a real
materialisation."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from psycopg import sql
from typer.testing import CliRunner

from ingest.mail.sync import sync as land_mail
from pebble import backup, db, events
from pebble.cli import app
from pebble.settings import get_settings

PDF = b"%PDF-1.4\n% a certificate of analysis\n" + bytes(range(256)) * 8


def _eml(folder: Path) -> Path:
    message = EmailMessage()
    message["From"] = "Ravi <ravi@kulkarni-coatings.example>"
    message["To"] = "sales@pebbledemo.in"
    message["Subject"] = "COA for batch ZO-118"
    message["Date"] = "Mon, 17 Nov 2025 10:15:00 +0530"
    message["Message-ID"] = "<coa-118@kulkarni-coatings.example>"
    message.set_content("Please find the COA attached.")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="COA ZO-118.pdf")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "coa.eml"
    path.write_bytes(bytes(message))
    return path


def _drop(admin_url: str, *names: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        for name in names:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _qdrant_point(store: Path) -> None:
    """The embedded Qdrant store with one email's embedding in it."""
    from qdrant_client import QdrantClient, models

    client = QdrantClient(path=str(store))
    client.create_collection(
        "emails", vectors_config=models.VectorParams(size=4, distance=models.Distance.COSINE)
    )
    client.upsert(
        "emails", [models.PointStruct(id=7, vector=[0.1, 0.2, 0.3, 0.4], payload={"k": "coa"})]
    )
    client.close()


def _qdrant_payload(store: Path) -> list[dict]:
    from qdrant_client import QdrantClient

    client = QdrantClient(path=str(store))
    try:
        return [p.payload for p in client.retrieve("emails", [7])]
    finally:
        client.close()


def _dbname(url: str) -> str:
    return db.parse_url(url)["dbname"]


@pytest.fixture
def home(
    warehouse: psycopg.Connection,
    pebble_env: str,
    pg_server_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[psycopg.Connection]:
    """A home with data in every part a backup carries; Dagster's database dropped after."""
    land_mail(warehouse, [_eml(tmp_path / "drop")])
    (key,) = warehouse.execute("SELECT email_key FROM raw.emails").fetchone()
    event = events.new_event("CardMoved", key, actor="priya", payload={"to": "in_progress"})
    events.append(warehouse, event, 0)
    model = get_settings().home / "models" / "classifier" / "0123456789abcdef"
    model.mkdir(parents=True)
    (model / "head.npz").write_bytes(b"weights" * 100)
    _qdrant_point(get_settings().home / "qdrant")

    @dg.asset
    def greeting() -> str:
        return "namaste"

    for variable, value in db.runtime_env().items():  # Dagster's home, as `pebble up` sets it
        monkeypatch.setenv(variable, value)
    with dg.DagsterInstance.get() as instance:
        assert dg.materialize([greeting], instance=instance).success
    yield warehouse
    _drop(pg_server_url, f"{_dbname(pebble_env)}_dagster")


@pytest.fixture
def move_to_fresh_home(
    pg_server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator:
    """Switch the settings to a new, empty home when called: a database that does not exist
    yet and an empty PEBBLE_HOME (what a replacement machine starts from). Returns its
    database URL and home; both databases it may get are dropped afterwards."""
    made: list[str] = []

    def move() -> tuple[str, Path]:
        name = f"pebble_test_restore_{uuid.uuid4().hex[:10]}"
        made.append(name)
        params = db.parse_url(pg_server_url)
        params["dbname"] = name
        url = db._to_url(params)
        new_home = tmp_path / f"home_{name}"
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("PEBBLE_HOME", str(new_home))
        monkeypatch.delenv(db.RESOLVED_URL_ENV, raising=False)
        get_settings.cache_clear()
        return url, new_home

    yield move
    get_settings.cache_clear()
    for name in made:
        _drop(pg_server_url, name, f"{name}_dagster")


def _state(url: str) -> dict[str, str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return backup.table_checksums(conn)


def _files(root: Path) -> dict[str, bytes]:
    """The home's files a backup copies byte for byte (the Qdrant store's SQLite files are
    copied by SQLite's backup, which rewrites their headers: compared by content below)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for tree in backup.TREES
        if tree != "qdrant"
        for p in sorted((root / tree).rglob("*"))
        if p.is_file()
    }


def _database_exists(admin_url: str, url: str) -> bool:
    with psycopg.connect(admin_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s", (_dbname(url),)
        ).fetchone()
    return bool(row[0])


def test_a_home_round_trips_into_a_fresh_one(
    home: psycopg.Connection, pebble_env: str, tmp_path: Path, move_to_fresh_home
) -> None:
    source = {"warehouse": _state(pebble_env), "dagster": _state(db.dagster_url())}
    source_files = _files(get_settings().home)
    assert any(k.startswith("attachments/") for k in source_files)  # the PDF's blob
    assert any(k.startswith("models/") for k in source_files)
    assert _qdrant_payload(get_settings().home / "qdrant") == [{"k": "coa"}]
    report = backup.backup(tmp_path / "backups")

    manifest = json.loads((report.path / backup.MANIFEST).read_text())
    assert manifest["databases"]["warehouse"]["tables"]["raw.emails"] == 1
    assert manifest["databases"]["warehouse"]["tables"]["ops.events"] == 1
    assert manifest["databases"]["dagster"]["tables"]["public.runs"] >= 1
    assert {"warehouse.dump", "dagster.dump"} <= set(manifest["files"])
    assert backup.verify(report.path) == []

    target_url, target_home = move_to_fresh_home()
    restored = backup.restore(report.path)
    assert restored.tables["warehouse"] == manifest["databases"]["warehouse"]["tables"]
    assert _state(target_url) == source["warehouse"]  # every table, row for row
    assert _state(db.dagster_url()) == source["dagster"]
    assert _files(target_home) == source_files  # attachments and models, byte for byte
    assert _qdrant_payload(target_home / "qdrant") == [{"k": "coa"}]  # the embeddings too
    assert db.current_revision(target_url) == db.head_revision()
    with psycopg.connect(target_url, autocommit=True) as conn:  # the event API goes on
        (key,) = conn.execute("SELECT email_key FROM raw.emails").fetchone()
        event = events.new_event("CardMoved", key, actor="priya", payload={"to": "done"})
        assert events.append(conn, event, 1).entity_version == 2


def test_a_damaged_backup_restores_nothing(
    home: psycopg.Connection, tmp_path: Path, pg_server_url: str, move_to_fresh_home
) -> None:
    report = backup.backup(tmp_path / "backups")
    blob = next(p for p in (report.path / "files" / "attachments").rglob("*") if p.is_file())
    blob.write_bytes(blob.read_bytes()[:-1] + b"!")
    assert backup.verify(report.path) == [
        f"checksum differs: {blob.relative_to(report.path).as_posix()}"
    ]
    target_url, target_home = move_to_fresh_home()
    with pytest.raises(backup.BackupError, match="is damaged, nothing was restored"):
        backup.restore(report.path)
    assert not _database_exists(pg_server_url, target_url)  # not even created
    assert not target_home.exists()


def test_restore_refuses_a_warehouse_that_holds_data(
    home: psycopg.Connection, tmp_path: Path
) -> None:
    report = backup.backup(tmp_path / "backups")
    with pytest.raises(backup.BackupError, match="already holds data"):
        backup.restore(report.path)  # into the very home it came from
    (n,) = home.execute("SELECT count(*) FROM raw.emails").fetchone()
    assert n == 1


def test_retention_keeps_the_newest_and_clears_partial_folders(
    home: psycopg.Connection, tmp_path: Path
) -> None:
    root = tmp_path / "backups"
    first = backup.backup(root, keep=2).path
    crashed = root / f".{backup.PREFIX}20260101T000000000000Z.partial"
    crashed.mkdir()
    second = backup.backup(root, keep=2).path
    third = backup.backup(root, keep=2)
    assert backup.backups_in(root) == [second, third.path]
    assert first in third.removed and not first.exists() and not crashed.exists()
    with pytest.raises(backup.BackupError, match="at least 1"):
        backup.prune(root, 0)


def test_the_commands(home: psycopg.Connection, tmp_path: Path) -> None:
    """`pebble backup` says where the backup went; `pebble restore` of a folder that is not
    a backup fails with the reason and exit status 1."""
    runner = CliRunner()
    made = runner.invoke(app, ["backup", "--out", str(tmp_path / "b"), "--keep", "3"])
    assert made.exit_code == 0, made.output
    assert "backup: " in made.output and "rows" in made.output
    refused = runner.invoke(app, ["restore", str(tmp_path)])
    assert refused.exit_code == 1
    assert "is not a Pebble backup" in refused.output


def test_the_nightly_job_backs_up_into_the_backup_dir_with_retention(
    home: psycopg.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.defs.pipelines.backup import nightly_backup

    root = tmp_path / "offsite-mount"
    monkeypatch.setenv("PEBBLE_BACKUP_DIR", str(root))
    monkeypatch.setenv("PEBBLE_BACKUP_KEEP", "1")
    get_settings.cache_clear()
    paths = []
    for _ in range(2):
        result = nightly_backup.execute_in_process()
        assert result.success
        paths.append(Path(result.output_for_node("backup_home")))
    assert backup.backups_in(root) == [paths[1]]  # keep 1: the first is gone
    assert backup.verify(paths[1]) == []
