"""Partner users and API tokens (R-ROLE-02: partner full admins manage them)."""
from __future__ import annotations

from datetime import datetime

import strawberry

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import aggregate_order_by

from server.db.models import ApiToken as ApiTokenRow
from server.db.models import RoleGrant, User
from server.planner import declare as plan
from server.schema import columns
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
        return cls(**columns.values(cls, row, id=to_global_id("PartnerUser", row.id), roles=list(roles)))


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
        return cls(**columns.values(cls, row, id=to_global_id("ApiToken", row.id), user_email=user_email))


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


# What the planner reads for these types (server.planner): the plain column fields derived from the
# attributes (server.schema.columns); a user's roles and a token's user's email as the resolvers read them.
def _roles_of(user, parent, actor):
    return (select(func.coalesce(func.json_agg(aggregate_order_by(RoleGrant.role, RoleGrant.role.collate("C"))),
                                 text("'[]'::json"))).where(RoleGrant.user_id == user.c.id).scalar_subquery())


def _email_of(token, parent, actor):
    return select(User.email).where(User.id == token.c.user_id).scalar_subquery()


plan.declare(PartnerUser, User, roles=plan.Derived(lambda env, roles: roles, plan.Input(_roles_of)))
plan.declare(ApiToken, ApiTokenRow, userEmail=plan.Derived(lambda env, email: email, plan.Input(_email_of)))
