"""Who is calling: bearer token (API clients) or session cookie (portal, customer admins)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from starlette.requests import Request

from server import clock
from server.auth.tokens import hash_token
from server.db.models import ApiToken
from server.domain.actor import ANONYMOUS, Actor, ActorKind
from server.enums import Role

LAST_USED_RESOLUTION = timedelta(minutes=1)


async def actor_from_bearer(sessionmaker, token: str) -> Actor | None:
    async with sessionmaker() as db, db.begin():
        row = await db.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
        if row is None or row.revoked_at is not None:
            return None
        now = clock.now()
        if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
            row.last_used_at = now  # to the minute: a busy integration must not write on every call
        roles = frozenset(Role(r) for r in row.roles)
        if row.partner_id is None and roles == {Role.TRIALS_TEAM}:
            return Actor(kind=ActorKind.TRIALS_TEAM, user_id=row.user_id, roles=roles, token_id=row.id,
                         email=f"token-{row.id}@api")
        return Actor(kind=ActorKind.API_TOKEN, user_id=row.user_id, partner_id=row.partner_id,
                     roles=frozenset(Role(r) for r in row.roles), token_id=row.id,
                     email=f"token-{row.id}@api")


async def authenticate(request: Request) -> Actor:
    """The request's actor, or ANONYMOUS. A bad bearer token is ANONYMOUS too (never an error page)."""
    state = request.app.state
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return await actor_from_bearer(state.sessionmaker, header[7:].strip()) or ANONYMOUS
    return ANONYMOUS
