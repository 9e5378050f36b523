"""userErrors and the one `payload()` that maps DomainErrors to them (SPEC §9)."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry

from server.domain.errors import DomainError
from server.schema.enums import ErrorCode


@strawberry.type
class UserError:
    code: ErrorCode
    field: list[str] | None
    message: str


def user_errors(error: DomainError) -> list[UserError]:
    return [UserError(code=e.code, field=e.field, message=e.message) for e in error.errors]


P = TypeVar("P")


async def payload(payload_type: type[P], key: str, call: Callable[[], Awaitable[Any]]) -> P:
    """Await a domain call; its result goes under `key`, its DomainError into userErrors."""
    try:
        result = await call()
    except DomainError as error:
        return payload_type(**{key: None, "user_errors": user_errors(error)})
    return payload_type(**{key: result, "user_errors": []})
