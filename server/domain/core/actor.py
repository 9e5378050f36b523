"""Who is acting: the one value every domain function receives to decide and to audit."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from server.enums import Role


class ActorKind(StrEnum):
    ANONYMOUS = "anonymous"
    PARTNER_USER = "partner_user"
    API_TOKEN = "api_token"
    TRIALS_TEAM = "trials_team"
    CUSTOMER_ADMIN = "customer_admin"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    user_id: int | None = None
    partner_id: int | None = None
    roles: frozenset[Role] = field(default_factory=frozenset)
    email: str | None = None
    #: Customer admins act for one customer org.
    customer_id: int | None = None
    customer_user_id: int | None = None
    customer_full_admin: bool = False
    token_id: int | None = None
    locale: str = "en"

    @property
    def label(self) -> str:
        """How the audit trail names the actor."""
        if self.kind is ActorKind.API_TOKEN:
            return f"token:{self.token_id}"
        if self.kind is ActorKind.SYSTEM:
            return "system"
        if self.kind is ActorKind.ANONYMOUS:
            return "anonymous"
        return f"{self.kind.value}:{self.email}"

    @property
    def is_partner(self) -> bool:
        return self.kind in (ActorKind.PARTNER_USER, ActorKind.API_TOKEN) and self.partner_id is not None

    @property
    def is_trials_team(self) -> bool:
        return Role.TRIALS_TEAM in self.roles

    @property
    def is_customer_admin(self) -> bool:
        return self.kind is ActorKind.CUSTOMER_ADMIN

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


ANONYMOUS = Actor(kind=ActorKind.ANONYMOUS)
SYSTEM = Actor(kind=ActorKind.SYSTEM)
