"""How the devices and calling mutations answer: one domain call in one unit of work, the row
turned into its GraphQL type, DomainErrors into userErrors (FORBIDDEN is also logged, R-ROLE-02)."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from strawberry.types import Info

from server.domain import audit
from server.domain.errors import DomainError
from server.enums import ErrorCode
from server.schema.errors import user_errors

P = TypeVar("P")


async def answer(info: Info, operation: str, payload_type: type[P], key: str,
                 call: Callable[[Any], Awaitable[Any]], to_type: Callable[[Any], Any]) -> P:
    context = info.context
    try:
        async with context.unit_of_work() as db:
            result = to_type(await call(db))
    except DomainError as error:
        if error.code is ErrorCode.FORBIDDEN:
            await audit.denied(context.sessionmaker, context.actor, operation)
        return payload_type(**{key: None, "user_errors": user_errors(error)})
    return payload_type(**{key: result, "user_errors": []})
