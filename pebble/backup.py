"""Backup and restore of a Pebble home: everything a trader loses with the office machine's disk.

A backup is one folder, ``pebble-backup-<UTC time>``, holding:

- ``warehouse.dump`` and ``dagster.dump``: ``pg_dump`` custom format of the warehouse and of
  Dagster's database (run history, schedules' state);
- ``files/attachments``, ``files/quarantine``, ``files/models``, ``files/qdrant``: the
  content store of mail attachments, the payloads of rejects too large for the database,
  the trained models, the embedded Qdrant store of the email embeddings (its SQLite files
  copied through SQLite's online backup, so a search running meanwhile cannot tear them);
- ``manifest.json``: the SHA-256 and size of every file above, and the row count of every
  table of both databases as the dumps hold them.

**Consistent.** Each database is dumped from one snapshot (``pg_export_snapshot`` in a
repeatable-read transaction, handed to ``pg_dump --snapshot``), and the row counts in the
manifest are read in that same snapshot, so they describe exactly what the dump holds. The
files are copied after the dumps: the content store only ever gains files (named by their
hash), so every attachment a dumped row names is already on disk when it is copied. The
folder is written under a hidden ``.partial`` name and renamed when complete: a backup cut
short by a crash, a full disk or a kill never looks like a backup.

**Restore** (:func:`restore`) checks every checksum first, then loads both dumps into the
databases the current settings name (``DATABASE_URL``, or the embedded server of
``PEBBLE_HOME``) and copies the files into ``PEBBLE_HOME``; it refuses a warehouse that
already holds data. Afterwards the row counts are compared with the manifest, table by
table.

Secrets are not backed up: database passwords travel to ``pg_dump`` in its environment,
never on its command line, and the app role's password file is made anew by ``pebble up``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from pebble import db
from pebble.settings import get_settings

FORMAT = 1
MANIFEST = "manifest.json"
PREFIX = "pebble-backup-"
#: The databases of a home, by the name of their dump.
DATABASES = ("warehouse", "dagster")
#: The folders of PEBBLE_HOME a backup carries, by their name in ``files/``.
TREES = ("attachments", "quarantine", "models", "qdrant")
#: Files never copied: another process's lock on the embedded Qdrant store.
_SKIP = (".lock",)
_NAME = re.compile(rf"^{PREFIX}\d{{8}}T\d{{6}}(\d{{6}})?Z$")
#: Schemas that belong to PostgreSQL itself, never counted.
_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message says what to do next."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    seconds: float
    bytes: int
    files: int
    tables: dict[str, dict[str, int]]
    removed: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class RestoreReport:
    path: Path
    seconds: float
    tables: dict[str, dict[str, int]]
    files: int


# -- where things are ------------------------------------------------------------------------


def _tree_roots(home: Path) -> dict[str, Path]:
    return {name: home / name for name in TREES}


def _database_urls() -> dict[str, str]:
    return {"warehouse": db.warehouse_url(), "dagster": db.dagster_url()}


def _server_major(conn: psycopg.Connection) -> int:
    return conn.info.server_version // 10000


def _tool_dirs() -> list[Path]:
    """Folders that may hold pg_dump/pg_restore: the embedded server's own (PostgreSQL 16,
    always installed with Pebble), Debian's per-version folders, then PATH."""
    dirs: list[Path] = []
    try:
        from pgserver._commands import POSTGRES_BIN_PATH

        dirs.append(Path(POSTGRES_BIN_PATH))
    except Exception:  # no embedded server in this installation
        pass
    dirs.extend(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True))
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if entry:
            dirs.append(Path(entry))
    return dirs


def _tool_major(path: Path) -> int | None:
    try:
        out = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"\)\s+(\d+)", out)
    return int(found.group(1)) if found else None


def pg_tool(name: str, server_major: int) -> Path:
    """``pg_dump`` or ``pg_restore`` for a server of ``server_major``: the same major version
    if one is installed, else the newest newer one (pg_dump refuses older servers' tools)."""
    found: dict[int, Path] = {}
    for folder in _tool_dirs():
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            major = _tool_major(candidate)
            if major is not None and major >= server_major:
                found.setdefault(major, candidate)
    if not found:
        raise BackupError(
            f"no {name} for PostgreSQL {server_major} or newer: install the PostgreSQL client "
            f"(apt-get install postgresql-client-{server_major}) or reinstall Pebble (its "
            "embedded server ships one)"
        )
    return found[server_major] if server_major in found else found[max(found)]


