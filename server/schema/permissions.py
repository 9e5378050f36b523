"""Field guard: everything but the catalogs needs a signed-in user or a token (DESIGN contract)."""
from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from server.domain.core.actor import ActorKind


class IsAuthenticated(BasePermission):
    message = "Sign in or send a bearer token."
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info, **kwargs: Any) -> bool:
        return info.context.actor.kind is not ActorKind.ANONYMOUS
