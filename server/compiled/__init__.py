"""Compiled stored operations (issue 10): hand-verified SQL executors for hot page documents.

Runners: `CustomersPage` (the customers list, customers_page.py), `CustomerPage` (a customer's
detail page, customer_page.py) and `CustomerHistory` (that page's timeline, customer_history.py).

Mechanism: a compiled runner answers ONE stored document (`web/operations/<Name>.graphql`), pinned
by the SHA-256 of its text. It reads the whole response in one SQL statement (PostgreSQL JSON
aggregation, WHERE clauses taken from the domain's own scope and filter builders) and shapes it with
the same domain functions the reference path calls (derived statuses, cursors, global IDs). There is
no general selection compiler: the equivalence test (tests/test_compiled_equivalence.py) proves each
runner against field-by-field Strawberry execution, which stays the reference path for everything.

A runner returns the response's `data`, or None to hand the request to the reference path (inputs it
does not handle, errors to report). Registration happens at start-up (`server.app`), on PostgreSQL
only, and only for documents whose text still has the pinned hash: an edited document silently falls
back to the reference path (and the equivalence test fails until the runner is re-verified).
Pages never import this package: `run_operation` consults `app.state.compiled_operations`.
"""
from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from server.db.engine import read_connection
from server.schema.context import Context
from server.schema.node import to_global_id

Runner = Callable[[Any, dict[str, Any]], Awaitable[dict[str, Any] | None]]


#: `to_global_id`, remembered: the same rows come back page after page (~3 µs saved per ID).
global_id = lru_cache(maxsize=1 << 14)(to_global_id)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def runners() -> dict[str, tuple[str, Runner]]:
    """Operation name → (pinned SHA-256 of the document text, runner)."""
    from server.compiled import customer_history, customer_page, customers_page

    return {"CustomersPage": (customers_page.DOCUMENT_SHA256, customers_page.run),
            "CustomerPage": (customer_page.DOCUMENT_SHA256, customer_page.run),
            "CustomerHistory": (customer_history.DOCUMENT_SHA256, customer_history.run)}


class Prepared:
    """A runner's statement kept for the life of its cache entry, with its SQL text compiled once for
    the engine's dialect (`text`: SQL, parameter names in order, bound values) on first execution."""

    __slots__ = ("statement", "text")

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self.text: tuple[str, list[str], dict[str, Any]] | None = None


def _text(statement: Any, dialect: Any) -> tuple[str, list[str], dict[str, Any]] | None:
    """SQL for the driver as is: numbered parameters, none needing a bind processor or expansion."""
    compiled = statement.compile(dialect=dialect)
    if (dialect.paramstyle != "numeric_dollar" or compiled._bind_processors or "POSTCOMPILE" in compiled.string
            or compiled.positiontup is None):
        return None
    return compiled.string, list(compiled.positiontup), compiled.construct_params(_check=False)


@dataclass
class Reading(Context):
    """A runner's context holding an asyncpg connection of the read pool: the one the caller checked
    the bearer token on (server.app's `/graphql`), so a request makes one checkout, like the floor."""

    connection: Any = None


async def one_row(context: Any, statement: Any, parameters: dict[str, Any] | None = None) -> Any:
    """The statement's one row, on a connection of the request's engine (`context.sessionmaker`).

    A `Prepared` statement goes to the asyncpg driver as SQL text compiled once: on the connection
    the context holds (`Reading`), else on one of the engine's read pool
    (`server.db.engine.read_connection`): SQLAlchemy's Connection and execution step (events,
    compiled-cache lookup, execution context, result processing) cost ~0.45 ms of CPU per call and a
    runner needs none of it, and SQLAlchemy's pool checkout and return through a greenlet ~60 µs
    (bench.customers, bench.compiled_page). Anything the driver raises (a dropped connection, a
    server error), the statement runs again through SQLAlchemy, which handles it like every other
    statement (disconnect detection, pool invalidation). A plain statement (built per call) runs
    through SQLAlchemy. No session, no transaction: one statement, one snapshot."""
    engine = context.sessionmaker.kw.get("bind")
    if engine is None:  # a sessionmaker without one engine: the session's own execution
        return (await (await context.db()).execute(getattr(statement, "statement", statement), parameters)).one()
    if isinstance(statement, Prepared):
        if statement.text is None:
            statement.text = _text(statement.statement, engine.dialect) or ("", [], {})
        sql, names, bound = statement.text
        statement = statement.statement
        if sql:
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


def for_app(dialect: str, operations: dict[str, str]) -> dict[str, Runner]:
    """The runners to use for the stored `operations` (name → text) on a `dialect` engine."""
    if dialect != "postgresql":
        return {}  # the embedded default (SQLite) keeps the reference path
    return {name: run for name, (pinned, run) in runners().items()
            if name in operations and sha256(operations[name]) == pinned}
