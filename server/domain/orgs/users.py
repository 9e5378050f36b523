"""R-ROLE-02 "manage partner users and roles, API tokens": partner full admins only, within their
own partner (another partner's user or token answers NOT_FOUND, R-ORG-02). API tokens are listed
and revoked through one reach (`tokens_in_reach`): a partner full admin's partner's tokens, a
trials-team user's own tokens (R-ROLE-05 gives that platform role no partner to manage; their
tokens come from `trialdesk token create`), every token for an operator (SYSTEM: `trialdesk token
list/revoke`). The portal's `/settings/tokens`, `revokeApiToken` and the CLI all revoke through
`revoke_api_token`.

Rules written down here (SPEC is silent):
- A partner always keeps at least one active PARTNER_FULL_ADMIN, so nobody locks the partner out
  of its own user management; an admin cannot deactivate themself.
- Invited users get a set-password link (purpose "set-password", 72 hours, single use).
- An API token acts for one user of the partner (default: the admin creating it) with a non-empty
  subset of that user's roles, so a token never holds more than the person it stands for; "own
  customers" (SALES_ADMIN) are that user's; it acts as that user with their current roles among its own
  (server.auth.authenticate). Deactivating the user revokes the token.
- Deactivating a user revokes their sessions and tokens; changing one's password revokes every
  other session of theirs.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, func, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.auth import links, passwords, sessions, tokens
from server.db.models import ApiToken, RoleGrant, User
from server.domain.core import audit
from server.domain.orgs import directory
from server.domain.notifications import outbox
from server.domain.core.actor import Actor, ActorKind
from server.domain.core.errors import DomainError, not_found
from server.domain.notifications.outbox import EmailKind
from server.domain.core.permissions import Action, forbidden, require, scope
from server.enums import ErrorCode, Role
from server.settings import get_settings

PARTNER_ROLES = frozenset(Role) - {Role.TRIALS_TEAM}
SET_PASSWORD_PURPOSE = "set-password"
SET_PASSWORD_MAX_AGE = 72 * 3600
#: Row ids are 64-bit: a larger decoded id matches nothing (and must not reach the driver).
ID_LIMIT = 2**63


def _partner_roles(roles: list[Role]) -> list[Role]:
    chosen = sorted(set(roles))
    if not chosen:
        raise DomainError(ErrorCode.INVALID_INPUT, "Give the user at least one role.", "roles")
    if not set(chosen) <= PARTNER_ROLES:
        raise DomainError(ErrorCode.INVALID_INPUT, "TRIALS_TEAM is a platform role, not a partner role.", "roles")
    return chosen


async def _own_user(db: AsyncSession, actor: Actor, user_id: int | None, *, lock: bool = False) -> User:
    require(actor, Action.MANAGE_USERS)
    user = await db.get(User, user_id, with_for_update=lock) if user_id is not None else None
    if user is None or user.partner_id != actor.partner_id:
        raise not_found("user", "userId")
    return user


async def roles_by_user(db: AsyncSession, user_ids: list[int]) -> dict[int, list[Role]]:
    found: dict[int, list[Role]] = {i: [] for i in user_ids}
    rows = await db.execute(select(RoleGrant.user_id, RoleGrant.role).where(RoleGrant.user_id.in_(user_ids)))
    for user_id, role in rows:
        found[user_id].append(Role(role))
    return {k: sorted(v) for k, v in found.items()}


async def partner_users(db: AsyncSession, actor: Actor) -> list[User]:
    return list(await db.scalars(select(User).where(users_in_reach(actor)).order_by(User.email)))


def users_in_reach(actor: Actor) -> ColumnElement[bool]:
    """The partner's users a full admin manages (R-ROLE-02), as a condition on `users`; FORBIDDEN for
    anyone else."""
    require(actor, Action.MANAGE_USERS)
    return User.partner_id == actor.partner_id


async def partner_user(db: AsyncSession, actor: Actor, user_id: int | None) -> User:
    return await _own_user(db, actor, user_id)


async def _full_admins_left(db: AsyncSession, partner_id: int, without: int) -> int:
    return await db.scalar(select(func.count()).select_from(User).join(RoleGrant, RoleGrant.user_id == User.id)
                           .where(User.partner_id == partner_id, User.active.is_(True), User.id != without,
                                  RoleGrant.role == Role.PARTNER_FULL_ADMIN.value))


async def invite_user(db: AsyncSession, actor: Actor, email: str, roles: list[Role], name: str = "") -> User:
    """A new partner user without a password, and an invitation email with a set-password link."""
    require(actor, Action.MANAGE_USERS)
    user = await directory.create_user(db, email, _partner_roles(roles), partner_id=actor.partner_id,
                                       name=name.strip()[:200], actor=actor)
    settings = get_settings()
    token = links.sign(settings.secret_key, SET_PASSWORD_PURPOSE, {"uid": user.id, "email": user.email})
    await outbox.enqueue(db, EmailKind.INVITE, user.email, f"invite:{user.id}",
                         {"link": f"{settings.base_url.rstrip('/')}/auth/set-password/{token}",
                          "invited_by": actor.email or ""}, locale=user.locale)
    return user


async def update_user_roles(db: AsyncSession, actor: Actor, user_id: int | None, roles: list[Role]) -> User:
    user = await _own_user(db, actor, user_id, lock=True)
    chosen = _partner_roles(roles)
    before = [r.value for r in await directory.roles_of(db, user.id)]
    if Role.PARTNER_FULL_ADMIN not in chosen and not await _full_admins_left(db, user.partner_id, user.id):
        raise DomainError(ErrorCode.INVALID_INPUT, "The partner needs at least one partner full admin.", "roles")
    await db.execute(RoleGrant.__table__.delete().where(RoleGrant.user_id == user.id))
    db.add_all([RoleGrant(user_id=user.id, role=r.value) for r in chosen])
    await db.flush()
    audit.record(db, actor, "user.roles_changed", "User", user.id, before={"roles": before},
                 after={"roles": [r.value for r in chosen]})
    return user


async def deactivate_user(db: AsyncSession, actor: Actor, user_id: int | None) -> User:
    """The user can no longer sign in; their sessions and API tokens stop working now."""
    user = await _own_user(db, actor, user_id, lock=True)
    if user.id == actor.user_id:
        raise DomainError(ErrorCode.INVALID_INPUT, "You cannot deactivate yourself.", "userId")
    if not user.active:
        raise DomainError(ErrorCode.INVALID_STATE, "The user is deactivated already.", "userId")
    user.active = False
    await sessions.revoke_for_user(db, user.id)
    await db.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                     .values(revoked_at=clock.now()))
    audit.record(db, actor, "user.deactivated", "User", user.id, before={"active": True}, after={"active": False})
    return user


def tokens_in_reach(actor: Actor) -> ColumnElement[bool]:
    """The API tokens `actor` may list and revoke, as a condition on `api_tokens`; FORBIDDEN when none."""
    reach = scope(actor, Action.MANAGE_API_TOKENS)
    if reach is None:
        raise forbidden()
    if actor.kind is ActorKind.SYSTEM:
        return true()
    if reach == "own":
        return ApiToken.user_id == actor.user_id
    return ApiToken.partner_id == actor.partner_id


async def api_tokens(db: AsyncSession, actor: Actor, user_id: int | None = None) -> list[ApiToken]:
    """The tokens in the actor's reach, oldest first (revoked ones too); `user_id`: one user's only."""
    query = select(ApiToken).where(tokens_in_reach(actor))
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return list(await db.scalars(query.order_by(ApiToken.id)))


async def create_api_token(db: AsyncSession, actor: Actor, name: str, roles: list[Role],
                           user_id: int | None = None) -> tuple[ApiToken, str]:
    """(row, the secret). The secret is returned once and stored only as a hash."""
    require(actor, Action.MANAGE_USERS)
    user = await _own_user(db, actor, user_id if user_id is not None else actor.user_id)
    if not user.active:
        raise DomainError(ErrorCode.INVALID_STATE, "That user is deactivated.", "userId")
    chosen = _partner_roles(roles)
    if not set(chosen) <= set(await directory.roles_of(db, user.id)):
        raise DomainError(ErrorCode.INVALID_INPUT, "A token may only hold roles its user holds.", "roles")
    if not name.strip():
        raise DomainError(ErrorCode.INVALID_INPUT, "Name the token (what uses it).", "name")
    secret = tokens.new_token()
    row = await directory.create_api_token(db, user, tokens.hash_token(secret), chosen, name.strip()[:200], actor=actor)
    return row, secret


async def revoke_api_token(db: AsyncSession, actor: Actor, token_id: int | None) -> ApiToken:
    """The token stops working now (it is read on every request, server.auth.authenticate). A token
    out of the actor's reach answers NOT_FOUND, as a missing one (R-ORG-02); a revoked one INVALID_STATE."""
    reach = tokens_in_reach(actor)
    row = None
    if token_id is not None and 0 < token_id < ID_LIMIT:
        row = await db.scalar(select(ApiToken).where(ApiToken.id == token_id, reach).with_for_update())
    if row is None:
        raise not_found("API token", "tokenId")
    if row.revoked_at is not None:
        raise DomainError(ErrorCode.INVALID_STATE, "The token is revoked already.", "tokenId")
    row.revoked_at = clock.now()
    audit.record(db, actor, "token.revoked", "ApiToken", row.id, partner_id=row.partner_id, after={"name": row.name})
    return row


