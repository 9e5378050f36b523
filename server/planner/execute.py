"""The planner's one statement on the read pool: `one_row`, `Prepared`, `Reading`: SQL text compiled
once per cached statement (its text depends only on the query's shape; argument values, the moment
and cursors are numbered parameters) and sent to the asyncpg driver, which prepares it once per
connection, on the connection the endpoint checked the bearer token on (one checkout per request,
like the floor)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.db.engine import read_connection
from server.schema.context import Context


class Prepared:
    """The planner's statement kept for the life of its cache entry, with its SQL text compiled once for
    the engine's dialect (`text`: a `Text`, or None when the driver cannot take it as is) on first
    execution."""

    __slots__ = ("statement", "text")

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self.text: Text | None | bool = False  # False: not compiled yet


@dataclass(frozen=True)
class Text:
    """SQL for the driver as is: `sql` with numbered parameters, `names` the parameter of each number,
    `bound` the values fixed when the statement was built (processed for the driver), `processors`
    the bind processors of the parameters bound per call (a UTC timestamp's)."""
    sql: str
    names: tuple[str, ...]
    bound: dict[str, Any]
    processors: dict[str, Any]

    def arguments(self, parameters: dict[str, Any] | None) -> list[Any]:
        values = self.bound
        if parameters:
            processors = self.processors
            values = {**values, **{name: processors[name](value) if name in processors else value
                                   for name, value in parameters.items()}}
        return [values[name] for name in self.names]


def _text(statement: Any, dialect: Any) -> Text | None:
    """The statement's `Text` for the asyncpg driver, or None (another dialect; a parameter neither
    fixed nor named).

    An `IN (…)` of values fixed when the statement was built (a scope builder's
    `Trial.state.in_([...])`) is an expanding parameter SQLAlchemy renders per execution; it is
    expanded here once, into one numbered parameter per value. Parameters bound per call
    (`Root.read`) keep their names; their values are processed at each call like SQLAlchemy would."""
    compiled = statement.compile(dialect=dialect)
    if dialect.paramstyle != "numeric_dollar" or compiled.positiontup is None:
        return None
    processors = dict(compiled._bind_processors)
    if "POSTCOMPILE" in compiled.string:
        if set(processors) & {b.key for b in compiled.binds.values() if b.expanding}:
            return None
        expanded = compiled.construct_expanded_state(compiled.construct_params(_check=False))
        sql, names, bound = expanded.statement, tuple(expanded.positiontup), dict(expanded.parameters)
    else:
        sql, names, bound = compiled.string, tuple(compiled.positiontup), compiled.construct_params(_check=False)
    per_call = {bind.key for bind in compiled.binds.values() if bind.required}
    fixed = {name: processors[name](value) if name in processors else value
             for name, value in bound.items() if name not in per_call}
    return Text(sql, names, fixed, processors)


@dataclass
class Reading(Context):
    """The planner's context holding an asyncpg connection of the read pool: the one the caller checked
    the bearer token on (server.app's `/graphql`), so a request makes one checkout, like the floor.
    `token`: the request's bearer token to read in the statement itself (server.auth.authenticate's
    `TokenCheck`: one round trip), when `actor` is the actor it gave last time."""

    connection: Any = None
    token: Any = None

    async def actor_confirmed(self) -> bool:
        """With a bearer token read in the statement (`token`), `actor` is the actor the token gave last
        time, a guess until its row is checked: checked here (its row read with the statement, else read
        now; server.auth.middleware.graphql_actor, which keeps the answer for the request), so a call root
        (server.planner.calls) never writes in the name of a revoked token's actor."""
        if self.token is None:
            return True
        from server.auth.middleware import graphql_actor

        return await graphql_actor(self.request, self.connection, self.token) == self.token.guess


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
        if statement.text is False:
            statement.text = _text(statement.statement, engine.dialect)
        text, statement = statement.text, statement.statement
        if text is not None:
            try:
                arguments = text.arguments(parameters)
                held = getattr(context, "connection", None)
                if held is not None:
                    check = getattr(context, "token", None)
                    if check is not None and not check.read:  # the bearer token's row beside the answer
                        check.row = row = await held.fetchrow(check.with_token(text.sql, len(arguments)), *arguments,
                                                              check.token_hash)
                        return row
                    return await held.fetchrow(text.sql, *arguments)
                async with read_connection(engine) as driver:
                    return await driver.fetchrow(text.sql, *arguments)
            except Exception:  # noqa: BLE001 - SQLAlchemy runs it again below and reports it as usual
                pass
    async with engine.connect() as connection:
        return (await connection.execute(statement, parameters)).one()