def _libpq_env(url: str) -> dict[str, str]:
    """The connection as libpq environment variables: the password never reaches a command
    line (where ``ps`` would show it) or a log."""
    params = db.parse_url(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for key, variable in (
        ("host", "PGHOST"),
        ("port", "PGPORT"),
        ("user", "PGUSER"),
        ("password", "PGPASSWORD"),
        ("dbname", "PGDATABASE"),
        ("sslmode", "PGSSLMODE"),
    ):
        value = params.get(key)
        if value not in (None, ""):
            env[variable] = str(value)
    return env


def _run(args: list[str], url: str, what: str) -> None:
    result = subprocess.run(args, env=_libpq_env(url), capture_output=True, text=True)
    if result.returncode != 0:
        detail = db.redact_text((result.stderr or result.stdout).strip()[-2000:], url)
        raise BackupError(f"{what} failed (exit {result.returncode}): {detail}")


# -- reading a database ------------------------------------------------------------------------


def _tables(conn: psycopg.Connection) -> list[tuple[str, str]]:
    return conn.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind IN ('r', 'p') AND n.nspname <> ALL(%s) AND n.nspname NOT LIKE 'pg_temp%%'"
        " ORDER BY 1, 2",
        (list(_SYSTEM_SCHEMAS),),
    ).fetchall()


def row_counts(conn: psycopg.Connection) -> dict[str, int]:
    """``schema.table`` -> rows, for every ordinary table."""
    counts = {}
    for schema, table in _tables(conn):
        (n,) = conn.execute(
            sql.SQL("SELECT count(*) FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
        ).fetchone()
        counts[f"{schema}.{table}"] = int(n)
    return counts


def table_checksums(conn: psycopg.Connection) -> dict[str, str]:
    """``schema.table`` -> MD5 over its rows' text, in a fixed order: equal tables, equal sums."""
    sums = {}
    for schema, table in _tables(conn):
        (digest,) = conn.execute(
            sql.SQL(
                "SELECT md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), ''))"
                " FROM {}.{} AS r"
            ).format(sql.Identifier(schema), sql.Identifier(table))
        ).fetchone()
        sums[f"{schema}.{table}"] = digest
    return sums


def _dump(url: str, target: Path) -> dict[str, int]:
    """``pg_dump -Fc`` of the database at ``url`` into ``target`` from one exported snapshot;
    returns the row counts of that snapshot."""
    with db.connect_url(url) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        (snapshot,) = conn.execute("SELECT pg_export_snapshot()").fetchone()
        counts = row_counts(conn)
        tool = pg_tool("pg_dump", _server_major(conn))
        # the snapshot lives as long as this transaction: pg_dump runs inside it
        _run(
            [str(tool), "--format=custom", "--no-password", f"--snapshot={snapshot}",
             f"--file={target}"],
            url,
            f"pg_dump of {db.redact(url)}",
        )  # fmt: skip
        conn.rollback()
    return counts


# -- files -------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _walk(root: Path) -> Iterator[Path]:
    """Regular files under ``root`` (symlinks are not followed: a link out of the home is
    not the home's data)."""
    if not root.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_file() and not path.is_symlink():
                yield path


def _copy_sqlite(source: Path, dest: Path) -> None:
    """A consistent copy of a SQLite database that another process may be writing."""
    import sqlite3

    with (
        sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True) as src,
        sqlite3.connect(dest) as out,
    ):
        src.backup(out)
    src.close()
    out.close()


def _copy_tree(source: Path, target: Path, *, online: bool = False) -> int:
    """Copy the files under ``source``; ``online``: SQLite files through SQLite's backup."""
    count = 0
    for path in _walk(source):
        if path.name in _SKIP:
            continue
        dest = target / path.relative_to(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if online and path.suffix == ".sqlite":
            _copy_sqlite(path, dest)
        else:
            shutil.copy2(path, dest)
        count += 1
    return count


def _file_entries(folder: Path) -> dict[str, dict[str, Any]]:
    return {
        path.relative_to(folder).as_posix(): {"sha256": _sha256(path), "bytes": path.stat().st_size}
        for path in _walk(folder)
        if path.name != MANIFEST
    }


# -- backup ------------------------------------------------------------------------------------


def backups_in(root: Path) -> list[Path]:
    """Complete backups in ``root`` (a manifest, our name), oldest first."""
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if _NAME.match(p.name) and (p / MANIFEST).is_file()]
    return sorted(found, key=lambda p: p.name)