async def change_password(db: AsyncSession, actor: Actor, current: str, new: str,
                          keep_session_hash: str | None = None) -> User:
    """A signed-in person changes their own password; their other sessions end."""
    if actor.kind not in (ActorKind.PARTNER_USER, ActorKind.TRIALS_TEAM) or actor.user_id is None \
            or actor.token_id is not None:
        raise DomainError(ErrorCode.FORBIDDEN, "Only a signed-in user can change their password.")
    user = await db.get(User, actor.user_id, with_for_update=True)
    if user is None or not passwords.verify(user.password_hash, current):
        raise DomainError(ErrorCode.INVALID_INPUT, "The current password is wrong.", "currentPassword")
    _set_password(user, new)
    await sessions.revoke_for_user(db, user.id, keep_session_hash=keep_session_hash)
    audit.record(db, actor, "user.password_changed", "User", user.id)
    return user


async def set_password_by_link(db: AsyncSession, token: str, new: str) -> User:
    """An invited user (or one who asked for a reset) sets a password; LinkError for a bad link."""
    payload = links.verify(get_settings().secret_key, SET_PASSWORD_PURPOSE, token, SET_PASSWORD_MAX_AGE)
    user = await db.get(User, payload.get("uid")) if isinstance(payload.get("uid"), int) else None
    if user is None or user.email != payload.get("email") or not user.active:
        raise links.LinkError("invalid")
    _set_password(user, new)
    await links.consume(db, payload["jti"])
    await sessions.revoke_for_user(db, user.id)
    audit.record(db, Actor(kind=ActorKind.PARTNER_USER, user_id=user.id, partner_id=user.partner_id,
                           email=user.email), "user.password_set", "User", user.id)
    return user


def _set_password(user: User, new: str) -> None:
    problem = passwords.policy_error(new)
    if problem:
        raise DomainError(ErrorCode.INVALID_INPUT, problem, "newPassword")
    user.password_hash = passwords.hash_password(new)
    user.password_changed_at = clock.now()


async def email_of(db: AsyncSession, user_id: int) -> str | None:
    """A user's email (an API token's owner, as `apiTokens` shows it)."""
    return await db.scalar(select(User.email).where(User.id == user_id))
