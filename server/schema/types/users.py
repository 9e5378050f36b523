"""Partner users and API tokens (R-ROLE-02: partner full admins manage them)."""
from __future__ import annotations

from datetime import datetime

import strawberry

from server.db.models import ApiToken as ApiTokenRow
from server.db.models import User
from server.schema.enums import Role
from server.schema.errors import UserError
from server.schema.node import Node, to_global_id


@strawberry.type
class PartnerUser(Node):
    email: str
    name: str
    roles: list[Role]
    active: bool
    created_at: datetime

    @classmethod
    def from_row(cls, row: User, roles) -> "PartnerUser":
        return cls(id=to_global_id("PartnerUser", row.id), email=row.email, name=row.name, roles=list(roles),
                   active=row.active, created_at=row.created_at)


@strawberry.type(description="An API bearer token; the secret itself is shown once, by createApiToken.")
class ApiToken(Node):
    name: str
    roles: list[Role]
    user_email: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, row: ApiTokenRow, user_email: str | None) -> "ApiToken":
        return cls(id=to_global_id("ApiToken", row.id), name=row.name, roles=[Role(r) for r in row.roles], user_email=user_email,
                   created_at=row.created_at, last_used_at=row.last_used_at, revoked_at=row.revoked_at)


@strawberry.type
class PartnerUserPayload:
    user: PartnerUser | None
    user_errors: list[UserError]


@strawberry.type
class ApiTokenPayload:
    api_token: ApiToken | None
    token: str | None = strawberry.field(description="The bearer secret: returned once, never stored in clear.")
    user_errors: list[UserError]


@strawberry.type
class ChangePasswordPayload:
    ok: bool
    user_errors: list[UserError]
