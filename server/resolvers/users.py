"""Partner users, roles, API tokens and one's own password (R-ROLE-02). Thin: one domain call each;
FORBIDDEN answers are also written to the audit trail."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from server import loaders
from server.db.models import ApiToken as ApiTokenRow
from server.db.models import User
from server.planner import declare as plan
from server.planner import roots
from server.domain.orgs import users
from server.domain.core.errors import DomainError
from server.enums import ErrorCode
from server.schema.enums import Role
from server.resolvers.answer import attempt, audit_denied
from server.schema.node import decode_id
from server.schema.permissions import IsAuthenticated
from server.schema.types.users import ApiToken, ApiTokenPayload, ChangePasswordPayload, PartnerUser, PartnerUserPayload

AUTH = [IsAuthenticated]


async def query_error(context, error: DomainError, operation: str) -> GraphQLError:
    """How these queries answer a DomainError (they have no userErrors): a PermissionError, answered
    with code FORBIDDEN whatever the error (server.graphql_http's `_error_json`); a FORBIDDEN is audited
    (R-ROLE-02). The resolvers' (`_query`) and the read planner's (`plan.root(..., refusal=)`)."""
    if error.code is ErrorCode.FORBIDDEN:
        await audit_denied(context, operation)
    return GraphQLError(error.message, original_error=PermissionError(error.message))


async def _query(info: Info, operation: str, call: Callable[[Any], Awaitable[Any]]) -> Any:
    """Queries have no userErrors: a denial is a GraphQL error with code FORBIDDEN. The read session
    one field at a time (sibling root fields resolve concurrently)."""
    try:
        async with loaders.read(info.context) as db:
            return await call(db)
    except DomainError as error:
        raise (await query_error(info.context, error, operation)).original_error from None


async def _user_out(db, user) -> PartnerUser:
    roles = (await users.roles_by_user(db, [user.id]))[user.id]
    return PartnerUser.from_row(user, roles)


async def _token_out(db, row) -> ApiToken:
    email = await users.email_of(db, row.user_id) if row.user_id else None
    return ApiToken.from_row(row, email)


@strawberry.type
class UserQuery:
    @strawberry.field(permission_classes=AUTH, description="R-ROLE-02: partner full admins only.")
    async def partner_users(self, info: Info) -> list[PartnerUser]:
        async def call(db):
            rows = await users.partner_users(db, info.context.actor)
            roles = await users.roles_by_user(db, [r.id for r in rows])
            return [PartnerUser.from_row(r, roles[r.id]) for r in rows]
        return await _query(info, "partnerUsers", call)

    @strawberry.field(permission_classes=AUTH, description="R-ROLE-02: a partner full admin sees their partner's "
                      "tokens, a trials-team user their own; revoked ones too.")
    async def api_tokens(self, info: Info) -> list[ApiToken]:
        async def call(db):
            return [await _token_out(db, row) for row in await users.api_tokens(db, info.context.actor)]
        return await _query(info, "apiTokens", call)


@strawberry.type
class UserMutation:
    @strawberry.mutation(permission_classes=AUTH, description="Adds a partner user and emails a set-password link.")
    async def invite_user(self, info: Info, email: str, roles: list[Role], name: str = "") -> PartnerUserPayload:
        async def call(db):
            return await _user_out(db, await users.invite_user(db, info.context.actor, email, roles, name))
        user, errors = await attempt(info, "inviteUser", call)
        return PartnerUserPayload(user=user, user_errors=errors)

    @strawberry.mutation(permission_classes=AUTH)
    async def update_user_roles(self, info: Info, user_id: strawberry.ID, roles: list[Role]) -> PartnerUserPayload:
        async def call(db):
            pk = decode_id(str(user_id), "PartnerUser")
            return await _user_out(db, await users.update_user_roles(db, info.context.actor, pk, roles))
        user, errors = await attempt(info, "updateUserRoles", call)
        return PartnerUserPayload(user=user, user_errors=errors)

    @strawberry.mutation(permission_classes=AUTH, description="Ends the user's sessions and API tokens now.")
    async def deactivate_user(self, info: Info, user_id: strawberry.ID) -> PartnerUserPayload:
        async def call(db):
            pk = decode_id(str(user_id), "PartnerUser")
            return await _user_out(db, await users.deactivate_user(db, info.context.actor, pk))
        user, errors = await attempt(info, "deactivateUser", call)
        return PartnerUserPayload(user=user, user_errors=errors)

    @strawberry.mutation(permission_classes=AUTH,
                         description="A token for a user of your partner (default: you) with a subset of their roles.")
    async def create_api_token(self, info: Info, name: str, roles: list[Role],
                               user_id: strawberry.ID | None = None) -> ApiTokenPayload:
        async def call(db):
            pk = decode_id(str(user_id), "PartnerUser") if user_id is not None else None
            if user_id is not None and pk is None:
                pk = -1  # malformed: answered NOT_FOUND by the domain
            row, secret = await users.create_api_token(db, info.context.actor, name, roles, pk)
            return await _token_out(db, row), secret
        result, errors = await attempt(info, "createApiToken", call)
        token, secret = result or (None, None)
        return ApiTokenPayload(api_token=token, token=secret, user_errors=errors)

    @strawberry.mutation(permission_classes=AUTH,
                         description="The token stops working now. A partner full admin revokes their partner's "
                                     "tokens, a trials-team user their own.")
    async def revoke_api_token(self, info: Info, token_id: strawberry.ID) -> ApiTokenPayload:
        async def call(db):
            row = await users.revoke_api_token(db, info.context.actor, decode_id(str(token_id), "ApiToken"))
            return await _token_out(db, row)
        token, errors = await attempt(info, "revokeApiToken", call)
        return ApiTokenPayload(api_token=token, token=None, user_errors=errors)

    @strawberry.mutation(permission_classes=AUTH, description="Your own password; your other sessions end.")
    async def change_password(self, info: Info, current_password: str, new_password: str) -> ChangePasswordPayload:
        keep = getattr(info.context.request.state, "session_hash", None) if info.context.request else None

        async def call(db):
            return await users.change_password(db, info.context.actor, current_password, new_password, keep)
        _, errors = await attempt(info, "changePassword", call)
        return ChangePasswordPayload(ok=not errors, user_errors=errors)


# What the planner reads for these fields (server.planner): the domain's reach; a FORBIDDEN (raised by the
# condition) is answered and audited as the resolver above does (`query_error`).
plan.root("partnerUsers", roots.RowList("PartnerUser", User, order=lambda user: [user.c.email],
                                        condition=lambda actor, user, bound: users.users_in_reach(actor)),
          refusal=query_error)
plan.root("apiTokens", roots.RowList("ApiToken", ApiTokenRow, order=lambda token: [token.c.id],
                                     condition=lambda actor, token, bound: users.tokens_in_reach(actor)),
          refusal=query_error)
