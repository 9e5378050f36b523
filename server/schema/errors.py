"""userErrors: DomainErrors as GraphQL sees them (SPEC §9). Mutations answer through
`server/resolvers/answer.py`."""
from __future__ import annotations

import strawberry

from server.domain.core.errors import DomainError
from server.schema.enums import ErrorCode


@strawberry.type
class UserError:
    code: ErrorCode
    field: list[str] | None
    message: str


def user_errors(error: DomainError) -> list[UserError]:
    return [UserError(code=e.code, field=e.field, message=e.message) for e in error.errors]
