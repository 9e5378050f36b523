"""How resolvers answer a DomainError, said once: a mutation's as its userErrors (`refused`), a query's as
a GraphQL error carrying the code and field (`as_graphql_error`); a FORBIDDEN is also audited apart
(R-ROLE-02). And how mutations answer: one domain call in one unit of work, the row turned into its
GraphQL type."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from graphql import GraphQLError
from strawberry.types import Info

from server.domain.core import audit
from server.domain.core.actor import Actor
from server.domain.core.errors import DomainError
from server.enums import ErrorCode
from server.schema.errors import user_errors

P = TypeVar("P")


async def audit_denied(context, operation: str, actor: Actor | None = None) -> None:
    """R-ROLE-02: a denial is logged, in its own transaction (the request's read session does not hold
    it up: on SQLite it begins DEFERRED, server.db.engine.read_session). Nothing is written in the name
    of an actor not confirmed yet (the read planner's guess of a bearer token's actor that the token no
    longer gives: that answer is dropped and the request runs again)."""
    if not await context.actor_confirmed():
        return
    await audit.denied(context.write_sessionmaker or context.sessionmaker, actor or context.actor, operation)


async def refused(context, operation: str, error: DomainError, actor: Actor | None = None) -> list:
    """A mutation's DomainError as its userErrors (SPEC §9); a FORBIDDEN is also audited (R-ROLE-02)."""
    if error.code is ErrorCode.FORBIDDEN:
        await audit_denied(context, operation, actor)
    return user_errors(error)


async def graphql_error(context, error: DomainError, operation: str) -> GraphQLError:
    """A query's DomainError as a GraphQL error carrying the code and field (a FORBIDDEN is audited,
    R-ROLE-02): the resolvers' (`as_graphql_error`) and the read planner's (server.planner.refusals)."""
    if error.code is ErrorCode.FORBIDDEN:
        await audit_denied(context, operation)
    return GraphQLError(error.message, extensions={"code": error.code.value, "field": error.field})


async def as_graphql_error(info: Info, error: DomainError, operation: str) -> GraphQLError:
    """A query's DomainError as a GraphQL error carrying the code and field (a FORBIDDEN is audited)."""
    return await graphql_error(info.context, error, operation)


async def attempt(info: Info, operation: str, call: Callable[[Any], Awaitable[Any]]) -> tuple[Any, list]:
    """Run `call(db)` in one unit of work: (result, []) or, on a DomainError, (None, userErrors).
    Nothing is written on error (the transaction rolls back); a FORBIDDEN is audited apart."""
    return await attempt_in(info.context, operation, call)


async def attempt_in(context, operation: str, call: Callable[[Any], Awaitable[Any]]) -> tuple[Any, list]:
    """`attempt` on a request's context (the read planner's too: server.planner.calls)."""
    try:
        async with context.unit_of_work() as db:
            return await call(db), []
    except DomainError as error:
        return None, await refused(context, operation, error)


async def answer(info: Info, operation: str, payload_type: type[P], key: str,
                 call: Callable[[Any], Awaitable[Any]], to_type: Callable[[Any], Any]) -> P:
    """`attempt()` with the result turned into its GraphQL type under `key` of the payload."""
    result, errors = await attempt(info, operation, lambda db: _typed(db, call, to_type))
    return payload_type(**{key: result, "user_errors": errors})


async def _typed(db, call, to_type):
    return to_type(await call(db))
