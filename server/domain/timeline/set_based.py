"""Set-based statements for the sweep's batches (≥ 10k transitions/s), one statement per
table per batch whatever the batch size.

On PostgreSQL the rows travel as one array per column: `id = ANY(:ids)` instead of an IN list of a
thousand parameters (one prepared statement for any batch size, no per-row parameter processing),
and `INSERT ... SELECT FROM unnest(...)` / `UPDATE ... FROM unnest(...)` instead of an executemany
that executes the statement once per row (figures in bench/sweep.py). On SQLite (one process, no
network) the same calls fall back to IN lists and executemany. The unnest statements are built
once per shape and run through the asyncpg driver in the session's transaction (bench/sweep.py).

Values are passed as the driver takes them: timezone-aware datetimes, dicts for JSON columns
(serialized here; `None` is stored as JSON null, like SQLAlchemy's JSON type does).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import ARRAY, Column, Table, any_, bindparam, insert, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import JSON

_PG = postgresql.dialect()


def on_postgres(db: AsyncSession) -> bool:
    return db.bind.dialect.name == "postgresql"


def among(db: AsyncSession, column: Column, values: Iterable[Any]) -> ColumnElement[bool]:
    """`column IN values`: one array parameter on PostgreSQL, an IN list elsewhere."""
    values = list(values)
    if on_postgres(db):
        return column == any_(bindparam(None, values, type_=ARRAY(column.type), unique=True))
    return column.in_(values)


def int_array(values: Iterable[int]) -> str:
    """Integers as PostgreSQL's text form of an array, for `CAST(CAST($n AS text) AS bigint[])`:
    asyncpg checks each element of a list it encodes against two ABCs (~2.5 µs an element), a
    thousand ids per sweep batch; joining their digits costs a few hundred nanoseconds."""
    return "{" + ",".join(map(str, values)) + "}"


def _quote(name: str) -> str:
    return _PG.identifier_preparer.quote(name)


def _is_json(column: Column) -> bool:
    return isinstance(column.type.dialect_impl(_PG), JSON)


def _array_type(column: Column) -> str:
    return "TEXT[]" if _is_json(column) else f"{column.type.compile(dialect=_PG)}[]"


def _unnest(table: Table, names: Sequence[str], rows: Sequence[dict[str, Any]]) -> tuple[str, list[str], list[Any]]:
    """(FROM clause `unnest(...) AS v(...)`, each column's value expression, positional params
    $1, $2, …): one array per column, except that a column with one value in every row (a batch's
    time, actor, action) is one parameter; the first column is always an array. The SQL depends
    only on the table, the columns and which of them are constant: it is built once per shape."""
    params: list[Any] = []
    shape: list[bool] = []
    for i, name in enumerate(names):
        column_values = [row[name] for row in rows]
        if _json_columns(table)[name]:
            dumped: dict[int, str] = {}         # one dict shared by many rows (an email's context) is dumped once
            column_values = [dumped.get(id(value)) or dumped.setdefault(id(value), _dumps(value))
                             for value in column_values]
        constant = bool(i) and column_values.count(column_values[0]) == len(column_values)
        shape.append(constant)
        params.append(column_values[0] if constant else column_values)
    key = (table.name, tuple(names), tuple(shape))
    built = _UNNEST.get(key)
    if built is None:
        arrays: list[str] = []
        values: list[str] = []
        for i, (name, constant) in enumerate(zip(names, shape)):
            column = table.c[name]
            if constant:
                value = f"CAST(${i + 1} AS {_array_type(column)[:-2]})"
            else:
                arrays.append(f"CAST(${i + 1} AS {_array_type(column)})")
                value = f"v.c{len(arrays) - 1}"
            values.append(f"CAST({value} AS JSONB)" if _is_json(column) else value)
        source = f"unnest({', '.join(arrays)}) AS v({', '.join(f'c{i}' for i in range(len(arrays)))})"
        built = _UNNEST[key] = (source, values)
    return built[0], built[1], params


def _dumps(value: Any) -> str:
    """JSON text as json.dumps would give it to JSONB (orjson: a tenth of the CPU)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


_UNNEST: dict[tuple, tuple[str, list[str]]] = {}
_JSON: dict[str, dict[str, bool]] = {}


def _json_columns(table: Table) -> dict[str, bool]:
    found = _JSON.get(table.name)
    if found is None:
        found = _JSON[table.name] = {column.name: _is_json(column) for column in table.c}
    return found


async def driver(db: AsyncSession):
    """The session's asyncpg connection, inside the session's transaction (begun first if it was not:
    SQLAlchemy's adapter begins it lazily, and a statement sent to the driver before that would run
    outside it)."""
    raw = await (await db.connection()).get_raw_connection()
    if getattr(raw.dbapi_connection, "_transaction", None) is None:
        await db.execute(text("SELECT 1"))
    return raw.driver_connection


async def execute(db: AsyncSession, sql: str, params: list[Any]) -> None:
    """Run `sql` ($1, $2, … placeholders) on the session's connection, in its transaction, through
    the asyncpg driver (prepared once by its statement cache, none of SQLAlchemy's per-execution
    parameter processing: a thousand-row array went through it per column)."""
    await (await driver(db)).execute(sql, *params)


async def insert_rows(db: AsyncSession, table: Table, rows: Sequence[dict[str, Any]], *,
                      skip_conflicts_on: str | None = None) -> None:
    """Insert rows (dicts with the same keys) in one statement; with `skip_conflicts_on`, a row whose
    unique column is taken is skipped (ON CONFLICT DO NOTHING), as one statement does on both backends."""
    if not rows:
        return
    if not on_postgres(db):
        stmt = insert(table)
        if skip_conflicts_on is not None:
            stmt = sqlite_insert(table).on_conflict_do_nothing(index_elements=[skip_conflicts_on])
        await db.execute(stmt, list(rows))
        return
    names = list(rows[0])
    source, values, params = _unnest(table, names, rows)
    sql = f"INSERT INTO {table.name} ({', '.join(map(_quote, names))}) SELECT {', '.join(values)} FROM {source}"
    if skip_conflicts_on is not None:
        sql += f" ON CONFLICT ({table.c[skip_conflicts_on].name}) DO NOTHING"
    await execute(db, sql, params)


async def update_rows(db: AsyncSession, table: Table, key: str, rows: Sequence[dict[str, Any]]) -> None:
    """Update each row (dicts with the same keys, `key` naming the row) in one statement."""
    if not rows:
        return
    names = [key, *(name for name in rows[0] if name != key)]
    if not on_postgres(db):
        renamed = [{f"_{name}": row[name] for name in names} for row in rows]
        await db.execute(update(table).where(table.c[key] == bindparam(f"_{key}"))
                         .values({name: bindparam(f"_{name}") for name in names[1:]}), renamed)
        return
    source, values, params = _unnest(table, names, rows)
    assignments = ", ".join(f"{_quote(name)} = {value}" for name, value in zip(names[1:], values[1:]))
    await execute(db, f"UPDATE {table.name} SET {assignments} FROM {source} WHERE {table.name}.{_quote(key)} = v.c0",
                   params)
