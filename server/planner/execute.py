"""The planner's one statement on the read pool: `one_row`, `Prepared`, `Reading` (issue 10's
machinery, kept): SQL text compiled once per cached statement and sent to the asyncpg driver on the
connection the endpoint checked the bearer token on (one checkout per request, like the floor)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.db.engine import read_connection
from server.schema.context import Context


class Prepared:
    """The planner's statement kept for the life of its cache entry, with its SQL text compiled once for
    the engine's dialect (`text`: SQL, parameter names in order, bound values) on first execution."""

    __slots__ = ("statement", "text")

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self.text: tuple[str, list[str], dict[str, Any], frozenset[str]] | None = None


def _text(statement: Any, dialect: Any) -> tuple[str, list[str], dict[str, Any], frozenset[str]] | None:
    """SQL for the driver as is: numbered parameters, none needing a bind processor.

    An `IN (…)` of values fixed when the statement was built (a scope builder's
    `Trial.state.in_([...])`) is an expanding parameter SQLAlchemy renders per execution; it is
    expanded here once, into one numbered parameter per value. A parameter bound per call
    (`Root.params`) must keep its name in the text: `one_row` checks that, else SQLAlchemy runs it."""
    compiled = statement.compile(dialect=dialect)
    if dialect.paramstyle != "numeric_dollar" or compiled._bind_processors or compiled.positiontup is None:
        return None
    if "POSTCOMPILE" in compiled.string:
        expanded = compiled.construct_expanded_state(compiled.construct_params(_check=False))
        sql, names, bound = expanded.statement, list(expanded.positiontup), dict(expanded.parameters)
    else:
        sql, names, bound = compiled.string, list(compiled.positiontup), compiled.construct_params(_check=False)
    return sql, names, bound, frozenset(names)


@dataclass
class Reading(Context):
    """The planner's context holding an asyncpg connection of the read pool: the one the caller checked
    the bearer token on (server.app's `/graphql`), so a request makes one checkout, like the floor."""

    connection: Any = None


async def one_row(context: Any, statement: Any, parameters: dict[str, Any] | None = None) -> Any:
    """The statement's one row, on a connection of the request's engine (`context.sessionmaker`).

    A `Prepared` statement goes to the asyncpg driver as SQL text compiled once: on the connection
    the context holds (`Reading`), else on one of the engine's read pool
    (`server.db.engine.read_connection`): SQLAlchemy's Connection and execution step (events,
    compiled-cache lookup, execution context, result processing) cost ~0.45 ms of CPU per call and a
    planned statement needs none of it, and SQLAlchemy's pool checkout and return through a greenlet ~60 µs
    (bench.customers, bench.compiled_page). Anything the driver raises (a dropped connection, a
    server error), the statement runs again through SQLAlchemy, which handles it like every other
    statement (disconnect detection, pool invalidation). A plain statement (built per call) runs
    through SQLAlchemy. No session, no transaction: one statement, one snapshot."""
    engine = context.sessionmaker.kw.get("bind")
    if engine is None:  # a sessionmaker without one engine: the session's own execution
        return (await (await context.db()).execute(getattr(statement, "statement", statement), parameters)).one()
    if isinstance(statement, Prepared):
        if statement.text is None:
            statement.text = _text(statement.statement, engine.dialect) or ("", [], {}, frozenset())
        sql, names, bound, known = statement.text
        statement = statement.statement
        if sql and (not parameters or known.issuperset(parameters)):
            values = {**bound, **parameters} if parameters else bound
            try:
                held = getattr(context, "connection", None)
                if held is not None:
                    return await held.fetchrow(sql, *[values[name] for name in names])
                async with read_connection(engine) as driver:
                    return await driver.fetchrow(sql, *[values[name] for name in names])
            except Exception:  # noqa: BLE001 - SQLAlchemy runs it again below and reports it as usual
                pass
    async with engine.connect() as connection:
        return (await connection.execute(statement, parameters)).one()