def prune(root: Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest complete backups in ``root``, and any partial
    folder a crashed backup left; returns what was removed."""
    if keep < 1:
        raise BackupError("keep must be at least 1: a retention of none would delete every backup")
    removed = []
    for path in backups_in(root)[:-keep]:
        shutil.rmtree(path)
        removed.append(path)
    for partial in root.glob(f".{PREFIX}*.partial"):
        shutil.rmtree(partial, ignore_errors=True)
        removed.append(partial)
    return removed


def backup(
    root: Path | None = None,
    keep: int | None = None,
    *,
    say: Callable[[str], None] = lambda _msg: None,
) -> BackupReport:
    """Write a consistent backup of this home into ``root`` (default: ``PEBBLE_BACKUP_DIR``,
    else ``$PEBBLE_HOME/backups``) and keep the ``keep`` newest (``PEBBLE_BACKUP_KEEP``)."""
    settings = get_settings()
    root = (root or settings.backups).expanduser().resolve()
    keep = settings.backup_keep if keep is None else keep
    home = settings.home
    started = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    name = f"{PREFIX}{stamp}"
    partial = root / f".{name}.partial"
    partial.mkdir()
    try:
        tables: dict[str, dict[str, int]] = {}
        databases: dict[str, Any] = {}
        for what, url in _database_urls().items():
            say(f"dumping the {what} database ({db.redact(url)}) ...")
            target = partial / f"{what}.dump"
            tables[what] = _dump(url, target)
            databases[what] = {"file": target.name, "tables": tables[what]}
        n_files = 0
        for what, source in _tree_roots(home).items():
            if source == root or source in root.parents:
                continue
            say(f"copying {source} ...")
            n_files += _copy_tree(source, partial / "files" / what, online=True)
        files = _file_entries(partial)
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(),
            "home": str(home),
            "databases": databases,
            "trees": list(TREES),
            "files": files,
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), "utf-8")
        final = root / name
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    removed = prune(root, keep)
    total = sum(entry["bytes"] for entry in files.values())
    return BackupReport(final, time.perf_counter() - started, total, n_files, tables, removed)


# -- restore -----------------------------------------------------------------------------------


def read_manifest(path: Path) -> dict[str, Any]:
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{path} is not a Pebble backup: it has no {MANIFEST}")
    manifest = json.loads(manifest_path.read_text("utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: backup format {manifest.get('format')!r} is not {FORMAT}")
    return manifest


def verify(path: Path) -> list[str]:
    """Every way the backup at ``path`` differs from its manifest (empty: intact)."""
    manifest = read_manifest(path)
    problems = []
    listed = manifest["files"]
    present = {p.relative_to(path).as_posix() for p in _walk(path) if p.name != MANIFEST}
    for missing in sorted(set(listed) - present):
        problems.append(f"missing: {missing}")
    for extra in sorted(present - set(listed)):
        problems.append(f"not in the manifest: {extra}")
    for rel in sorted(set(listed) & present):
        file = path / rel
        if file.stat().st_size != listed[rel]["bytes"] or _sha256(file) != listed[rel]["sha256"]:
            problems.append(f"checksum differs: {rel}")
    return problems


def _holds_data(conn: psycopg.Connection) -> bool:
    return any(n for n in row_counts(conn).values())


def _empty_database(url: str, force: bool) -> None:
    """Make ``url`` name an existing database with no tables of ours (a fresh home's)."""
    db.ensure_database(url)
    with db.connect_url(url, autocommit=True) as conn:
        if not _tables(conn):
            return
        if not force and _holds_data(conn):
            raise BackupError(
                f"{db.redact(url)} already holds data: restore into a fresh home (a new "
                "PEBBLE_HOME, or DATABASE_URL naming a new database), or pass --force to "
                "replace it"
            )
    params = db.parse_url(url)
    admin = psycopg.conninfo.make_conninfo(url, dbname="postgres")
    with db.connect_url(admin, autocommit=True) as conn:
        name = sql.Identifier(params["dbname"])
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def restore(
    path: Path,
    *,
    force: bool = False,
    say: Callable[[str], None] = lambda _msg: None,
) -> RestoreReport:
    """Rebuild the current home (databases and files) from the backup at ``path``."""
    started = time.perf_counter()
    path = path.expanduser().resolve()
    manifest = read_manifest(path)
    say(f"checking {len(manifest['files'])} files against the manifest ...")
    problems = verify(path)
    if problems:
        shown = "; ".join(problems[:5]) + (
            f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
        )
        raise BackupError(f"{path} is damaged, nothing was restored: {shown}")
    home = get_settings().home
    urls = _database_urls()
    for what in DATABASES:
        _empty_database(urls[what], force)
    tables: dict[str, dict[str, int]] = {}
    for what in DATABASES:
        entry = manifest["databases"][what]
        url = urls[what]
        say(f"restoring the {what} database into {db.redact(url)} ...")
        with db.connect_url(url) as conn:
            tool = pg_tool("pg_restore", _server_major(conn))
        _run(
            [str(tool), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
             "--no-password", f"--dbname={db.parse_url(url)['dbname']}", str(path / entry["file"])],
            url,
            f"pg_restore into {db.redact(url)}",
        )  # fmt: skip
        with db.connect_url(url, autocommit=True) as conn:
            tables[what] = row_counts(conn)
        if tables[what] != entry["tables"]:
            differ = sorted(
                t for t in set(tables[what]) | set(entry["tables"])
                if tables[what].get(t) != entry["tables"].get(t)
            )  # fmt: skip
            raise BackupError(
                f"the restored {what} database differs from the backup in {', '.join(differ[:5])}"
            )
    n_files = 0
    for what in TREES:
        source = path / "files" / what
        if source.is_dir():
            target = home / what
            say(f"copying files into {target} ...")
            n_files += _copy_tree(source, target)
    return RestoreReport(path, time.perf_counter() - started, tables, n_files)
