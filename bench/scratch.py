"""Scratch databases beside the warehouse for benchmarks: ``<db>_bench_<name>``, created
empty and dropped afterwards, so a benchmark never touches the warehouse's own rows."""

from __future__ import annotations


def scratch_database(name: str) -> str:
    """A fresh, empty database ``<warehouse db>_bench_<name>`` on the warehouse's server."""
    from psycopg.conninfo import conninfo_to_dict

    from pebble import db

    params = conninfo_to_dict(db.warehouse_url())
    params["dbname"] = f"{params.get('dbname') or 'postgres'}_bench_{name}"
    url = db._to_url(params)  # noqa: SLF001 - the platform's own URL renderer
    drop_database(url)
    db.ensure_database(url)
    return url


def drop_database(url: str) -> None:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
