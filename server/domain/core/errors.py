"""Domain errors: an ErrorCode (the GraphQL enum), a message for people and the input field."""
from __future__ import annotations

from collections.abc import Sequence

from server.enums import ErrorCode


class DomainError(Exception):
    """One or more rule violations. Raised before anything is written, or the transaction rolls back."""

    def __init__(self, code: ErrorCode, message: str, field: str | Sequence[str] | None = None,
                 more: Sequence["DomainError"] = ()):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = [field] if isinstance(field, str) else (list(field) if field else None)
        self.more = list(more)

    @property
    def errors(self) -> list["DomainError"]:
        return [self, *self.more]

    def __repr__(self) -> str:
        return f"DomainError({self.code}, {self.message!r}, field={self.field})"


def raise_all(errors: list[DomainError]) -> None:
    """Raise every collected error at once, so a form can show each next to its field."""
    if errors:
        raise DomainError(errors[0].code, errors[0].message, errors[0].field, more=errors[1:])


def not_found(what: str = "object", field: str | None = None) -> DomainError:
    """Tenant isolation: another partner's object answers exactly like a missing one."""
    return DomainError(ErrorCode.NOT_FOUND, f"No such {what}.", field)
