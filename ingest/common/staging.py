"""Land rows with PostgreSQL COPY: straight into a table, or staged and merged.

:func:`copy_merge` is the one "COPY into a temporary table, then ``INSERT ... SELECT ...
ON CONFLICT``" of every connector. The rows are COPYed into a temporary table shaped like
the target's columns, then merged in input order: new keys are inserted, existing ones
left alone (``ON CONFLICT DO NOTHING``) or replaced where ``update_when`` holds. It runs
in a transaction (a savepoint inside the caller's), so a failure leaves the target as it
was, and it reports how many rows were inserted and how many updated.

:func:`copy_rows` COPYs rows (tuples, or text already in COPY format) straight into a
table, for rows known to be new (a fresh batch, lines of replaced documents).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

#: Column of the staging table that keeps the input order.
_ORD = "_pebble_ord"


@dataclass
class Merged:
    """What one merge did; ``returned`` holds the ``returning`` columns of every row
    inserted or updated, in input order."""

    inserted: int = 0
    updated: int = 0
    returned: list[tuple[Any, ...]] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.inserted + self.updated


def table_identifier(table: str) -> sql.Identifier:
    """``raw.emails`` -> the quoted identifier ``"raw"."emails"``."""
    return sql.Identifier(*table.split("."))


def _as_sql(value: sql.Composable | str) -> sql.Composable:
    return sql.SQL(value) if isinstance(value, str) else value


def copy_rows(
    conn: psycopg.Connection,
    table: str | sql.Identifier,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any] | str],
) -> int:
    """COPY ``rows`` into ``table`` (its ``columns``, in order); returns the rows written.

    A row is a sequence of Python values, or a ``str`` holding one or more lines already
    in COPY text format (rows pre-rendered by the caller; counted by their newlines).
    """
    target = table_identifier(table) if isinstance(table, str) else table
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        target, sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    count = 0
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            if isinstance(row, str):
                copy.write(row)
                count += row.count("\n")
            else:
                copy.write_row(row)
                count += 1
    return count


def copy_merge(
    conn: psycopg.Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    key: Sequence[str] | None = None,
    update: Sequence[str] = (),
    update_when: sql.Composable | str | None = None,
    also_set: sql.Composable | str | None = None,
    exprs: Mapping[str, sql.Composable | str] | None = None,
    where: sql.Composable | str | None = None,
    returning: Sequence[str] = (),
) -> Merged:
    """Stage ``rows`` with COPY and merge them into ``table`` (``schema.name``).

    - ``columns``: the target columns the rows hold, in order.
    - ``key``: the conflict target (a unique key of ``table``); None inserts without an
      ``ON CONFLICT`` clause (rows known to be new).
    - ``update``: columns replaced when the key exists (``DO NOTHING`` when empty), only
      where ``update_when`` holds (SQL over the existing row ``t`` and ``EXCLUDED``);
      ``also_set`` is extra ``SET`` text such as ``loaded_at = now()``.
    - ``exprs``: column -> SQL expression used instead of the staged value (staged row
      alias ``s``), e.g. a value looked up in the target.
    - ``where``: SQL filter over the staged rows ``s``.
    - ``returning``: columns of ``t`` returned for every row inserted or updated.

    SQL fragments given as ``str`` are constants written by the caller, never input.
    """
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return Merged()
    target = table_identifier(table)
    stage = sql.Identifier(f"_stage_{table.replace('.', '_')}")
    cols = sql.SQL(", ").join(map(sql.Identifier, columns))
    exprs = exprs or {}
    selected = sql.SQL(", ").join(
        _as_sql(exprs[c]) if c in exprs else sql.Identifier("s", c) for c in columns
    )
    query = sql.SQL("INSERT INTO {target} AS t ({cols}) SELECT {selected} FROM {stage} s").format(
        target=target, cols=cols, selected=selected, stage=stage
    )
    if where is not None:
        query += sql.SQL(" WHERE ") + _as_sql(where)
    query += sql.SQL(" ORDER BY s.{}").format(sql.Identifier(_ORD))
    if key is not None:
        query += sql.SQL(" ON CONFLICT ({}) ").format(sql.SQL(", ").join(map(sql.Identifier, key)))
        if update:
            sets = [
                sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c))
                for c in update
            ]
            if also_set is not None:
                sets.append(_as_sql(also_set))
            query += sql.SQL("DO UPDATE SET ") + sql.SQL(", ").join(sets)
            if update_when is not None:
                query += sql.SQL(" WHERE ") + _as_sql(update_when)
        else:
            query += sql.SQL("DO NOTHING")
    query += sql.SQL(" RETURNING (t.xmax = 0)")
    for column in returning:
        query += sql.SQL(", t.{}").format(sql.Identifier(column))

    with conn.transaction():
        conn.execute(
            sql.SQL(
                "CREATE TEMP TABLE {stage} ON COMMIT DROP AS "
                "SELECT {cols}, 0::bigint AS {ord} FROM {target} WITH NO DATA"
            ).format(stage=stage, cols=cols, ord=sql.Identifier(_ORD), target=target)
        )
        copy_rows(
            conn,
            stage,
            (*columns, _ORD),
            ((*row, index) for index, row in enumerate(itertools.chain((first,), iterator))),
        )
        result = conn.execute(query).fetchall()
        conn.execute(sql.SQL("DROP TABLE {}").format(stage))
    merged = Merged(returned=[row[1:] for row in result])
    merged.inserted = sum(1 for row in result if row[0])
    merged.updated = len(result) - merged.inserted
    return merged
